"""The trials on two hyperparameters, coloured by result, with a box to sample in next.

Points sit at axis coordinates (see :mod:`bnviz.gui.search.axes`), so the zoom box is in the
same units ``narrow_spaces`` takes. Left-drag on empty space draws the box (middle-drag pans,
the wheel zooms); dragging the box moves it, its corner handles resize it. Earlier rounds are
faded; complete trials are discs filled by their result, pruned ones dark rings (their result
is partial: it is in the hover text), diverged trials red crosses, failed ones (the worker
raised) grey crosses, a babysat run (the panda's, saved from the live trainer) a large diamond
filled by its result; a legend names the markers present; the best complete trial wears a star.
A group of repeated seeds is one point at its mean with a halo for its spread
(:mod:`bnviz.gui.search.spread`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor

from bnviz.gui import style
from bnviz.gui.search.axes import SpaceAxis, format_value
from bnviz.gui.search.spread import SpreadHalos, halo_text
from bnviz.search.halving import pruned_text
from bnviz.search.points import METRICS, PlotPoints
from bnviz.search.spaces import Space
from bnviz.search.study import TrialRecord, TrialState

HOVER_PX = 10  # how close (in pixels) the mouse must be to a point to pick it
POINT_SIZE = 10
FADE_PER_ROUND = 0.45  # each older round keeps this fraction of the previous one's opacity
MIN_ALPHA = 50
ROI_PEN = pg.mkPen((20, 20, 20), width=2, style=Qt.PenStyle.DashLine)
BEST_PEN = pg.mkPen((0, 0, 0), width=2)
SELECTED_PEN = pg.mkPen((0, 150, 255), width=3)
NO_METRIC_COLOR = (170, 170, 170)  # a complete trial without this metric
PRUNED_COLOR = (40, 40, 40)  # a ring: dark, since a light colour map end vanishes on white
PRUNED_PEN_WIDTH = 2
BABYSAT_SIZE = 18  # the panda's diamond: one run, easy to find among the caviar
HOVER_WRAP = 44  # characters per line of a failed trial's reason in the hover text


class BoxViewBox(pg.ViewBox):
    """A ViewBox on which a left-drag draws a box instead of panning."""

    def __init__(self) -> None:
        super().__init__()
        # called with the box (QRectF in view coordinates) and whether the drag finished
        self.on_box: Callable[[QRectF, bool], None] | None = None

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:  # noqa: N802 (pyqtgraph's)
        if ev.button() != Qt.MouseButton.LeftButton or axis is not None or self.on_box is None:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        p0 = self.mapSceneToView(ev.buttonDownScenePos(Qt.MouseButton.LeftButton))
        p1 = self.mapSceneToView(ev.scenePos())
        self.on_box(QRectF(p0, p1).normalized(), ev.isFinish())


class RowLegend(pg.LegendItem):
    """A legend that lives in a layout row under the plot.

    pyqtgraph's ``LegendItem.updateSize`` (run by every ``addItem`` and ``clear``) sets its
    geometry at (0, 0), expecting to be anchored over a plot; in a layout row that moved it to
    the top left corner, over the trials, each time a result changed the markers present (so
    while a round ran). Here the position is the layout's and only the size changes.
    """

    def updateSize(self) -> None:  # noqa: N802 (pyqtgraph's name)
        pos = self.pos()
        super().updateSize()
        self.setPos(pos)
        self.updateGeometry()  # the layout gives the row the new height


class HparamScatter(pg.GraphicsLayoutWidget):
    """Scatter of trials with a colour bar; emits which trial was clicked and the box."""

    trial_clicked = Signal(int)
    trial_activated = Signal(int)  # double-click: babysit this one
    trial_hovered = Signal(int)  # the trial under the mouse, -1 when none
    box_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setBackground(style.BACKGROUND)
        self.axes = {"bottom": SpaceAxis("bottom"), "left": SpaceAxis("left")}
        self.vb = BoxViewBox()
        self.vb.on_box = self._drawn
        self.plot = self.addPlot(row=0, col=0, viewBox=self.vb, axisItems=self.axes)
        self.plot.showGrid(x=True, y=True, alpha=0.1)
        for ax in self.axes.values():
            ax.setPen("k")
            ax.setTextPen("k")
        viridis = pg.colormap.get("viridis")
        # viridis is yellow at the top: flipped for the loss, so good is yellow either way
        self.cmaps = {
            "val_acc": viridis,
            "val_loss": pg.ColorMap(viridis.pos, viridis.getColors()[::-1]),
        }
        self.colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=viridis, interactive=False, width=14, label="", pen="k"
        )
        self.colorbar.getAxis("right").setTextPen("k")
        self.colorbar.getAxis("right").enableAutoSIPrefix(False)  # 0.45, not "450 (x0.001)"
        self.addItem(self.colorbar, row=0, col=1)
        # Items made once; every update goes through setData.
        self.points = pg.PlotDataItem(pen=None, symbol="o", symbolSize=POINT_SIZE)
        self.pruned = pg.PlotDataItem(
            pen=None, symbol="o", symbolSize=POINT_SIZE,
            symbolPen=pg.mkPen(PRUNED_COLOR, width=PRUNED_PEN_WIDTH), symbolBrush=None,
        )  # fmt: skip
        self.diverged = pg.PlotDataItem(
            pen=None, symbol="x", symbolSize=POINT_SIZE + 2,
            symbolPen=pg.mkPen(style.DIVERGED_COLOR, width=2), symbolBrush=style.DIVERGED_COLOR,
        )  # fmt: skip
        self.failed = pg.PlotDataItem(
            pen=None, symbol="x", symbolSize=POINT_SIZE + 2,
            symbolPen=pg.mkPen(style.FAILED_COLOR, width=2), symbolBrush=style.FAILED_COLOR,
        )  # fmt: skip
        self.babysat = pg.PlotDataItem(
            pen=None, symbol="d", symbolSize=BABYSAT_SIZE, symbolPen=pg.mkPen("k", width=2),
        )  # fmt: skip
        # the marker items by the state they draw (complete trials are self.points)
        self.markers = {
            TrialState.PRUNED: self.pruned,
            TrialState.DIVERGED: self.diverged,
            TrialState.FAILED: self.failed,
        }
        self.best = pg.PlotDataItem(
            pen=None, symbol="star", symbolSize=22, symbolPen=BEST_PEN, symbolBrush=None
        )
        self.selected = pg.PlotDataItem(
            pen=None, symbol="o", symbolSize=20, symbolPen=SELECTED_PEN, symbolBrush=None
        )
        self.halos = SpreadHalos()  # groups of repeats: sd over seeds, behind their points
        for item in (self.halos, self.points, *self.markers.values(), self.babysat, self.best,
                     self.selected):  # fmt: skip
            self.plot.addItem(item)
        # The babysat diamond on top of the best-trial star (larger, so its points show round
        # the diamond when the panda's run is the best): the run the message points at is seen.
        self.babysat.setZValue(2)
        self.best.setZValue(1)
        # a row under the plot, not inside it: a legend there would hide the trials under it
        self.legend = RowLegend(colCount=len(self.markers), labelTextColor="k", frame=False)
        self.addItem(self.legend, row=1, col=0)
        self.legend.hide()
        self.roi = pg.RectROI(
            (0, 0), (1, 1), pen=ROI_PEN, handlePen=pg.mkPen(20, 20, 20, width=2), removable=False
        )
        self.roi.addScaleHandle((0, 0), (1, 1))
        self.roi.setZValue(20)
        self.roi.hide()
        self.roi.sigRegionChangeFinished.connect(lambda: self.box_changed.emit())
        self.plot.addItem(self.roi, ignoreBounds=True)
        self.hover = pg.TextItem("", color="k", fill=pg.mkBrush(255, 255, 255, 230), anchor=(0, 1))
        self.hover.setZValue(30)
        self.hover.hide()
        self.plot.addItem(self.hover, ignoreBounds=True)
        self.data = PlotPoints(*(np.zeros(0),) * 5, state=np.zeros(0, dtype=object))
        self.texts: dict[int, str] = {}
        self.levels, self.cmap = (0.0, 1.0), self.cmaps["val_loss"]  # as last drawn
        self.hovered: int | None = None
        self.bounds: QRectF | None = None  # the plotted ranges, in axis coordinates
        self._proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=30, slot=self._moved)
        self.scene().sigMouseClicked.connect(self._clicked)

    # -- data ----------------------------------------------------------------------------------
    def set_axes(self, xs: Space | None, ys: Space | None) -> None:
        """New plotted parameters: relabel, show their whole ranges (an empty plot too, with
        its ticks), forget the box and the hover label (both were in the old units)."""
        self.axes["bottom"].set_space(xs)
        self.axes["left"].set_space(ys)
        self.bounds = None
        if xs is not None and ys is not None:
            (x0, x1), (y0, y1) = _view_range(xs), _view_range(ys)
            self.bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
            self.vb.setRange(self.bounds, padding=0.05)
        self.roi.maxBounds = self.bounds  # a box past the range would sample nothing there
        self.roi.hide()
        self.hover.hide()
        self.box_changed.emit()

    def set_points(self, data: PlotPoints, metric: str, texts: dict[int, str],
                   best: int | None, selected: int | None,
                   spread: dict[int, float] | None = None) -> None:  # fmt: skip
        """Show ``data``: colours from ``metric`` (good = yellow), newest round opaque;
        ``spread`` the sd over seeds of each group of repeats (by plotted id), as halos."""
        self.data, self.texts = data, dict(texts)
        shown = np.isfinite(data.x) & np.isfinite(data.y)
        kind = data.kind if data.kind is not None else np.full(len(data.ids), "sampled")
        babysat = shown & (kind == "babysat")
        complete = shown & (data.state == TrialState.COMPLETE.value)
        # the colour scale spans complete results only (a pruned one is partial, so worse)
        levels = data.metric[complete][np.isfinite(data.metric[complete])]
        lo, hi = _levels(levels)
        self.colorbar.setLevels(values=(lo, hi))
        cmap = self.cmaps[metric]
        self.levels, self.cmap = (lo, hi), cmap
        self.colorbar.setColorMap(cmap)
        self.colorbar.axis.setLabel(METRICS[metric])
        alpha = _round_alpha(data.rounds)
        colors = _colors(cmap, data.metric, lo, hi, alpha)
        self.babysat.setData(data.x[babysat], data.y[babysat],
                             symbolBrush=[pg.mkBrush(c) for c in colors[babysat]])  # fmt: skip
        complete &= ~babysat
        pens = [pg.mkPen(0, 0, 0, int(a)) for a in alpha[complete]]
        brushes = [pg.mkBrush(c) for c in colors[complete]]
        self.points.setData(data.x[complete], data.y[complete], symbolBrush=brushes,
                            symbolPen=pens)  # fmt: skip
        spread = spread or {}
        grouped = complete & np.isin(data.ids, list(spread))
        sd = np.array([spread[int(i)] for i in data.ids[grouped]], dtype=float)
        self.halos.show_groups(data.x[grouped], data.y[grouped], sd, list(colors[grouped]),
                               hi - lo, POINT_SIZE)  # fmt: skip
        for i, v in zip(data.ids[grouped], sd):
            self.texts[int(i)] = f"{texts.get(int(i), '')}\n{halo_text(v, hi - lo, metric)}"
        shown = shown & ~babysat  # a babysat run wears its diamond, whatever its state
        pruned = shown & (data.state == TrialState.PRUNED.value)
        pruned_pens = [pg.mkPen(*PRUNED_COLOR, int(a), width=PRUNED_PEN_WIDTH)
                       for a in alpha[pruned]]  # fmt: skip
        self.pruned.setData(data.x[pruned], data.y[pruned], symbolPen=pruned_pens)
        for state in (TrialState.DIVERGED, TrialState.FAILED):
            these = shown & (data.state == state.value)
            self.markers[state].setData(data.x[these], data.y[these])
        self._update_legend(shown, bool(babysat.any()), bool(grouped.any()))
        self._mark(self.best, best)
        self._mark(self.selected, selected)

    def _update_legend(self, shown: np.ndarray, babysat: bool, grouped: bool = False) -> None:
        """Name the markers of the states on the plot (complete trials: the colour bar)."""
        self.legend.clear()
        present = set(self.data.state[shown])
        for state, item in self.markers.items():
            if state.value in present:
                self.legend.addItem(item, state.value)
        if babysat:
            self.legend.addItem(self.babysat, "babysat (panda)")
        if grouped:
            self.legend.addItem(self.halos, "mean of seeds (halo: sd)")
        self.legend.setVisible(babysat or grouped or bool(present - {TrialState.COMPLETE.value}))

    def colors(self, values: np.ndarray) -> np.ndarray:
        """QColors of results on the scale last drawn (grey for NaN): the curves' colours."""
        return _colors(self.cmap, values, *self.levels, np.full(len(values), 255))

    def inside_box(self) -> set[int] | None:
        """The ids of the plotted trials inside the box; None when there is no box."""
        b = self.box()
        if b is None:
            return None
        (x0, x1), (y0, y1) = b
        d = self.data
        inside = (d.x >= x0) & (d.x <= x1) & (d.y >= y0) & (d.y <= y1)
        return {int(i) for i in d.ids[inside]}

    def select(self, trial_id: int | None) -> None:
        self._mark(self.selected, trial_id)

    def _mark(self, item: pg.PlotDataItem, trial_id: int | None) -> None:
        hit = (
            np.flatnonzero(self.data.ids == trial_id) if trial_id is not None else np.zeros(0, int)
        )
        if len(hit):
            item.setData([self.data.x[hit[0]]], [self.data.y[hit[0]]])
        else:
            item.setData([], [])

    # -- the box -------------------------------------------------------------------------------
    def box(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """((x_lo, x_hi), (y_lo, y_hi)) in axis coordinates, or None when there is no box."""
        if not self.roi.isVisible():
            return None
        (x, y), (w, h) = self.roi.pos(), self.roi.size()
        return (min(x, x + w), max(x, x + w)), (min(y, y + h), max(y, y + h))

    def set_box(self, xr: tuple[float, float], yr: tuple[float, float]) -> None:
        self.roi.setPos((xr[0], yr[0]), update=False, finish=False)
        self.roi.setSize((xr[1] - xr[0], yr[1] - yr[0]), update=True, finish=False)
        self.roi.show()
        self.box_changed.emit()

    def zoom_to_box(self) -> bool:
        b = self.box()
        if b is None:
            return False
        (x0, x1), (y0, y1) = b
        self.vb.setRange(QRectF(x0, y0, x1 - x0, y1 - y0), padding=0.08)
        return True

    def _drawn(self, rect: QRectF, finished: bool) -> None:
        if self.bounds is not None:
            rect = rect.intersected(self.bounds)
        if rect.width() > 0 and rect.height() > 0:
            self.set_box((rect.left(), rect.right()), (rect.top(), rect.bottom()))

    # -- mouse ---------------------------------------------------------------------------------
    def nearest(self, scene_pos: QPointF) -> int | None:
        """Index of the point within HOVER_PX pixels of ``scene_pos``, nearest first."""
        if not len(self.data.ids) or not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        px, py = self.vb.viewPixelSize()
        d = np.hypot((self.data.x - p.x()) / px, (self.data.y - p.y()) / py)
        d[~np.isfinite(d)] = np.inf
        i = int(np.argmin(d))
        return i if d[i] <= HOVER_PX else None

    def _moved(self, args: tuple[QPointF]) -> None:  # sigMouseMoved's (scene position,)
        i = self.nearest(args[0])
        hovered = None if i is None else int(self.data.ids[i])
        if hovered != self.hovered:
            self.hovered = hovered
            self.trial_hovered.emit(-1 if hovered is None else hovered)
        if i is None:
            self.hover.hide()
            return
        self.hover.setText(self.texts.get(int(self.data.ids[i]), ""))
        # Open the label towards the middle of the view so it is never cut off at an edge.
        (x0, x1), (y0, y1) = self.vb.viewRange()
        x, y = self.data.x[i], self.data.y[i]
        self.hover.setAnchor((1.0 if x > (x0 + x1) / 2 else 0.0, 0.0 if y > (y0 + y1) / 2 else 1.0))
        self.hover.setPos(x, y)
        self.hover.show()

    def _clicked(self, ev: Any) -> None:  # a pyqtgraph MouseClickEvent
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        i = self.nearest(ev.scenePos())
        if i is None:
            return
        trial_id = int(self.data.ids[i])
        self.select(trial_id)
        (self.trial_activated if ev.double() else self.trial_clicked).emit(trial_id)


def _view_range(space: Space) -> tuple[float, float]:
    """What an axis spans in axis coordinates: the range, a category's strip, or a unit
    around a single value."""
    lo, hi = space.axis_range
    if space.kind == "cat":
        return lo - 0.5, hi + 0.5
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def _levels(values: np.ndarray) -> tuple[float, float]:
    """Colour range: min to the 90th percentile, so one awful trial does not wash out the rest."""
    if not len(values):
        return 0.0, 1.0
    lo = float(values.min())
    hi = float(np.percentile(values, 90)) if len(values) >= 5 else float(values.max())
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def _colors(cmap: pg.ColorMap, values: np.ndarray, lo: float, hi: float,
            alpha: np.ndarray) -> np.ndarray:  # fmt: skip
    """One QColor per value (array of objects): the colour map on [lo, hi], grey for NaN."""
    out = np.empty(len(values), dtype=object)
    finite = np.isfinite(values)
    norm = np.clip((values[finite] - lo) / (hi - lo), 0, 1)
    mapped = cmap.map(norm, mode="qcolor") if finite.any() else []
    out[finite] = [QColor(c) for c in mapped]
    out[~finite] = [QColor(*NO_METRIC_COLOR) for _ in range(int((~finite).sum()))]
    for c, a in zip(out, alpha):
        c.setAlpha(int(a))
    return out


def _round_alpha(rounds: np.ndarray) -> np.ndarray:
    """Opacity per point: 255 for the newest round, fading geometrically for older ones."""
    if not len(rounds):
        return np.zeros(0)
    # rank of rounds, so ids with gaps (rounds of other plotted parameters) fade by one step
    order = np.unique(rounds)
    age = len(order) - 1 - np.searchsorted(order, rounds)
    return np.maximum(MIN_ALPHA, 255 * FADE_PER_ROUND**age)


def describe(
    params: dict,
    t: TrialRecord,
    metric_names: Mapping[str, str] = METRICS,
    wrap: int | None = HOVER_WRAP,
) -> str:
    """Hover text of a trial: its values and results (a failed one's reason wrapped at
    ``wrap`` characters, so it stays inside the plot; None: one line)."""
    lines = [f"trial {t.id} (round {t.round})"]
    lines += [f"{k} = {format_value(v) if isinstance(v, float) else v}" for k, v in params.items()]
    if t.state is TrialState.DIVERGED:
        lines.append("diverged" + (f" at step {t.diverged_step}" if t.diverged_step else ""))
    elif t.state is TrialState.FAILED:
        reason = f"failed: {t.error}"
        lines += textwrap.wrap(reason, wrap, subsequent_indent="  ") if wrap else [reason]
    else:
        if t.state is TrialState.PRUNED and t.pruned_at:
            why = pruned_text(t.pruned_at)  # "stopped at 3 epochs: loss 0.82 ranked 7 of 9, ..."
            lines += textwrap.wrap(why, wrap, subsequent_indent="  ") if wrap else [why]
        elif t.state is TrialState.PRUNED:
            lines.append(f"pruned after {t.steps} steps")
        if t.bracket is not None:
            lines.append(f"Hyperband bracket s={t.bracket}")
        for key, label in metric_names.items():
            v = getattr(t, key)
            lines.append(f"{label} = {v:.4f}" if v is not None else f"{label}: -")
    return "\n".join(lines)
