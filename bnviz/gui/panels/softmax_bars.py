"""The softmax panel's bars: one example's z, t = e^(z/T) and a = t / sum(t) beside hardmax(z),
and the temperature slider that re-draws them.

The three bar plots are linked: the same classes on the same x, the true class outlined in all
of them. Hardmax sits beside softmax in the bottom plot (hollow bars), so the temperature's
effect reads directly: as T -> 0 the filled bars become the hollow ones, as T grows they flatten
towards 1/C.

Every bar carries its number under it, as the tick label of its plot (z, t, then a over the
class), and a's axis reads ``a = t / sum(t)`` with the sum, so ``t = e^(z - max z)`` and ``a =
t / sum(t)`` can be checked by hand. Numbers drawn over the bars were tried: in the plots'
50 x 100 pixels at 1024 x 640 they covered the bars and each other; the tick row is there
anyway and is laid out by the axis.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from bnviz.gui.panels._view import cache_axes, dark_axes, fit_axis_width
from bnviz.gui.plot_pool import add_plot
from bnviz.lessons.softmax_explained import hardmax
from bnviz.nn.layers import softmax

T_MIN, T_MAX = 0.05, 20.0
T_STEPS = 200  # slider positions over log10(T_MIN)..log10(T_MAX); the middle one is T = 1
HALF_WIDTH = 0.36  # softmax and hardmax bars side by side in one class slot
BAR_WIDTH = 0.7
TRUE_PEN = pg.mkPen("k", width=3)
OTHER_PEN = pg.mkPen((90, 90, 90), width=0.5)
HARDMAX_PEN = pg.mkPen((40, 40, 40), width=1.5, style=Qt.PenStyle.DashLine)
#: Every bar's number up to this many classes; beyond, the true and the predicted class's.
ALL_VALUES_UP_TO = 4


VALUE_FONT = QFont()
VALUE_FONT.setPointSize(7)


def value_text(name: str, v: float) -> str:
    """A bar's number, short enough for a narrow bar and precise enough for a check by hand:
    z to 2 decimals (t = e^(z - max z) from it is good to 1%), t and a to 2 significant
    digits."""
    if not math.isfinite(v):
        return "?"
    if name == "z":
        return f"{v:.2f}"
    if 0 < abs(v) < 1e-3:  # "2e-5", not "1.9e-05" over the next bar's number
        return f"{v:.0e}".replace("e-0", "e-")
    text = f"{v:.2g}"
    return text[1:] if text.startswith("0.") else text  # ".0028": narrow bars


def value_ticks(
    name: str, values: np.ndarray, shown: set[int], names: list[str] | None = None
) -> list[list[tuple[float, str]]]:
    """Tick labels under the bars of plot ``name``: the value of each class in ``shown``
    (another class's slot stays empty), over the class name on the bottom plot."""
    major = []
    for c, v in enumerate(values):
        text = value_text(name, float(v)) if c in shown else ""
        if names is not None:
            text = f"{text}\n{names[c]}" if text else f"\n{names[c]}"
        major.append((float(c), text))
    return [major]


def softmax_steps(z: np.ndarray, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(t, a)`` for logits ``z`` (C,): bars ``t = e^((z - max z) / T)`` and ``a = t / sum(t)``.

    t is drawn shifted by max z, as the softmax computes it: the shift cancels in ``a`` but keeps
    e^z finite. ``t = a / max(a)`` because the largest logit's t is e^0 = 1.
    """
    a = softmax(np.asarray(z, dtype=np.float64), temperature)
    return a / a.max(), a


def slider_temperature(position: int) -> float:
    """Slider position 0..T_STEPS -> T on a log scale from T_MIN to T_MAX (the middle: 1)."""
    lo, hi = math.log10(T_MIN), math.log10(T_MAX)
    r = lo + (hi - lo) * position / T_STEPS
    return 1.0 if abs(r) < 1e-9 else 10.0**r


def temperature_position(temperature: float) -> int:
    """The slider position nearest to ``temperature`` (clipped to T_MIN..T_MAX)."""
    lo, hi = math.log10(T_MIN), math.log10(T_MAX)
    r = math.log10(min(max(temperature, T_MIN), T_MAX))
    return round((r - lo) / (hi - lo) * T_STEPS)


class TemperatureSlider(QWidget):
    """ "T" and a log-scale slider from 0.05 to 20 (default 1), with its value."""

    temperature_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.temperature = 1.0
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, T_STEPS)
        self.slider.setValue(temperature_position(1.0))
        self.slider.setMinimumWidth(60)
        self.slider.setToolTip(
            "Softmax temperature T (log scale, 0.05 to 20): a = softmax(z / T). Small T "
            "sharpens the probabilities towards hardmax, large T flattens them towards 1/C; "
            "argmax a, the prediction, never moves. T = 1 is the network's own softmax."
        )
        self.value = QLabel()
        self.value.setMinimumWidth(52)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("T"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value)
        self.slider.valueChanged.connect(self._moved)
        self._show()

    def set_temperature(self, temperature: float) -> None:
        """Set T exactly (the slider goes to the nearest position without rounding T)."""
        if not (math.isfinite(temperature) and T_MIN <= temperature <= T_MAX):
            raise ValueError(f"temperature must be {T_MIN}..{T_MAX}, got {temperature}")
        self.slider.blockSignals(True)
        self.slider.setValue(temperature_position(temperature))
        self.slider.blockSignals(False)
        self._apply(temperature)

    def _moved(self, position: int) -> None:
        self._apply(slider_temperature(position))

    def _apply(self, temperature: float) -> None:
        if temperature != self.temperature:
            self.temperature = temperature
            self._show()
            self.temperature_changed.emit(temperature)

    def _show(self) -> None:
        self.value.setText(f"= {self.temperature:.3g}")


class SoftmaxBars:
    """The z, t and a/hardmax bar plots in column ``col`` (rows 0-2) of ``layout``."""

    def __init__(self, layout: pg.GraphicsLayout, col: int) -> None:
        self.z_plot = add_plot(layout, row=0, col=col)
        self.t_plot = add_plot(layout, row=1, col=col)
        self.a_plot = add_plot(layout, row=2, col=col)
        self.plots = {"z": self.z_plot, "t": self.t_plot, "a": self.a_plot}
        self.a_plot.setLabel("bottom", "class")
        self.a_plot.getAxis("bottom").setToolTip(
            "The true class's bars have a black outline. Filled: softmax a; dashed, beside "
            "it: hardmax(z), one-hot at the argmax (softmax's limit as T -> 0)."
        )
        self.t_plot.getAxis("left").setToolTip(
            "t = e^((z - max z) / T): shifting every z by the same amount leaves a = t / sum(t) "
            "unchanged and keeps e^z from overflowing, so the largest t is 1."
        )
        self.a_plot.getAxis("left").setToolTip(
            "a = t / sum(t): the softmax probabilities, filled; they sum to 1. Dashed: hardmax."
        )
        self.z_plot.getAxis("left").setToolTip("z: the output layer's scores, one per class.")
        self.bars: dict[str, pg.BarGraphItem] = {}
        for name, plot in (*self.plots.items(), ("hardmax", self.a_plot)):
            if name != "hardmax":
                dark_axes(plot)
                plot.getAxis("left").enableAutoSIPrefix(False)
                plot.setMouseEnabled(x=False, y=False)
                plot.hideButtons()
            width = HALF_WIDTH if name in ("a", "hardmax") else BAR_WIDTH
            self.bars[name] = pg.BarGraphItem(x=[], height=[], width=width)
            plot.addItem(self.bars[name])
        fit_axis_width(*(p.getAxis("left") for p in self.plots.values()), min_width=48)
        self.z_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((0, 0, 0), width=1)))
        for plot in (self.t_plot, self.a_plot):
            plot.setYRange(0.0, 1.08, padding=0)
            plot.enableAutoRange(axis="y", enable=False)
            # three ticks: six were crammed into 40 pixels at 1024 x 640
            plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        for plot in self.plots.values():
            cache_axes(plot)
        self.n_classes = 0
        self.names: list[str] = []
        self._ticks: dict[str, list] = {}
        self._labels: dict[str, str] = {}
        self._sum_t: float | None = None
        self._temperature = 1.0
        for plot in self.plots.values():
            plot.getAxis("bottom").setStyle(tickFont=VALUE_FONT)
        for plot in self.plots.values():
            plot.geometryChanged.connect(self._fit_labels)
        self.set_temperature_label(1.0)

    def set_classes(self, names: list[str], colors: list[tuple[int, int, int]]) -> None:
        """New classes: positions, colours and tick labels; all bars at 0."""
        C = self.n_classes = len(names)
        self.names = list(names)
        x = np.arange(C, dtype=np.float64)
        for name, bars in self.bars.items():
            shift = {"a": -HALF_WIDTH / 2, "hardmax": HALF_WIDTH / 2}.get(name, 0.0)
            brushes = [None] * C if name == "hardmax" else colors
            pens = [HARDMAX_PEN] * C if name == "hardmax" else [OTHER_PEN] * C
            bars.setOpts(x=x + shift, height=np.zeros(C), brushes=brushes, pens=pens)
        for plot in self.plots.values():
            plot.setXRange(-0.6, C - 0.4, padding=0)
        self._clear_values()

    def _clear_values(self) -> None:
        C = self.n_classes
        every = max(1, -(-C // ALL_VALUES_UP_TO))  # class names only: the bar plots are narrow
        zeros = np.zeros(C)
        shown: set[int] = set()
        for name in ("z", "t"):
            self._set_ticks(name, value_ticks(name, zeros, shown))
        names = [n if c % every == 0 else "" for c, n in enumerate(self.names)]
        self._set_ticks("a", value_ticks("a", zeros, shown, names))
        self._set_sum(None)

    def _set_ticks(self, name: str, ticks: list) -> None:
        if ticks != self._ticks.get(name):  # an axis re-lays itself out on every setTicks
            self._ticks[name] = ticks
            self.plots[name].getAxis("bottom").setTicks(ticks)

    def _set_sum(self, sum_t: float | None) -> None:
        """sum(t) in a's axis label (None: no example shown)."""
        self._sum_t = sum_t
        self._fit_labels()

    def set_temperature_label(self, temperature: float) -> None:
        self._temperature = temperature
        self._fit_labels()

    def _fit_labels(self) -> None:
        """Each axis label long where its plot is tall enough to hold it, else its letter (a
        long label in a short plot ran over the labels above and below it)."""
        t = "t = e^z (scaled)" if self._temperature == 1.0 else "t = e^(z/T) (scaled)"
        a = "a = t / sum(t)" if self._sum_t is None else f"a = t / {self._sum_t:.3g} (sum t)"
        labels = {}
        for name, text in (("z", "z (logits)"), ("t", t), ("a", a)):
            axis = self.plots[name].getAxis("left")
            room = axis.geometry().height()
            fits = room <= 0 or QFontMetrics(axis.label.font()).horizontalAdvance(text) <= room
            labels[name] = text if fits else name
        for name, text in labels.items():
            if text != self._labels.get(name):
                self._labels[name] = text
                self.plots[name].setLabel("left", text)
                # pyqtgraph places an axis label in resizeEvent only: a label changed while the
                # axis kept its size stayed where the old one was (a plot lower)
                self.plots[name].getAxis("left").resizeEvent()

    def clear(self) -> None:
        C = self.n_classes
        for name, bars in self.bars.items():
            bars.setOpts(
                height=np.zeros(C), pens=[HARDMAX_PEN if name == "hardmax" else OTHER_PEN] * C
            )
        self.z_plot.setYRange(-1.0, 1.0)
        self._clear_values()

    def show(self, z: np.ndarray, temperature: float, true: int) -> np.ndarray:
        """Draw logits ``z`` (C,) of an example of class ``true`` (-1: unknown) at T; returns a."""
        t, a = softmax_steps(z, temperature)
        if not self.z_plot.getViewBox().autoRangeEnabled()[1]:
            self.z_plot.enableAutoRange(axis="y")
        pens = [TRUE_PEN if c == true else OTHER_PEN for c in range(len(z))]
        self.bars["z"].setOpts(height=z, pens=pens)
        self.bars["t"].setOpts(height=t, pens=pens)
        self.bars["a"].setOpts(height=a, pens=pens)
        self.bars["hardmax"].setOpts(height=hardmax(z))
        C = len(z)
        shown = set(range(C)) if C <= ALL_VALUES_UP_TO else {true, int(np.argmax(z))}
        self._set_ticks("z", value_ticks("z", z, shown))
        self._set_ticks("t", value_ticks("t", t, shown))
        names = [n if c in shown else "" for c, n in enumerate(self.names[:C])]
        self._set_ticks("a", value_ticks("a", a, shown, names))
        self._set_sum(float(t.sum()))
        return a
