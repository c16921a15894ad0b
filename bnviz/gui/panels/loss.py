"""Training and validation loss, validation accuracy, and the events that explain their jumps.

Each network gets its raw per-step loss (faint), its smoothed loss (the bias-corrected EWMA the
history keeps) and its eval-mode validation loss/accuracy (dots), in its own colour. A single
network switched with B keeps each stretch in the colour and legend entry of the state it was
trained in (:meth:`RunHistory.segments`). Vertical dashed lines mark what the user did (BN
switched, hyperparameters changed); a red line marks the step where a network diverged.

The step axis can be logarithmic and can be held to the first N steps, so the early phase stays
visible after a long run.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSpinBox, QVBoxLayout

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.panels._view import (
    SAMPLES_PER_PIXEL,
    SteadyRange,
    UserRange,
    cache_axes,
    clip_and_downsample,
    finite_span,
    part,
    run_pieces,
    step_range,
)
from bnviz.train.history import RunHistory

RAW_ALPHA = 60
AXIS_WIDTH = 64
# Validation series get a dot per evaluation while they are short; past this many points the dots
# would hide the line (and cost a scatter rebuild each update), so the line carries on alone.
SYMBOL_LIMIT = 250
LABEL_CHARS = 22  # event labels longer than this are cut; the full text is the tooltip
# Event labels cycle through these heights (fraction of the view) so neighbours don't collide.
LABEL_POSITIONS = (0.62, 0.48, 0.34)
EVENT_PEN = pg.mkPen(style.EVENT_COLOR, width=1, style=Qt.PenStyle.DashLine)
DIVERGED_PEN = pg.mkPen(style.DIVERGED_COLOR, width=2)
FIRST_STEPS_MAX = 10**9  # the "first N steps" box; 0 shows every step


def _long_curve(plot: pg.PlotItem, **kwargs) -> pg.PlotDataItem:
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


def decimate(x: np.ndarray, y: np.ndarray, x_range, pixels: float) -> tuple:
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


class _StepAxis(pg.AxisItem):
    """A step axis whose log mode puts the labels on the decades (1, 10, 100 ...) and leaves
    the ticks between them bare: pyqtgraph labels 2·10^1, 3·10^1 ... too, which run together."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        decades = [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)]
        minor = sorted({float(v) for _, values in ticks for v in values} - set(decades))
        return [(1.0, decades), (None, minor)]


def _step_pos(step: float, log_x: bool) -> float:
    """Where step ``step`` is on the x axis (log10 units on a log axis, step 0 at step 1)."""
    return float(np.log10(max(step, 1.0))) if log_x else float(step)


def _dark_axes(plot: pg.PlotItem) -> None:
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen("k")
        ax.setTextPen("k")


class _RunCurves:
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
            pos = _step_pos(self.diverged_step, log_x)
            self.diverged.setValue(pos)
            self.diverged_acc.setValue(pos)


