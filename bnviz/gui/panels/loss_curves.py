"""The plot items of the loss panel: one network's curves, a fast curve for long series, and a
step axis that labels decades in log mode.

Kept apart from :mod:`bnviz.gui.panels.loss` (the panel: layout, ranges, legend, events).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from bnviz.gui import style
from bnviz.gui.panels._view import SAMPLES_PER_PIXEL, clip_and_downsample, part
from bnviz.train.history import RunHistory

RAW_ALPHA = 60
# Validation series get a dot per evaluation while they are short; past this many points the dots
# would hide the line (and cost a scatter rebuild each update), so the line carries on alone.
SYMBOL_LIMIT = 250
DIVERGED_PEN = pg.mkPen(style.DIVERGED_COLOR, width=2)


def _long_curve(plot: pg.PlotItem, **kwargs: Any) -> pg.PlotDataItem:
    """A curve for a long series: drawn clipped to the view and peak-downsampled."""
    item = pg.PlotDataItem(**kwargs)
    plot.addItem(item)
    # After addItem, which hands the item the plot's own (context-menu) settings.
    clip_and_downsample(item)
    return item


class _HotCurve(pg.PlotCurveItem):
    """A curve that changes every frame (raw and smoothed loss), fed by :meth:`set_series`.

    It does what PlotDataItem's clip-to-view and peak downsampling do (the part of the series in
    view, one min/max bucket per pixel column) in a few NumPy calls, without PlotDataItem's
    per-``setData`` overhead, which was the largest cost of a frame in this panel. PlotCurveItem
    has no log mode, so ``log_y`` and ``log_x`` are applied here."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(connect="finite")
        self.vb = plot.getViewBox()
        plot.addItem(self)
        self.series = (np.empty(0), np.empty(0))
        self.log_y = False
        self.log_x = False

    def set_series(self, x: np.ndarray, y: np.ndarray) -> None:
        self.series = (x, y)
        self.redraw()

    def set_log_y(self, on: bool) -> None:
        if on != self.log_y:
            self.log_y = on
            self.redraw()

    def set_log_x(self, on: bool) -> None:
        if on != self.log_x:
            self.log_x = on
            self.redraw()

    def redraw(self) -> None:
        x, y = self.series
        if self.log_x:  # monotonic: the view range and the decimation work in log10 steps
            keep = x > 0
            x, y = np.log10(x[keep]), y[keep]
        if self.log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(np.where(y > 0, y, np.nan))
        x, y = decimate(x, y, self.vb.viewRange()[0], self.vb.width())
        self.setData(x, y)


