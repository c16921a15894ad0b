"""Training and validation loss, validation accuracy, and the events that explain their jumps.

Each network gets its raw per-step loss (faint), its smoothed loss (the bias-corrected EWMA the
history keeps) and its eval-mode validation loss/accuracy (dots), in its own colour. Vertical
dashed lines mark what the user did (BN switched, hyperparameters changed); a red line marks
the step where a network diverged.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout

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


def _color(run: str, batchnorm: bool) -> tuple[int, int, int]:
    """Compare mode keeps "bn" orange and "plain" blue; a single net follows its BN state."""
    if run == "bn":
        return style.BN_COLOR
    if run == "plain":
        return style.PLAIN_COLOR
    return style.run_color(batchnorm)


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
    has no log mode, so ``log_y`` is applied here."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(connect="finite")
        self.vb = plot.getViewBox()
        plot.addItem(self)
        self.series = (np.empty(0), np.empty(0))
        self.log_y = False

    def set_series(self, x: np.ndarray, y: np.ndarray) -> None:
        self.series = (x, y)
        self.redraw()

    def set_log_y(self, on: bool) -> None:
        if on != self.log_y:
            self.log_y = on
            self.redraw()

    def redraw(self) -> None:
        x, y = self.series
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

    def update(self, history: RunHistory, label: str) -> None:
        for name, series in (
            ("raw", history.loss),
            ("smoothed", history.smoothed),
            ("val", history.val_loss),
            ("acc", history.val_acc),
        ):
            n = len(series)
            # Steps only grow, so (length, last step) changes whenever the series does.
            key = (n, float(series.x[-1]) if n else None)
            if self.keys.get(name) != key:
                self.keys[name] = key
                # Copies: the history's buffers are rewritten in place when it decimates.
                item = getattr(self, name)
                if name in ("val", "acc"):
                    item.setSymbol("o" if n <= SYMBOL_LIMIT else None)
                    item.setData(np.array(series.x), np.array(series.y))
                else:
                    item.set_series(np.array(series.x), np.array(series.y))
        step = history.diverged_step
        if self.diverged.isVisible() != (step is not None):
            self.diverged.setVisible(step is not None)
            self.diverged_acc.setVisible(step is not None)
        if step is not None and self.diverged.value() != step:
            self.diverged.setValue(step)
            self.diverged_acc.setValue(step)
            self.diverged.label.setFormat(f"{label} diverged at step {step}")


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
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.loss_plot = self.view.addPlot(row=0, col=0)
        self.acc_plot = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        self._y = SteadyRange()
        self._x: tuple[float, float] | None = None
        self._fitted: tuple[list, list] | None = None  # what the last ranges were fitted to
        self._setup_plots()
        controls = QHBoxLayout()
        controls.addWidget(self.log_y)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.view)
        self.runs: dict[str, _RunCurves] = {}
        self._labels: dict[str, str] = {}
        self._drawn_events: set[tuple] = set()
        # Compare mode logs one "hparam" event per network at the same step: one line for both.
        self._event_lines: dict[tuple, tuple[pg.InfiniteLine, pg.InfiniteLine]] = {}

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
        for _key, lines in self._event_lines.items():
            self.loss_plot.removeItem(lines[0])
            self.acc_plot.removeItem(lines[1])
        self._event_lines.clear()
        self._drawn_events.clear()
        self._forget_ranges()
        self._fitted = None
        self.chance.setValue(1.0 / data.n_classes)
        self.chance.setVisible(True)

    def render(self, frame: Frame) -> None:
        for run, curves in self.runs.items():
            if run not in frame.histories and run in self._labels:
                curves.set_visible(False)
                self.legend.removeItem(curves.smoothed)
                self.legend.removeItem(curves.val)
                del self._labels[run]
        compare = len(frame.histories) > 1
        alive = any(h.diverged_step is None for h in frame.histories.values())
        ranged = []  # the histories the y range is fitted to
        for run, history in frame.histories.items():
            curves = self.runs.get(run)
            if curves is None:
                curves = self.runs[run] = _RunCurves(self.loss_plot, self.acc_plot)
                for item in curves.hot():
                    item.set_log_y(self.log_y.isChecked())
            label = style.run_label(run, history.batchnorm)
            curves.set_visible(True)
            curves.set_color(_color(run, history.batchnorm))
            curves.update(history, label)
            # A diverging loss shoots up by many orders of magnitude on its way to inf; scaling
            # the axis to it would flatten the curves that are still learning.
            if history.diverged_step is None or not alive:
                ranged.append(history)
            self._update_legend(run, curves, label)
            self._add_events(run, history, label if compare else "")
        self._fitted = (list(frame.histories.values()), ranged)
        self._fit_ranges(*self._fitted)

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

    def _forget_ranges(self) -> None:
        self._y.reset()
        self._x = None

    def _fit_ranges(self, histories, ranged: list[RunHistory]) -> None:
        """x: 0 to the next nice step count; y: the loss curves of ``ranged``, in steps."""
        if not self.user_range.follows():
            return
        last = max((float(h.loss.x[-1]) for h in histories if len(h.loss)), default=0.0)
        x = step_range(last)
        if x != self._x:
            self._x = x
            self.loss_plot.setXRange(*x, padding=0)
        ys = [s.y for h in ranged for s in (h.loss, h.smoothed, h.val_loss) if len(s)]
        if self.log_y.isChecked():
            with np.errstate(divide="ignore", invalid="ignore"):
                ys = [np.log10(np.where(y > 0, y, np.nan)) for y in ys]
        span = finite_span(*ys)
        y = span and self._y.fit(*span)
        if y:
            self.loss_plot.setYRange(*y, padding=0)

    def _update_legend(self, run: str, curves: _RunCurves, label: str) -> None:
        if self._labels.get(run) == label:
            return
        if run in self._labels:
            self.legend.removeItem(curves.smoothed)
            self.legend.removeItem(curves.val)
        self._labels[run] = label
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
            self._event_lines[line_key] = self._event_line(ev.step, text)

    def _event_line(self, step: int, text: str) -> tuple[pg.InfiniteLine, pg.InfiniteLine]:
        short = text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
        pos = LABEL_POSITIONS[len(self._event_lines) % len(LABEL_POSITIONS)]
        line = pg.InfiniteLine(
            pos=step,
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
        acc_line = pg.InfiniteLine(pos=step, angle=90, pen=EVENT_PEN)
        self.loss_plot.addItem(line, ignoreBounds=True)
        self.acc_plot.addItem(acc_line, ignoreBounds=True)
        return line, acc_line