class LossPanel(Panel):
    """Training loss (raw and smoothed) and validation loss above, validation accuracy below,
    sharing the step axis."""

    title = "Loss & accuracy"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.log_y = QCheckBox("log y")
        self.log_y.setToolTip(
            "Logarithmic loss axis: the cross-entropy L = -log a_y keeps falling by factors, so a "
            "log scale shows late progress (and a diverging loss) that a linear axis flattens."
        )
        self.log_y.toggled.connect(self._set_log_y)
        self.log_x = QCheckBox("log x")
        self.log_x.setToolTip(
            "Logarithmic step axis: the first hundred steps get as much room as the next\n"
            "thousand, so the early phase of a long run can be seen."
        )
        self.log_x.toggled.connect(self._set_log_x)
        self.first_steps = QSpinBox()
        self.first_steps.setRange(0, FIRST_STEPS_MAX)
        self.first_steps.setSingleStep(100)
        self.first_steps.setKeyboardTracking(False)
        self.first_steps.setPrefix("first ")
        self.first_steps.setSuffix(" steps")
        self.first_steps.setSpecialValueText("all steps")
        self.first_steps.setToolTip(
            "Show only the first N steps (the loss range fitted to them); 'all steps' follows\n"
            "the whole run."
        )
        self.first_steps.valueChanged.connect(self._set_first_steps)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.loss_plot = self.view.addPlot(row=0, col=0, axisItems={"bottom": _StepAxis("bottom")})
        self.acc_plot = self.view.addPlot(row=1, col=0, axisItems={"bottom": _StepAxis("bottom")})
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        self._y = SteadyRange()
        self._x: tuple[float, float] | None = None
        self._fitted: tuple[list, list] | None = None  # what the last ranges were fitted to
        self._setup_plots()
        controls = QHBoxLayout()
        controls.addWidget(self.log_y)
        controls.addWidget(self.log_x)
        controls.addWidget(self.first_steps)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.view)
        self.runs: dict[str, _RunCurves] = {}
        self._labels: dict[str, str] = {}
        self._drawn_events: set[tuple] = set()
        # Compare mode logs one "hparam" event per network at the same step: one line for both.
        self._event_lines: dict[tuple, tuple[pg.InfiniteLine, pg.InfiniteLine, int]] = {}

    def _setup_plots(self) -> None:
        lp, ap = self.loss_plot, self.acc_plot
        lp.setLabel("left", "cross-entropy loss")
        lp.setToolTip(
            "Training loss L = -log a_y on each mini-batch (faint), its smoothed average "
            "(line, bias-corrected EWMA), and the validation loss in eval mode (dots)."
        )
        ap.setToolTip("Share of validation examples whose argmax a is the true class (eval mode).")
        lp.showGrid(x=True, y=True, alpha=0.2)
        ap.setLabel("left", "val accuracy")
        ap.setLabel("bottom", "step (mini-batch updates)")
        ap.showGrid(x=True, y=True, alpha=0.2)
        ap.setXLink(lp)
        ap.setYRange(0.0, 1.02, padding=0)
        ap.setMouseEnabled(y=False)
        # The panel sets the ranges in steps (see _view) until the user pans or zooms.
        self.user_range = UserRange(lp, on_follow=self._forget_ranges)
        ap.enableAutoRange(enable=False)
        ap.getViewBox().sigRangeChangedManually.connect(self.user_range._manual)
        for p in (lp, ap):
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
            _dark_axes(p)
            p.getAxis("left").setWidth(AXIS_WIDTH)  # equal widths keep the two x axes aligned
            p.getAxis("left").enableAutoSIPrefix(False)
            cache_axes(p)
        self.legend = pg.LegendItem(
            offset=(-10, 10),
            labelTextColor="k",
            labelTextSize="8pt",
            verticalSpacing=-4,
            brush=(255, 255, 255, 210),
            pen=(180, 180, 180),
        )
        self.legend.setParentItem(lp.getViewBox())
        self.chance = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(style.EVENT_COLOR, width=1, style=Qt.PenStyle.DotLine),
            label="chance",
            labelOpts={"position": 0.02, "color": style.EVENT_COLOR, "anchors": [(0, 1), (0, 1)]},
        )
        self.chance.setVisible(False)
        ap.addItem(self.chance, ignoreBounds=True)
        # The hot curves are decimated for the view: again when it pans, zooms or resizes.
        lp.getViewBox().sigXRangeChanged.connect(self._redecimate)
        lp.getViewBox().sigResized.connect(self._redecimate)

    # -- Panel ---------------------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        """A new run: forget every curve and marker."""
        for curves in self.runs.values():
            curves.clear()
        for lines in self._event_lines.values():
            self.loss_plot.removeItem(lines[0])
            self.acc_plot.removeItem(lines[1])
        self._event_lines.clear()
        self._drawn_events.clear()
        self._forget_ranges()
        self._fitted = None
        self.chance.setValue(1.0 / data.n_classes)
        self.chance.setVisible(True)

    def render(self, frame: Frame) -> None:
        compare = len(frame.histories) > 1
        alive = any(h.diverged_step is None for h in frame.histories.values())
        ranged = []  # the histories the y range is fitted to
        shown: dict[str, str | None] = {}  # curves key -> legend label (None: no entry)
        for i, (run, history) in enumerate(frame.histories.items()):
            for key, seg, last, entry in run_pieces(run, history, compare):
                curves = self._curves(key)
                label = style.run_label(run, seg.batchnorm)
                curves.set_visible(True)
                curves.set_color(style.run_color(seg.batchnorm, run, i))
                curves.update(history, label, (seg.start, seg.end), last)
                shown[key] = label if entry else None
            # A diverging loss shoots up by many orders of magnitude on its way to inf; scaling
            # the axis to it would flatten the curves that are still learning.
            if history.diverged_step is None or not alive:
                ranged.append(history)
            self._add_events(
                run, history, style.run_label(run, history.batchnorm) if compare else ""
            )
        for key, curves in self.runs.items():
            if key not in shown:  # compare switched off, or a segment of a run gone
                curves.set_visible(False)
            self._update_legend(key, curves, shown.get(key))
        self._fitted = (list(frame.histories.values()), ranged)
        self._fit_ranges(*self._fitted)

    def _curves(self, key: str) -> _RunCurves:
        curves = self.runs.get(key)
        if curves is None:
            curves = self.runs[key] = _RunCurves(self.loss_plot, self.acc_plot)
            for item in curves.hot():
                item.set_log_y(self.log_y.isChecked())
                item.set_log_x(self.log_x.isChecked())
            curves.place_lines(self.log_x.isChecked())
        return curves

    def export_items(self) -> list:
        return [self.loss_plot, self.acc_plot]

    # -- helpers -------------------------------------------------------------------------------
    def _redecimate(self, *_args) -> None:
        for curves in getattr(self, "runs", {}).values():
            for item in curves.hot():
                item.redraw()

    def _set_log_y(self, on: bool) -> None:
        self._y.reset()  # log10 units from now on, or back
        self.loss_plot.setLogMode(y=on)
        for curves in self.runs.values():
            for item in curves.hot():
                item.set_log_y(on)
        self.loss_plot.setLabel("left", "cross-entropy loss (log)" if on else "cross-entropy loss")
        if self._fitted is not None:
            self._fit_ranges(*self._fitted)

    def _set_log_x(self, on: bool) -> None:
        self._x = None
        for plot in (self.loss_plot, self.acc_plot):
            plot.setLogMode(x=on)
            # Labels on the decades only: the minor ones (2·10^1, 3·10^1 ...) run together.
            plot.getAxis("bottom").setStyle(maxTextLevel=0 if on else 2)
        for curves in self.runs.values():
            for item in curves.hot():
                item.set_log_x(on)
            curves.place_lines(on)
        for line, acc_line, step in self._event_lines.values():
            line.setValue(_step_pos(step, on))
            acc_line.setValue(_step_pos(step, on))
        self._follow_again()

    def _set_first_steps(self, _n: int) -> None:
        self._follow_again()

    def _follow_again(self) -> None:
        """A new x view asked for in the panel's bar: the panel sets the ranges again."""
        self.user_range.following = True
        self._forget_ranges()
        if self._fitted is not None:
            self._fit_ranges(*self._fitted)

    def _forget_ranges(self) -> None:
        self._y.reset()
        self._x = None

    def _fit_ranges(self, histories, ranged: list[RunHistory]) -> None:
        """x: 0 (step 1 on a log axis) to the next nice step count, or to N with "first N
        steps"; y: the loss curves of ``ranged`` within that x range, in steps."""
        if not self.user_range.follows():
            return
        last = max((float(h.loss.x[-1]) for h in histories if len(h.loss)), default=0.0)
        first = self.first_steps.value()
        x = step_range(float(first) if first else last)
        if first:
            x = (-0.02 * first, float(first))
        if self.log_x.isChecked():
            hi = float(np.log10(max(x[1], 10.0)))
            x = (-0.02 * hi, hi)  # a sliver left of step 1, so its tick keeps its label
        if x != self._x:
            self._x = x
            self.loss_plot.setXRange(*x, padding=0)
        end = float(first) if first else np.inf
        ys = [part(s, (-np.inf, end))[1] for h in ranged for s in (h.loss, h.smoothed, h.val_loss)]
        ys = [y for y in ys if len(y)]
        if self.log_y.isChecked():
            with np.errstate(divide="ignore", invalid="ignore"):
                ys = [np.log10(np.where(y > 0, y, np.nan)) for y in ys]
        span = finite_span(*ys)
        y = span and self._y.fit(*span)
        if y:
            self.loss_plot.setYRange(*y, padding=0)

    def _update_legend(self, key: str, curves: _RunCurves, label: str | None) -> None:
        """One pair of legend entries per network, or per BN state of a toggled one."""
        if self._labels.get(key) == label:
            return
        if key in self._labels:
            self.legend.removeItem(curves.smoothed)
            self.legend.removeItem(curves.val)
            del self._labels[key]
        if label is not None:
            self._labels[key] = label
            self.legend.addItem(curves.smoothed, f"{label}: train (smoothed)")
            self.legend.addItem(curves.val, f"{label}: validation")

    def _add_events(self, run: str, history: RunHistory, prefix: str) -> None:
        for ev in history.events:
            if ev.kind not in ("bn_on", "bn_off", "hparam"):
                continue
            key = (run, ev.step, ev.kind, ev.text)
            if key in self._drawn_events:
                continue
            self._drawn_events.add(key)
            shared = ev.kind == "hparam"  # applies to every network at once
            line_key = (ev.step, ev.kind, ev.text) if shared else key
            if line_key in self._event_lines:
                continue
            text = ev.text if shared or not prefix else f"{prefix}: {ev.text}"
            self._event_lines[line_key] = (*self._event_line(ev.step, text), ev.step)

    def _event_line(self, step: int, text: str) -> tuple[pg.InfiniteLine, pg.InfiniteLine]:
        short = text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
        pos = LABEL_POSITIONS[len(self._event_lines) % len(LABEL_POSITIONS)]
        log_x = self.log_x.isChecked()
        line = pg.InfiniteLine(
            pos=_step_pos(step, log_x),
            angle=90,
            pen=EVENT_PEN,
            label=short,
            labelOpts={
                "position": pos,
                "color": (60, 60, 60),
                "fill": (255, 255, 255, 200),
                "anchors": [(0, 0.5), (0, 0.5)],
            },
        )
        line.setToolTip(f"step {step}: {text}")
        acc_line = pg.InfiniteLine(pos=_step_pos(step, log_x), angle=90, pen=EVENT_PEN)
        self.loss_plot.addItem(line, ignoreBounds=True)
        self.acc_plot.addItem(acc_line, ignoreBounds=True)
        return line, acc_line
