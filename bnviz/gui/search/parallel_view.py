"""Parallel coordinates: one axis per sampled hyperparameter on its sampling scale, and the metric.

Every trial is a polyline across the axes (:mod:`bnviz.search.parallel`), coloured as on the
scatter. Drag along an axis to brush a band on it: only the trials inside every band stay
coloured, and the explorer filters the scatter, the table and the curves to them; a click on an
axis clears its band, a click on a line (within CLICK_PX) selects its trial everywhere, drawn
thick here. The other way round, the scatter's box picks which lines are strong.
Lines are drawn by colour, one item per colour (a few dozen at most), so a thousand trials
redraw with a handful of ``setData`` calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from bnviz.gui import style
from bnviz.gui.search.axes import format_value
from bnviz.gui.search.caption import summary_chart_caption
from bnviz.search.parallel import ParallelData, brushed, nearest_line
from bnviz.search.spaces import Space

GRAB = 0.3  # a drag this close (in axis spacings) to an axis brushes it
CLICK_PX = 6  # a click this close (vertically, in pixels) to a line selects its trial
SELECTED_PEN = pg.mkPen((0, 150, 255), width=3)  # as the scatter's selection ring
FADED = QColor(190, 190, 190, 60)
BAND_BRUSH = pg.mkBrush(30, 120, 220, 60)
AXIS_PEN = pg.mkPen((60, 60, 60), width=1.5)
EMPTY = "No trials yet."
CAPTION = (
    "one axis per sampled hyperparameter on its sampling scale (decades for log, 1 - beta on "
    "log for 1m), then the metric; drag along an axis to keep a band (the scatter, table and "
    "curves follow), click an axis to clear it, click a line to select its trial"
)


class BrushBox(pg.ViewBox):
    """A ViewBox whose left-drag brushes the nearest axis and whose click clears it."""

    def __init__(self) -> None:
        super().__init__(enableMouse=False)
        # called with the axis index, the brushed (lo, hi) or None, and whether it finished
        self.on_brush: Callable[[int, tuple[float, float] | None, bool], None] | None = None
        # called with a click's x, y and tolerance in y units: a click off the axes
        self.on_click: Callable[[float, float, float], None] | None = None
        self.n_axes = 0

    def _axis_at(self, x: float) -> int | None:
        k = int(round(x))
        return k if 0 <= k < self.n_axes and abs(x - k) <= GRAB else None

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:  # noqa: N802 (pyqtgraph's)
        if ev.button() != Qt.MouseButton.LeftButton or self.on_brush is None:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        p0 = self.mapSceneToView(ev.buttonDownScenePos(Qt.MouseButton.LeftButton))
        p1 = self.mapSceneToView(ev.scenePos())
        k = self._axis_at(p0.x())
        if k is not None:
            lo, hi = sorted((min(max(p0.y(), 0.0), 1.0), min(max(p1.y(), 0.0), 1.0)))
            self.on_brush(k, (lo, hi) if hi > lo else None, ev.isFinish())

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802 (pyqtgraph's name)
        p = self.mapSceneToView(ev.scenePos())
        k = self._axis_at(p.x())
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if k is not None and self.on_brush:
            ev.accept()
            self.on_brush(k, None, True)
        elif self.on_click is not None:
            ev.accept()
            self.on_click(p.x(), p.y(), CLICK_PX * abs(self.viewPixelSize()[1]))


class ParallelView(QWidget):
    """The parallel-coordinates tab; emits the ids inside every brush (None: no brush)."""

    brushed_changed = Signal(object)  # set of trial ids, or None
    trial_clicked = Signal(int)  # a click on a line: its trial

    def __init__(self) -> None:
        super().__init__()
        self.box = BrushBox()
        self.box.on_brush = self._brush
        self.box.on_click = self._clicked
        self.view = pg.PlotWidget(viewBox=self.box)
        self.view.setBackground(style.BACKGROUND)
        self.plot = self.view.getPlotItem()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.faded = pg.PlotCurveItem(pen=pg.mkPen(FADED, width=1), connect="finite")
        self.axes_item = pg.PlotDataItem(pen=AXIS_PEN, connect="pairs")
        self.bands = pg.BarGraphItem(x=[0], y0=[0], height=[0], width=0.14, brush=BAND_BRUSH,
                                     pen=None)  # fmt: skip
        self.selected_item = pg.PlotCurveItem(pen=SELECTED_PEN, connect="finite")
        self.selected_id: int | None = None
        for item, z in ((self.faded, 0), (self.axes_item, 5), (self.bands, 6),
                        (self.selected_item, 7)):  # fmt: skip
            item.setZValue(z)
            self.plot.addItem(item)
        self.lines: list[pg.PlotCurveItem] = []  # a pool: one strong item per colour
        self.texts: list[pg.TextItem] = []
        self.data: ParallelData | None = None
        self.brushes: dict[int, tuple[float, float]] = {}
        self.colors: list[QColor] = []
        self.strong_ids: set[int] | None = None  # the scatter's box; None: no box
        self.summary, self.caption = summary_chart_caption(self, self.view, EMPTY, CAPTION)

    # -- data ------------------------------------------------------------------------------------
    def set_data(self, data: ParallelData, colors: list[QColor]) -> None:
        """New trials or axes: redraw the axes and labels, keep the bands on axes still there."""
        names_before = self.data.names if self.data is not None else ()
        self.data, self.colors = data, colors
        if data.names != names_before:
            self.brushes = {}
            self._draw_axes()
        self._draw_lines()

    def set_strong(self, ids: set[int] | None) -> None:
        """The trials drawn coloured besides the brush (the scatter's box); None: all."""
        self.strong_ids = ids
        self._draw_lines()

    def set_selected(self, trial_id: int | None) -> None:
        """Draw ``trial_id``'s line thick (None, or a trial not here: none)."""
        self.selected_id = trial_id
        d = self.data
        if d is None or trial_id is None:
            self.selected_item.setData([], [])
            return
        rows = np.flatnonzero(d.ids == trial_id)
        self.selected_item.setData(*_polylines(d.y[rows[:1]]) if len(rows) else ([], []))

    def _clicked(self, x: float, y: float, tolerance: float) -> None:
        """A click off the axes: the nearest shown line within ``tolerance`` selects its trial."""
        d = self.data
        if d is None:
            return
        keep = self._kept()
        row = nearest_line(np.where(keep[:, None], d.y, np.nan), x, y, tolerance)
        if row is not None:
            self.trial_clicked.emit(int(d.ids[row]))

    def _kept(self) -> np.ndarray:
        """The rows drawn strong: inside every band and, with a box on the scatter, in it."""
        assert self.data is not None
        keep = brushed(self.data.y, self.brushes)
        if self.strong_ids is not None:
            keep &= np.isin(self.data.ids, list(self.strong_ids))
        return keep

    def selected_ids(self) -> set[int] | None:
        """The ids inside every band; None when no axis is brushed."""
        if self.data is None or not self.brushes:
            return None
        return {int(i) for i in self.data.ids[brushed(self.data.y, self.brushes)]}

    # -- drawing ---------------------------------------------------------------------------------
    def _draw_axes(self) -> None:
        for t in self.texts:
            self.plot.removeItem(t)
        self.texts = []
        d = self.data
        assert d is not None
        n = len(d.names)
        self.box.n_axes = n
        xs = np.repeat(np.arange(n, dtype=float), 2)
        self.axes_item.setData(xs, np.tile([0.0, 1.0], n))
        for k, (name, space) in enumerate(zip(d.names, d.spaces)):
            self._text(name if space is None else _title(space), k, 1.04, (0.5, 1), bold=True)
            for y, label in _ends(space, d.metric_range):
                self._text(label, k + 0.04, y, (0, 0.5))
        self.plot.setXRange(-0.3, n - 0.4, padding=0)
        self.plot.setYRange(-0.05, 1.18, padding=0)  # room for two-line titles, classroom too

    def _draw_lines(self) -> None:
        d = self.data
        if d is None:
            return
        keep = self._kept()
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i in np.flatnonzero(keep):
            c = self.colors[i] if i < len(self.colors) else QColor("grey")
            groups.setdefault((c.red() // 16, c.green() // 16, c.blue() // 16), []).append(int(i))
        self.faded.setData(*_polylines(d.y[~keep]))
        while len(self.lines) < len(groups):
            item = pg.PlotCurveItem(connect="finite")
            item.setZValue(2)
            self.plot.addItem(item)
            self.lines.append(item)
        for item, rows in zip(self.lines, groups.values()):
            color = QColor(self.colors[rows[0]])
            color.setAlpha(200)
            item.setPen(pg.mkPen(color, width=1))
            item.setData(*_polylines(d.y[rows]))
            item.show()
        for item in self.lines[len(groups) :]:
            item.setData([], [])
            item.hide()
        ks = sorted(self.brushes)
        lows = [self.brushes[k][0] for k in ks]
        heights = [self.brushes[k][1] - self.brushes[k][0] for k in ks]
        self.bands.setOpts(x=ks or [0], y0=lows or [0], height=heights or [0])
        shown = int(keep.sum())
        what = f"{shown} of {len(d.ids)} trials" if self.brushes or self.strong_ids else ""
        self.summary.setText(f"<b>{len(d.ids)} trials</b>, {len(d.names) - 1} parameters"
                             + (f"; brushed or boxed: {what}" if what else ""))  # fmt: skip
        self.set_selected(self.selected_id)

    def _brush(self, k: int, band: tuple[float, float] | None, finished: bool) -> None:
        if band is None:
            self.brushes.pop(k, None)
        else:
            self.brushes[k] = band
        self._draw_lines()
        if finished:
            self.brushed_changed.emit(self.selected_ids())

    def _text(self, text: str, x: float, y: float, anchor: tuple[float, float],
              bold: bool = False) -> None:  # fmt: skip
        item = pg.TextItem(html=f"<b>{text}</b>" if bold else None, text=None if bold else text,
                           color="k", anchor=anchor)  # fmt: skip
        item.setPos(x, y)
        self.plot.addItem(item)
        self.texts.append(item)


def _polylines(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of one polyline per row of ``y`` (n, d), NaN-separated for connect="finite".

    An axis a trial has no value on (its round did not sample that parameter) is stepped
    over: the line goes straight on to the next axis, so every trial still reaches the metric.
    """
    n, d = y.shape
    xs = np.tile(np.append(np.arange(d, dtype=float), math.nan), n)
    ys = np.hstack([y, np.full((n, 1), math.nan)]).ravel()
    keep = np.isfinite(ys) | np.isnan(xs)  # the values, and one separator per row
    return xs[keep], ys[keep]


def _title(space: Space) -> str:
    """An axis' title on two short lines (neighbouring titles must not touch)."""
    return {"log": f"{space.name}<br>(log)", "1m": f"1 - {space.name}<br>(log)",
            "pow2": f"{space.name}<br>(log2)"}.get(space.kind, space.name)  # fmt: skip


def _ends(space: Space | None, metric_range: tuple[float, float]) -> list[tuple[float, str]]:
    """Labels on an axis: its two ends (in values), or every category by name."""
    if space is None:
        return [(0.0, format_value(metric_range[0])), (1.0, format_value(metric_range[1]))]
    if space.kind == "cat":
        k = max(len(space.choices) - 1, 1)
        return [(i / k, str(c)) for i, c in enumerate(space.choices)]
    lo, hi = space.axis_range
    if space.kind == "1m":
        return [(0.0, format_value(10.0**lo)), (1.0, format_value(10.0**hi))]
    ends = space.from_axis([lo, hi])
    return [(0.0, format_value(float(ends[0]))), (1.0, format_value(float(ends[1])))]
