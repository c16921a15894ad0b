"""Input widgets that refuse bad input where it is typed.

A :class:`ValidatedField` parses its text when editing finishes; a bad value turns the field
red, reports the reason through ``invalid`` and puts the last good value back, so nothing bad
ever reaches the trainer. :class:`LogSlider` moves a positive value on a log10 scale, the scale
the course says a learning rate lives on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSlider, QSpinBox, QWidget

INVALID_STYLE = "QLineEdit { background: #ffd6d6; }"


class ValidatedField(QLineEdit):
    """A line edit holding one value of a type decided by ``parse`` (text -> value, raising
    ValueError with a message for bad text)."""

    value_changed = Signal(object)
    invalid = Signal(str)

    # The value is whatever ``parse`` makes of the text (a float, an int, a tuple of widths):
    # Any, so each caller reads it as the type its own parse returns.
    def __init__(
        self,
        value: Any,
        parse: Callable[[str], Any],
        fmt: Callable[[Any], str] = str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._parse, self._fmt = parse, fmt
        self._value = value
        self.setText(fmt(value))
        self.editingFinished.connect(self._commit)

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any, emit: bool = False) -> None:
        self._value = value
        self.setText(self._fmt(value))
        self.setStyleSheet("")
        if emit:
            self.value_changed.emit(value)

    def _commit(self) -> None:
        text = self.text().strip()
        if text == self._fmt(self._value):
            self.setStyleSheet("")
            return
        try:
            value = self._parse(text)
        except (ValueError, TypeError, OverflowError) as e:
            self.setStyleSheet(INVALID_STYLE)
            self.invalid.emit(str(e))
            self.setText(self._fmt(self._value))
            return
        self.setStyleSheet("")
        if value != self._value:
            self._value = value
            self.setText(self._fmt(value))
            self.value_changed.emit(value)


_WHOLE = re.compile(r"[+-]?\d+")
_TYPING_WHOLE = re.compile(r"[+-]?\d*")  # "-" on the way to "-5"


class CheckedSpinBox(QSpinBox):
    """A spin box that never clamps silently: a whole number typed out of range is kept until
    editing finishes, then refused with the reason (``refused``) and the last value restored.

    ``check(value)`` raises ValueError with the message a person reads (a registry
    parameter's own check); by default the message names the box's range.
    """

    refused = Signal(str)

    def __init__(self, label: str, lo: int, hi: int,
                 check: Callable[[int], object] | None = None,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.label, self._check = label, check
        self.setRange(lo, hi)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        state = super().validate(text, pos)
        found = state[0] if isinstance(state, tuple) else state
        if found == QValidator.State.Invalid and _TYPING_WHOLE.fullmatch(self._typed(text)):
            return QValidator.State.Intermediate, text, pos  # refused at the end, with a reason
        typed = self._typed(text)
        if found == QValidator.State.Acceptable and self._check and _WHOLE.fullmatch(typed):
            try:  # in range but refused by the check (a batch of 1 with batch norm)
                self._check(int(typed))
            except ValueError:
                return QValidator.State.Intermediate, text, pos
        return state

    def fixup(self, text: str) -> str:
        typed = self._typed(text)
        if _WHOLE.fullmatch(typed):
            self.refused.emit(f"{self._why(int(typed))}; kept {self.value()}")
        return text

    def _typed(self, text: str) -> str:
        text = text.strip()
        for affix in (self.prefix(), self.suffix().strip()):
            text = text.replace(affix, "").strip() if affix else text
        return text

    def _why(self, v: int) -> str:
        if self._check is not None:
            try:
                self._check(v)
            except ValueError as e:
                return str(e)
        return f"{self.label} must be {self.minimum()}..{self.maximum()} here, got {v}"


def fmt_float(v: float) -> str:
    return f"{v:.6g}"


class LogSlider(QWidget):
    """A slider on log10 of a positive value, tied to a :class:`ValidatedField` beside it."""

    value_changed = Signal(float)

    STEPS_PER_DECADE = 20

    def __init__(
        self,
        value: float,
        lo: float,
        hi: float,
        field: ValidatedField,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._lo = math.log10(lo)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        n = round((math.log10(hi) - self._lo) * self.STEPS_PER_DECADE)
        self.slider.setRange(0, n)
        self.field = field
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 3)
        lay.addWidget(field, 2)
        self._set_slider(value)
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderReleased.connect(self._released)
        field.value_changed.connect(self._typed)

    def _set_slider(self, value: float) -> None:
        pos = round((math.log10(value) - self._lo) * self.STEPS_PER_DECADE)
        self.slider.blockSignals(True)
        self.slider.setValue(max(self.slider.minimum(), min(self.slider.maximum(), pos)))
        self.slider.blockSignals(False)

    def _slider_value(self) -> float:
        return float(f"{10 ** (self._lo + self.slider.value() / self.STEPS_PER_DECADE):.3g}")

    def _slid(self) -> None:
        self.field.set_value(self._slider_value())
        if not self.slider.isSliderDown():  # keyboard or click: apply at once
            self.value_changed.emit(self.field.value())

    def _released(self) -> None:
        self.value_changed.emit(self.field.value())

    def _typed(self, value: float) -> None:
        self._set_slider(value)
        self.value_changed.emit(value)

    def set_value(self, value: float) -> None:
        self.field.set_value(value)
        self._set_slider(value)
