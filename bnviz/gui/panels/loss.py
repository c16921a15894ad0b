"""Training and validation loss, validation accuracy, and the events that explain their jumps.

Each network gets its raw per-step loss (faint), its smoothed loss (the bias-corrected EWMA the
history keeps) and its eval-mode validation loss/accuracy (dots), in its own colour. A single
network switched with B keeps each stretch in the colour and legend entry of the state it was
trained in (:meth:`RunHistory.segments`). Vertical dashed lines mark what the user did (BN
switched, hyperparameters changed), their labels kept apart and clear of the legend
(:mod:`bnviz.gui.panels.loss_events`); a red line marks the step where a network diverged.

The step axis can be logarithmic and can be held to the first N steps, so the early phase stays
visible after a long run. The plot items are in :mod:`bnviz.gui.panels.loss_curves`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSpinBox, QVBoxLayout, QWidget

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.panels._view import (
    SteadyRange,
    UserRange,
    cache_axes,
    dark_axes,
    finite_span,
    fit_axis_width,
    part,
    run_pieces,
    step_range,
)
from bnviz.gui.panels.loss_curves import RunCurves, StepAxis
from bnviz.gui.panels.loss_events import EventMarkers
from bnviz.gui.plot_pool import add_plot
from bnviz.gui.reflow import fit_label
from bnviz.train.history import RunHistory

AXIS_WIDTH = 64
ACC_RANGE = (0.0, 1.02)  # the accuracy axis always shows 0 to 1
FIRST_STEPS_MAX = 10**9  # the "first N steps" box; 0 shows every step
# A vertical label longer than its plot is high runs into the next one: the short form then.
SHORT_LABELS = {
    "cross-entropy loss": "loss",
    "cross-entropy loss (log)": "loss (log)",
    "val accuracy": "val acc",
}


class LossPanel(Panel):
    """Training loss (raw and smoothed) and validation loss above, validation accuracy below,
    sharing the step axis."""

    title = "Loss & accuracy"

    def __init__(self, parent: QWidget | None = None) -> None:
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
        self.loss_plot = add_plot(self.view, row=0, col=0, axisItems={"bottom": StepAxis("bottom")})
        self.acc_plot = add_plot(self.view, row=1, col=0, axisItems={"bottom": StepAxis("bottom")})
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        self._y = SteadyRange()
        self._x: tuple[float, float] | None = None
        self._fitted: tuple[list[RunHistory], list[RunHistory]] | None = (
            None  # what the last ranges were fitted to
        )
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
        self.runs: dict[str, RunCurves] = {}
        self._labels: dict[str, str] = {}
        self.markers = EventMarkers(self.loss_plot, self.acc_plot, self._label_obstacles)
        self.legend.geometryChanged.connect(self.markers.lay_out)
        self._diverged_marks: tuple = ()

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
        fit_label(lp.getAxis("left"), SHORT_LABELS)  # short plots at 1024 x 640
        fit_label(ap.getAxis("left"), SHORT_LABELS)
        ap.showGrid(x=True, y=True, alpha=0.2)
        ap.setXLink(lp)
        ap.setYRange(*ACC_RANGE, padding=0)
        ap.setMouseEnabled(y=False)
        # The panel sets the ranges in steps (see _view) until the user pans or zooms.
        self.user_range = UserRange(lp, on_follow=self._forget_ranges)
        ap.enableAutoRange(enable=False)
        ap.getViewBox().sigRangeChangedManually.connect(self.user_range._manual)
        for p in (lp, ap):
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
            dark_axes(p)
            p.getAxis("left").enableAutoSIPrefix(False)
            cache_axes(p)
        # One width for both (at least AXIS_WIDTH) keeps the two x axes aligned.
        fit_axis_width(lp.getAxis("left"), ap.getAxis("left"), min_width=AXIS_WIDTH)
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
        self.markers.clear()
        self._forget_ranges()
        self._fitted = None
        self.chance.setValue(1.0 / data.n_classes)
        self.chance.setVisible(True)

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        compare = len(frame.histories) > 1
        alive = any(h.diverged_step is None for h in frame.histories.values())
        ranged = []  # the histories the y range is fitted to
        new_labels = False
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
            prefix = style.run_label(run, history.batchnorm) if compare else ""
            new_labels |= self.markers.add_events(run, history, prefix)
        for key, curves in self.runs.items():
            if key not in shown:  # compare switched off, or a segment of a run gone
                curves.set_visible(False)
            self._update_legend(key, curves, shown.get(key))
        self._fitted = (list(frame.histories.values()), ranged)
        self._fit_ranges(*self._fitted)
        diverged = tuple(c.diverged_step for c in self.runs.values() if c.diverged.isVisible())
        if new_labels or diverged != self._diverged_marks:
            self._diverged_marks = diverged
            self.markers.lay_out()

    def _curves(self, key: str) -> RunCurves:
        curves = self.runs.get(key)
        if curves is None:
            curves = self.runs[key] = RunCurves(self.loss_plot, self.acc_plot)
            for item in curves.hot():
                item.set_log_y(self.log_y.isChecked())
                item.set_log_x(self.log_x.isChecked())
            curves.place_lines(self.log_x.isChecked())
        return curves

    def export_items(self) -> list:
        return [self.loss_plot, self.acc_plot]

    # -- helpers -------------------------------------------------------------------------------
    def _redecimate(self, *_args: object) -> None:
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
        # setLogMode switched pyqtgraph's auto-range on: accuracy went to 0.35-0.45.
        self.acc_plot.enableAutoRange(enable=False)
        self.acc_plot.setYRange(*ACC_RANGE, padding=0)
        for curves in self.runs.values():
            for item in curves.hot():
                item.set_log_x(on)
            curves.place_lines(on)
        self._follow_again()
        self.markers.set_log_x(on)

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

    def _fit_ranges(self, histories: list[RunHistory], ranged: list[RunHistory]) -> None:
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

    def _update_legend(self, key: str, curves: RunCurves, label: str | None) -> None:
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

    def _label_obstacles(self) -> list:
        """What the change markers' labels keep clear of: the legend, divergence labels."""
        marks = [c.diverged.label for c in self.runs.values() if c.diverged.isVisible()]
        return [self.legend, *marks]
