"""Keeping pyqtgraph plots cheap to repaint 30 times a second.

In software rendering most of a frame went into the axes, not the data: every range change
regenerates an axis (tick values, text layout) and replays its picture, grid lines included, and
a range that follows the data changes every frame. So the panels set their ranges themselves, in
steps: a range widens at once (with some headroom), shrinks only when the data use less than half
of it, and a step axis grows to the next "nice" number. Between steps the axes are unchanged and,
with :func:`cache_axes`, repainted from a pixmap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

from bnviz.train.history import RunHistory, Segment
from bnviz.train.snapshot import EvalResult
from bnviz.train.stats import DecimatingSeries

NICE = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)  # the data fill >= 2/3 of a stepped axis
PAD = 0.05  # of the data span, on each side
HEADROOM = 0.15  # extra room when a range widens, so slow growth does not widen it every frame
SHRINK_BELOW = 0.5  # shrink once the data use less than this share of the range
SAMPLES_PER_PIXEL = 1.0  # downsampling buckets per pixel column ("peak" draws 2 points each)


def nice_ceil(x: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 (times a power of ten) that is >= ``x`` > 0."""
    if not x > 0 or not math.isfinite(x):
        return 1.0
    scale = 10.0 ** math.floor(math.log10(x))
    return next(n * scale for n in NICE if n * scale >= x * (1 - 1e-9))


def finite_span(*arrays: npt.ArrayLike) -> tuple[float, float] | None:
    """Min and max over the finite values of ``arrays``; None when there are none."""
    lo, hi = math.inf, -math.inf
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        if a.size == 0:
            continue
        finite = a[np.isfinite(a)] if not np.isfinite(a).all() else a
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return (lo, hi) if lo <= hi else None


class SteadyRange:
    """A range that follows data ``(lo, hi)`` in steps (see the module docstring).

    ``floor``: a bound the range never goes below (0 for densities), or None.
    """

    def __init__(self, floor: float | None = None) -> None:
        self.floor = floor
        self.range: tuple[float, float] | None = None

    def reset(self) -> None:
        self.range = None

    def fit(self, lo: float, hi: float) -> tuple[float, float] | None:
        """The new range when it has to change for data ``lo..hi``, else None."""
        if self.floor is not None:
            lo = max(lo, self.floor)
            hi = max(hi, lo)
        span = max(hi - lo, abs(hi) * 1e-3, 1e-9)
        cur = self.range
        if cur is not None:
            inside = cur[0] <= lo and hi <= cur[1]
            if inside and span >= SHRINK_BELOW * (cur[1] - cur[0]):
                return None
            grow = HEADROOM if not inside else 0.0
        else:
            grow = 0.0
        new_lo = lo - (PAD + grow) * span
        new_hi = hi + (PAD + grow) * span
        if self.floor is not None:
            new_lo = max(new_lo, self.floor)
        self.range = (new_lo, new_hi)
        return self.range


def eval_key(ev: EvalResult | None) -> tuple | None:
    """What identifies an evaluation: snapshots are unpickled afresh, so the same evaluation
    arrives as a new object with every snapshot, and ``is`` would redraw it 30 times a second.
    (repr, so that a NaN loss equals itself.)"""
    if ev is None:
        return None
    return (ev.step, ev.epoch, repr(ev.val_loss), repr(ev.train_loss), repr(ev.val_acc))


def step_range(last: float) -> tuple[float, float]:
    """The x range of a step axis whose data reach ``last``: 0 to the next nice number (and a
    sliver left of 0, so the 0 tick keeps its label)."""
    hi = nice_ceil(max(last, 1.0) * (1 + PAD))
    return (-0.02 * hi, hi)


class UserRange:
    """Whether the panel may set a plot's ranges: yes until the user pans or zooms it, and again
    after the plot's "A" (auto-range) button, which calls ``on_follow`` (forget the kept ranges).
    pyqtgraph's own auto-range stays off: it would recompute the bounds of every item and move
    the axes on every frame."""

    def __init__(self, plot: pg.PlotItem, on_follow: Callable[[], object] | None = None) -> None:
        self.vb = plot.getViewBox()
        self.following = True
        self.on_follow = on_follow
        plot.enableAutoRange(enable=False)
        self.vb.sigRangeChangedManually.connect(self._manual)

    def _manual(self, *_args: object) -> None:
        self.following = False

    def follows(self) -> bool:
        if any(self.vb.state["autoRange"]):  # the "A" button
            self.vb.enableAutoRange(enable=False)
            self.following = True
            if self.on_follow is not None:
                self.on_follow()
        return self.following


