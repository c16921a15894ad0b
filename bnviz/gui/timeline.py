"""The replay's timeline: a scrubber over the recorded frames with play, pause and speed.

It only says which frame to show (``frame_changed``); :class:`~bnviz.gui.replay.ReplayWindow`
draws it. Playing shows ``FRAMES_PER_S`` x speed frames a second, the rate the live window drew.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

FRAMES_PER_S = 30
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


class Timeline(QWidget):
    """Slider, play/pause and speed over ``steps`` (the step of each frame, in order)."""

    frame_changed = Signal(int)

    def __init__(self, steps: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps = steps
        self._carry = 0.0
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self.set_playing)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, max(0, len(steps) - 1))
        self.slider.setPageStep(max(1, len(steps) // 20))
        self.slider.valueChanged.connect(self._moved)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}x", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.label = QLabel()
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(QLabel("speed"))
        row.addWidget(self.speed)
        row.addWidget(self.label)
        self.timer = QTimer(self, interval=round(1000 / FRAMES_PER_S))
        self.timer.timeout.connect(self._advance)
        self._show_label(0)

    @property
    def index(self) -> int:
        return self.slider.value()

    def go_to(self, i: int) -> None:
        """Show frame ``i`` (clamped to the recording)."""
        self.slider.setValue(max(0, min(i, len(self.steps) - 1)))

    def set_playing(self, on: bool) -> None:
        if on and self.index >= len(self.steps) - 1:
            self.go_to(0)  # play at the end starts again
        self.play_button.blockSignals(True)
        self.play_button.setChecked(on)
        self.play_button.blockSignals(False)
        self.play_button.setText("Pause" if on else "Play")
        self._carry = 0.0
        (self.timer.start if on else self.timer.stop)()

    def _advance(self) -> None:
        self._carry += float(self.speed.currentData())
        frames, self._carry = int(self._carry), self._carry - int(self._carry)
        if frames:
            self.go_to(self.index + frames)
        if self.index >= len(self.steps) - 1:
            self.set_playing(False)

    def _moved(self, i: int) -> None:
        self._show_label(i)
        self.frame_changed.emit(i)

    def _show_label(self, i: int) -> None:
        if self.steps:
            self.label.setText(f"step {self.steps[i]}  (frame {i + 1}/{len(self.steps)})")