def decimate(
    x: np.ndarray, y: np.ndarray, x_range: Sequence[float], pixels: float
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (ascending), ``y`` clipped to ``x_range`` (plus one point either side, so lines
    run to the edges) and peak-downsampled to about :data:`SAMPLES_PER_PIXEL` buckets per pixel
    column, each drawn as its min and max."""
    n = len(x)
    if n > 2:
        i0 = max(int(np.searchsorted(x, x_range[0], "left")) - 1, 0)
        i1 = min(int(np.searchsorted(x, x_range[1], "right")) + 1, n)
        x, y = x[i0:i1], y[i0:i1]
        n = len(x)
    k = int(n // max(pixels * SAMPLES_PER_PIXEL, 1.0))  # samples per bucket
    if k < 2:
        return x, y
    m = n // k * k
    ys = y[:m].reshape(-1, k)
    xd = np.repeat(x[:m:k], 2)
    yd = np.empty(2 * (m // k))
    yd[0::2], yd[1::2] = ys.min(axis=1), ys.max(axis=1)
    return np.concatenate([xd, x[m:]]), np.concatenate([yd, y[m:]])


class StepAxis(pg.AxisItem):
    """A step axis whose log mode puts the labels on the decades (1, 10, 100 ...) and leaves
    the ticks between them bare: pyqtgraph labels 2·10^1, 3·10^1 ... too, which run together."""

    def logTickValues(
        self, minVal: float, maxVal: float, size: float, stdTicks: list
    ) -> list[tuple[float | None, list[float]]]:
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        decades = [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)]
        minor = sorted({float(v) for _, values in ticks for v in values} - set(decades))
        return [(1.0, decades), (None, minor)]


def step_pos(step: float, log_x: bool) -> float:
    """Where step ``step`` is on the x axis (log10 units on a log axis, step 0 at step 1)."""
    return float(np.log10(max(step, 1.0))) if log_x else float(step)


class RunCurves:
    """The plot items of one network, made once and fed with ``setData``."""

    def __init__(self, loss_plot: pg.PlotItem, acc_plot: pg.PlotItem) -> None:
        self.raw = _HotCurve(loss_plot)
        self.smoothed = _HotCurve(loss_plot)
        self.val = _long_curve(loss_plot, symbol="o", symbolSize=6)
        self.acc = _long_curve(acc_plot, symbol="o", symbolSize=6)
        self.raw.setZValue(-1)
        self.diverged = pg.InfiniteLine(
            angle=90,
            pen=DIVERGED_PEN,
            label="",
            labelOpts={
                "position": 0.85,
                "color": style.DIVERGED_COLOR,
                "fill": (255, 255, 255, 220),
                "anchors": [(0, 0.5), (0, 0.5)],
            },
        )
        self.diverged_acc = pg.InfiniteLine(angle=90, pen=DIVERGED_PEN)
        loss_plot.addItem(self.diverged, ignoreBounds=True)
        acc_plot.addItem(self.diverged_acc, ignoreBounds=True)
        self.color: tuple | None = None
        self.keys: dict[str, tuple] = {}
        self.diverged_step: int | None = None
        self.log_x = False
        self.clear()

    def items(self) -> tuple:
        return (self.raw, self.smoothed, self.val, self.acc)

    def set_color(self, color: tuple[int, int, int]) -> None:
        if color == self.color:
            return
        self.color = color
        self.raw.setPen(pg.mkPen((*color, RAW_ALPHA), width=1))
        self.smoothed.setPen(pg.mkPen(color, width=2))
        for item in (self.val, self.acc):
            item.setPen(pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine))
            item.setSymbolBrush(color)
            item.setSymbolPen(pg.mkPen("k", width=0.5))

    def hot(self) -> tuple:
        return (self.raw, self.smoothed)

    def clear(self) -> None:
        for item in self.items():
            if isinstance(item, _HotCurve):
                item.set_series(np.empty(0), np.empty(0))
            else:
                item.setData([], [])
        self.keys.clear()
        self.diverged_step = None
        self.diverged.setValue(0)
        self.diverged.setVisible(False)
        self.diverged_acc.setVisible(False)

    def set_visible(self, visible: bool) -> None:
        for item in self.items():
            if item.isVisible() != visible:
                item.setVisible(visible)
        if not visible:
            self.diverged.setVisible(False)
            self.diverged_acc.setVisible(False)

    def update(
        self,
        history: RunHistory,
        label: str,
        span: tuple[float, float] = (-np.inf, np.inf),
        last: bool = True,
    ) -> None:
        """Show the steps of ``history`` in ``span``; ``last``: the segment that goes on (and
        carries the divergence mark)."""
        for name, series in (
            ("raw", history.loss),
            ("smoothed", history.smoothed),
            ("val", history.val_loss),
            ("acc", history.val_acc),
        ):
            n = len(series)
            # Steps only grow, so (length, last step) changes whenever the series does.
            key = (n, float(series.x[-1]) if n else None, span)
            if self.keys.get(name) != key:
                self.keys[name] = key
                item = getattr(self, name)
                x, y = part(series, span)
                if name in ("val", "acc"):
                    item.setSymbol("o" if len(x) <= SYMBOL_LIMIT else None)
                    item.setData(x, y)
                else:
                    item.set_series(x, y)
        step = history.diverged_step if last else None
        if self.diverged.isVisible() != (step is not None):
            self.diverged.setVisible(step is not None)
            self.diverged_acc.setVisible(step is not None)
        if step is not None and self.diverged_step != step:
            self.diverged_step = step
            self.place_lines(self.log_x)
            self.diverged.label.setFormat(f"{label} diverged at step {step}")

    def place_lines(self, log_x: bool) -> None:
        """The divergence marks at their step, in log10 units on a log step axis."""
        self.log_x = log_x
        if self.diverged_step is not None:
            pos = step_pos(self.diverged_step, log_x)
            self.diverged.setValue(pos)
            self.diverged_acc.setValue(pos)