def clip_and_downsample(item: pg.PlotDataItem) -> None:
    """Draw a long series clipped to the view and peak-downsampled to about one bucket (its min
    and max) per pixel column. pyqtgraph's default keeps ~5 samples per pixel, which left a
    3000-step loss curve undecimated in a 500-pixel plot: 5 times the line segments to stroke."""
    item.setClipToView(True)
    item.setDownsampling(auto=True, method="peak")
    item.opts["autoDownsampleFactor"] = SAMPLES_PER_PIXEL


def cache_axes(plot: pg.PlotItem) -> None:
    """Repaint the axes (and their grid lines) and the title from pixmaps until they change."""
    for name in ("left", "bottom", "right", "top"):
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.titleLabel.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def part(series: DecimatingSeries, span: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``series``' x and y with ``span[0] <= x <= span[1]`` (x ascending). Copies:
    the history's buffers are rewritten in place when it decimates."""
    x = series.x
    i0, i1 = np.searchsorted(x, span[0], "left"), np.searchsorted(x, span[1], "right")
    return np.array(x[i0:i1]), np.array(series.y[i0:i1])


def run_pieces(
    run: str, history: RunHistory, compare: bool
) -> Iterator[tuple[str, Segment, bool, bool]]:
    """``(curves key, segment, is last, gets a legend entry)`` for each stretch of ``run`` to
    draw. A single network is split where B switched BN, each part in its state's colour, one
    legend entry per state; a twin in compare mode is one piece in its own colour."""
    segments = history.segments() if not compare else []
    if len(segments) <= 1:
        yield run, Segment(-np.inf, np.inf, history.batchnorm), True, True
        return
    seen: set[bool] = set()
    for k, seg in enumerate(segments):
        entry = seg.batchnorm not in seen
        seen.add(seg.batchnorm)
        start = seg.start if k else -np.inf
        yield (
            (run if k == 0 else f"{run}#{k}"),
            Segment(start, seg.end, seg.batchnorm),
            (k == len(segments) - 1),
            entry,
        )


def clip_title(plot: pg.PlotItem, min_width: float = 40.0) -> None:
    """Let ``plot``'s title be narrower than its words (clipped at worst), so a long title
    never makes the plot wider than its panel; pyqtgraph sizes a title to its text."""
    label = plot.titleLabel
    label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
    full = label.updateMin

    def update_min() -> None:
        full()
        for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            label._sizeHint[hint] = (min_width, label._sizeHint[hint][1])
        label.setMinimumWidth(min_width)
        label.updateGeometry()

    label.updateMin = update_min
    update_min()


AXIS_GAP = 2.0  # pixels between an axis label and the widest tick label


def fit_axis_width(*axes: pg.AxisItem, min_width: float = 0.0) -> None:
    """Give vertical ``axes`` one width, at least ``min_width`` and wide enough for their widest
    tick label beside their axis label.

    A fixed width (``setWidth``) keeps plots stacked in a column aligned, but pyqtgraph then
    never widens the axis: zoomed to ticks like "-4000.52" the tick labels ran over the axis
    label, or, where the axis was narrower than the text, were dropped altogether. An axis
    measures its tick text while painting (``_updateMaxTextSize``); the width follows that here,
    shared by ``axes`` so their plots stay aligned.

    Until an axis has measured its text, its tick labels count as no wider than ``min_width``
    allows, not as pyqtgraph's first guess (30 px): that guess gave the four plots of the
    explorer's sample histograms 35 px, the first paint measured 28, and the relayout that
    followed painted every plot two more times (25-35 ms each) when the tab was first shown."""
    measured: set[int] = set()

    def needed(ax: pg.AxisItem) -> float:
        if not ax.style["showValues"]:
            return 0.0
        text = ax.textWidth if id(ax) in measured else 0
        w = text + ax.style["tickTextOffset"][0] + max(0, ax.style["tickLength"])
        if ax.label.isVisible():  # drawn from x = -5 (pyqtgraph's nudge), one line high
            w += ax.label.boundingRect().height() - 5 + AXIS_GAP
        return math.ceil(w)

    def refit() -> None:
        width = max([min_width] + [needed(ax) for ax in axes])
        for ax in axes:
            if ax.fixedWidth != width:
                ax.setWidth(width)

    for ax in axes:
        measure = ax._updateMaxTextSize

        def update(x: int, measure: Callable[[int], None] = measure, ax: pg.AxisItem = ax) -> None:
            measure(x)
            measured.add(id(ax))
            refit()

        ax._updateMaxTextSize = update
    refit()


def dark_axes(plot: pg.PlotItem) -> None:
    """Black axis lines and tick labels on the white plot background."""
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen("k")
        ax.setTextPen("k")
