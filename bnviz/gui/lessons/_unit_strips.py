"""One network's column in the neuron inspector: the unit's z, z_norm, z_tilde and a over the
mini-batch as strips of dots (one per example, jittered up and down so they do not hide each
other), with mu and mu +/- sigma marked on z, and the numbers underneath.

z and z_tilde share one x axis, so the "shift b" slider shows z move while z_tilde stays put;
the axes follow the data in steps (:class:`~bnviz.gui.panels._view.SteadyRange`), not every
frame, for the same reason.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bnviz.gui import style
from bnviz.gui.panels._view import SteadyRange, cache_axes, finite_span
from bnviz.gui.plot_pool import add_plot
from bnviz.lessons.bn_inside import UnitView

# (field, axis label): top to bottom, in the order BN computes them
ROWS = (("z", "z"), ("z_norm", "z_norm"), ("z_tilde", "z\u0303"), ("a", "a = g(z\u0303)"))
JITTER = 0.35
DOT_SIZE = 5
MU_PEN = pg.mkPen((40, 40, 40), width=1)
SIGMA_PEN = pg.mkPen((40, 40, 40), width=1, style=Qt.PenStyle.DashLine)


def _num(x: float) -> str:
    if abs(x) < 5e-6:  # float32 rounding of a zero mean
        return "0"
    return f"{x:.3g}" if math.isfinite(x) and abs(x) < 1e4 else f"{x:.2e}"


def jitter(m: int) -> np.ndarray:
    """Fixed vertical offsets for m dots (the same every frame, so the dots do not dance)."""
    return np.random.default_rng(m).uniform(-JITTER, JITTER, m)


def numbers(u: UnitView, bias: float) -> str:
    """The unit's statistics as rich text: what BN computed and what came out."""

    def ms(a: np.ndarray) -> str:
        return f"mean {_num(float(a.mean()))}, std {_num(float(a.std()))}"

    sp = "&nbsp;&nbsp;"
    head = f"\u03bc = {_num(u.mu)}{sp}\u03c3\u00b2 = {_num(u.var)}"
    if u.batchnorm:
        assert u.gamma is not None and u.beta is not None
        head += f"{sp}\u03b3 = {_num(u.gamma)}{sp}\u03b2 = {_num(u.beta)}"
    else:
        head += f"{sp}<i>no batch norm: z\u0303 = z</i>"
    if bias:
        head += f"{sp}(b shifted by {bias:+.2f})"
    return (
        f"{head}<br>z: {ms(u.z)}{sp}z_norm: {ms(u.z_norm)}<br>"
        f"z\u0303: {ms(u.z_tilde)}{sp}a: {ms(u.a)}"
    )


class UnitStrips(QWidget):
    """The strips and numbers of one network (``run``), made once and fed with ``show``."""

    def __init__(self, run: str) -> None:
        super().__init__()
        self.run = run
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.numbers = QLabel()
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.numbers.setWordWrap(True)
        self.numbers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.title)
        box.addWidget(self.view, 1)
        box.addWidget(self.numbers)
        self.plots: dict[str, pg.PlotItem] = {}
        self.dots: dict[str, pg.PlotDataItem] = {}
        self.ranges = {"z": SteadyRange(), "z_norm": SteadyRange(), "a": SteadyRange()}
        for row, (name, label) in enumerate(ROWS):
            plot = add_plot(self.view, row=row, col=0)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.enableAutoRange(enable=False)
            plot.setYRange(-0.5, 0.5, padding=0)
            plot.hideAxis("left")
            plot.setLabel("left", label)
            plot.showAxis("left")
            plot.getAxis("left").setStyle(showValues=False)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("left").setWidth(52)
            cache_axes(plot)
            self.plots[name] = plot
            self.dots[name] = plot.plot([], [], pen=None, symbol="o", symbolSize=DOT_SIZE)
        self.plots["z_tilde"].setXLink(self.plots["z"])
        self.lines = {
            "mu": pg.InfiniteLine(angle=90, pen=MU_PEN),
            "lo": pg.InfiniteLine(angle=90, pen=SIGMA_PEN),
            "hi": pg.InfiniteLine(angle=90, pen=SIGMA_PEN),
            "t_mu": pg.InfiniteLine(angle=90, pen=MU_PEN),
        }
        for key in ("mu", "lo", "hi"):
            self.plots["z"].addItem(self.lines[key], ignoreBounds=True)
        self.plots["z_tilde"].addItem(self.lines["t_mu"], ignoreBounds=True)
        for x in (-1.0, 0.0, 1.0):
            pen = MU_PEN if x == 0 else SIGMA_PEN
            self.plots["z_norm"].addItem(pg.InfiniteLine(x, angle=90, pen=pen), ignoreBounds=True)
        self._color: tuple | None = None
        self._text = ""

    def show_result(self, u: UnitView, index: int, bias: float) -> None:
        """Dots and numbers of unit ``u`` (network number ``index`` in the frame, for its
        colour), both from this one result."""
        self.show_unit(u, index)
        self.show_numbers(u, bias)

    def show_unit(self, u: UnitView, index: int) -> None:
        """Draw unit ``u`` (network number ``index`` in the frame, for its colour)."""
        color = style.run_color(u.batchnorm, u.run, index)
        if color != self._color:
            self._color = color
            brush = pg.mkBrush(*color, 150)
            for item in self.dots.values():
                item.setSymbolBrush(brush)
                item.setSymbolPen(None)
        ys = jitter(len(u.z))
        for name, _ in ROWS:
            self.dots[name].setData(getattr(u, name), ys)
        sigma = math.sqrt(max(u.var, 0.0))
        self.lines["mu"].setValue(u.mu)
        self.lines["lo"].setValue(u.mu - sigma)
        self.lines["hi"].setValue(u.mu + sigma)
        self.lines["t_mu"].setValue(float(u.z_tilde.mean()))
        self._fit("z", u.z, u.z_tilde)
        self._fit("z_norm", u.z_norm, np.array([-1.5, 1.5]))
        self._fit("a", u.a)
        label = style.run_label(u.run, u.batchnorm)
        hex_color = "#{:02x}{:02x}{:02x}".format(*color)
        title = f"<b style='color:{hex_color}'>{label}</b>: unit {u.unit} of layer {u.layer}"
        if title != self.title.text():
            self.title.setText(title)

    def show_numbers(self, u: UnitView, bias: float) -> None:
        text = numbers(u, bias)
        if text != self._text:  # relayout only when the words change
            self._text = text
            self.numbers.setText(text)

    def _fit(self, name: str, *arrays: np.ndarray) -> None:
        span = finite_span(*arrays)
        if span is None:
            return
        new = self.ranges[name].fit(*span)
        if new is not None:
            self.plots[name].setXRange(*new, padding=0)

    def reset(self) -> None:
        """A new run or another unit: the axes start afresh."""
        for r in self.ranges.values():
            r.reset()
