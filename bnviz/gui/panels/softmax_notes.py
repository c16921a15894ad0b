"""The softmax panel's lines of text about the picked example: its prediction, its
cross-entropy -log a_y at the temperature shown, and (2 classes) a_1 = sigmoid(z_1 - z_0)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from bnviz.gui.panels.softmax_logistic import logistic_numbers, logistic_text
from bnviz.lessons.softmax_explained import logit_cross_entropy

WAITING = "waiting for the first evaluation"


def loss_text(z: np.ndarray, y: int, temperature: float) -> str:
    """The example's cross-entropy at T, and (T != 1) the one trained on, at T = 1."""
    loss = logit_cross_entropy(z, y, temperature)
    if temperature == 1.0:
        return f"-log a_y = {loss:.4g} at T = 1: the loss trained on"
    trained = logit_cross_entropy(z, y, 1.0)
    return (
        f"-log a_y = {loss:.4g} at T = {temperature:.3g} ({trained:.4g} at T = 1, trained on); "
        "argmax unchanged"
    )


def _label(tooltip: str) -> QLabel:
    label = QLabel()
    label.setToolTip(tooltip)
    # One line each, clipped rather than widening a narrow panel (the tooltip says it all).
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return label


class ExampleNotes(QWidget):
    """``status`` (the prediction, or why there is none), ``loss_label`` and ``logistic_label``
    (shown for 2 classes only); :attr:`logistic` keeps the two numbers last written."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = _label(
            "The prediction is argmax a, the class with the largest softmax probability."
        )
        self.loss_label = _label(
            "The example's cross-entropy -log a_y (y its true class) at the temperature shown. "
            "Training minimizes its mean over a mini-batch at T = 1. T divides every z by the "
            "same number, so the argmax (the prediction, and the borders of the regions) does "
            "not move: a only sharpens (T < 1) or flattens (T > 1)."
        )
        self.logistic_label = _label(
            "With 2 classes, a_1 = e^z_1 / (e^z_0 + e^z_1) = 1 / (1 + e^-(z_1 - z_0)): "
            "softmax is logistic regression on the difference of the logits."
        )
        self.logistic: tuple[float, float] | None = None  # (a_1, sigmoid) of the example
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for label in (self.status, self.loss_label, self.logistic_label):
            layout.addWidget(label)
        self.say(WAITING)

    def set_classes(self, n_classes: int) -> None:
        self.logistic_label.setVisible(n_classes == 2)
        self.say(WAITING)

    def say(self, text: str) -> None:
        """No example to describe: ``text`` says why."""
        self.status.setText(text)
        self.loss_label.clear()
        self.logistic_label.clear()
        self.logistic = None

    def describe(
        self,
        which: str,
        z: np.ndarray,
        a: np.ndarray,
        true: int,
        names: Sequence[str],
        temperature: float,
    ) -> None:
        """Example ``which`` ("validation example #3") with logits z (C,), softmax a at T."""
        k = int(np.argmax(a))
        verdict = "right" if k == true else "wrong"
        truth = names[true] if true >= 0 else "unknown"
        self.status.setText(
            f"{which}: predicted {names[k]} (p={a[k]:.2f}), true {truth} — {verdict}"
        )
        self.loss_label.setText(loss_text(z, true, temperature) if true >= 0 else "")
        self.logistic = None
        self.logistic_label.clear()
        if len(z) == 2:
            self.logistic = logistic_numbers(z, temperature)
            self.logistic_label.setText(logistic_text(*self.logistic, temperature))
