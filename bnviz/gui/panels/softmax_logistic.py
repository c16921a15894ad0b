"""The softmax panel's "C = 2 is logistic regression": a_1 = sigmoid(z_1 - z_0).

With two classes the softmax probability of class 1 is the sigmoid of the difference of the
logits, so a 2-class softmax network is logistic regression on z_1 - z_0. Shown twice: as the
picked example's two numbers, and as two overlaid curves along a line through the data (the
``softmax_line`` probe of :mod:`bnviz.lessons.softmax_explained`). At a temperature T both
become softmax(z / T)_1 = sigmoid((z_1 - z_0) / T), still equal.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from bnviz.gui.panels._view import cache_axes
from bnviz.gui.plot_pool import plot_item
from bnviz.lessons.softmax_explained import LineCurves, logistic_check

SOFTMAX_PEN_WIDTH = 5  # wide, under the dashed sigmoid: the two curves visibly coincide
LINE_CHARS = 56  # the longest line of logistic_text, which the panel must show whole
SIGMOID_PEN = pg.mkPen((0, 0, 0), width=1.5, style=Qt.PenStyle.DashLine)


def logistic_numbers(z: np.ndarray, temperature: float = 1.0) -> tuple[float, float]:
    """``(a_1, sigmoid((z_1 - z_0) / T))`` for one example's 2 logits ``z`` (2,)."""
    p1, sig = logistic_check(np.asarray(z, dtype=np.float64)[None, :], temperature)
    return float(p1[0]), float(sig[0])


def logistic_text(a1: float, sig: float, temperature: float) -> str:
    """The numbers as the panel writes them (10 decimals: equal to rounding), on two lines of
    at most :data:`LINE_CHARS` characters: as one line it was cut ("(differer") even at 1920
    pixels, in the softmax panel's width."""
    diff = "z_1 - z_0" if temperature == 1.0 else "(z_1 - z_0) / T"
    return (
        f"C = 2, logistic regression: a_1 = {a1:.10f}\n"
        f"= sigmoid({diff}) = {sig:.10f} (diff. {abs(a1 - sig):.0e})"
    )


class LogisticCurves:
    """Two overlaid curves along the line through the data: softmax a_1 (wide, the class 1
    colour) and sigmoid(z_1 - z_0) (dashed black), in its own plot item."""

    def __init__(self) -> None:
        self.plot = plot_item()
        self.plot.setLabel("bottom", "along the dashed line through the data")
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setPen("k")
            self.plot.getAxis(name).setTextPen("k")
        self.plot.setYRange(-0.02, 1.02, padding=0)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setToolTip(
            "Along a line through the data (its first principal axis): the softmax probability "
            "of class 1 (wide) and the sigmoid of z_1 - z_0 (dashed) lie on top of each other."
        )
        legend = self.plot.addLegend(offset=(4, 4), labelTextSize="8pt")
        self.softmax = self.plot.plot(name="softmax a_1")
        self.sigmoid = self.plot.plot(pen=SIGMOID_PEN, name="sigmoid(z_1 - z_0)")
        legend.setLabelTextColor("k")
        cache_axes(self.plot)
        self.curves: LineCurves | None = None

    def set_color(self, rgb: tuple[int, int, int]) -> None:
        self.softmax.setPen(pg.mkPen(rgb, width=SOFTMAX_PEN_WIDTH))

    def show(self, curves: LineCurves | None, temperature: float) -> None:
        """Draw ``curves`` at temperature T (None: empty)."""
        if curves is None:
            self.curves = None
            self.softmax.setData([], [])
            self.sigmoid.setData([], [])
            return
        if curves.temperature != temperature:
            curves = curves.at(temperature)
        self.curves = curves
        self.softmax.setData(curves.t, curves.softmax_p1)
        self.sigmoid.setData(curves.t, curves.sigmoid_diff)
