"""Lesson view: the learning-rate range test on the twins (:mod:`bnviz.lessons.lr_range`), with
fastai's four suggestions and a button to use each; beside it the BN paper's x5 / x30 experiment
(:mod:`bnviz.gui.lessons.lr_multiples`).

The test runs in a worker process on copies of the live networks (taken between two steps by
the ``trainer_copy`` probe) or on fresh ones from the Controls' settings: the live networks are
never trained by it.
"""

from __future__ import annotations

import math
from concurrent.futures import Future
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from bnviz.gui import style
from bnviz.gui.fields import ValidatedField, fmt_float
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.lessons.lr_multiples import MultiplesPanel, log_x_plot
from bnviz.lessons.lr_range import (
    RangeCurve,
    check_config,
    check_range,
    range_test,
    range_test_copy,
)
from bnviz.lessons.lr_range_evidence import (
    LESSON_END,
    LESSON_NUM_IT,
    LESSON_START,
    lr_range_evidence,
)
from bnviz.lessons.lr_suggest import RULES, loss_at
from bnviz.search.executors import ExecutorHandle, make_executor
from bnviz.train.config import PARAMS, ConfigError

POLL_MS = 150
WORKERS = 2
SYMBOLS = {"valley": "o", "slide": "t", "minimum": "s", "steep": "d"}
GLYPHS = {"valley": "\u25cb", "slide": "\u25b3", "minimum": "\u25a1", "steep": "\u25c7"}
RULE_TIPS = {
    "valley": "fastai's valley: about half-way down the longest decreasing stretch of the loss",
    "slide": "fastai's slide: where the loss's slope settles (interval slide rule)",
    "minimum": "fastai's minimum: a tenth of the learning rate of the lowest loss",
    "steep": "fastai's steep: where the loss falls fastest against log alpha",
}
FROM_LIVE, FROM_START = "live networks (copies)", "fresh networks"


def curve_color(curve: RangeCurve, index: int) -> tuple[int, int, int]:
    """BN orange and plain blue; twins that differ in another setting by their order."""
    if curve.run in ("with BN", "without BN"):
        return style.run_color(curve.batchnorm)
    return style.TWIN_COLORS[index % len(style.TWIN_COLORS)]


def _positive(text: str) -> float:
    v = float(text)
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"must be a positive number, got {text!r}")
    return v


class LrRangeView(LessonView):
    """Range test plot and "use this alpha" buttons on the left, x5 / x30 on the right."""

    title = "Learning-rate range test"
    explanation = (
        "How large may &alpha; be? A range test (Smith 2017; fastai's <code>lr_find</code>) "
        "trains from one start with &alpha; growing every mini-batch and records the smoothed "
        "loss: it falls, flattens, then explodes. Read &alpha; where the loss still falls fast, "
        "well before the explosion; the four marks are fastai's rules, <b>use</b> sets the "
        "Controls' &alpha;. With <b>Compare</b> the twins share start and mini-batches: the BN "
        "paper says BN tolerates much higher rates (its BN-x5, BN-x30), so its curve should "
        "explode later. On the right: both trained at &alpha;, 5&alpha; and 30&alpha; over "
        "seeds."
    )
    formula = (
        "&alpha;<sub>i</sub> = start &middot; q<sup>i</sup>, q = (end/start)<sup>1/(n&minus;1)"
        "</sup>; &nbsp; L&#770;<sub>i</sub> = v<sub>i</sub>/(1 &minus; 0.98<sup>i</sup>), "
        "v<sub>i</sub> = 0.98 v<sub>i&minus;1</sub> + 0.02 L<sub>i</sub>; &nbsp; stop when "
        "L&#770;<sub>i</sub> &gt; 4 min<sub>j&le;i</sub> L&#770;<sub>j</sub>"
    )

    def __init__(self) -> None:
        super().__init__()
        self.worker: Any = None
        self.curves: tuple[RangeCurve, ...] = ()
        self.summary = ""
        self._copy: Future | None = None
        self._test: Future | None = None
        self._executor: ExecutorHandle | None = None
        self._set_lr: Any = None
        self.source = QComboBox()
        self.source.addItems([FROM_LIVE, FROM_START])
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.source.setToolTip(
            "Test copies of the live networks from where they are now, or "
            "new networks from the Controls' settings (step 0)"
        )
        self.start = ValidatedField(LESSON_START, _positive, fmt_float)
        self.end = ValidatedField(LESSON_END, _positive, fmt_float)
        self.num_it = QSpinBox()
        self.num_it.setRange(6, 100_000)
        self.num_it.setValue(LESSON_NUM_IT)  # wider than fastai's: both twins blow up in it
        self.num_it.setToolTip("n: mini-batches, one per learning rate")
        self.stop_div = QCheckBox("stop 4×")
        self.stop_div.setToolTip("Stop after the step whose smoothed loss passes 4x its best")
        self.stop_div.setChecked(True)
        for w, tip in ((self.start, "first learning rate"), (self.end, "last learning rate")):
            w.setToolTip(tip)
            w.setMinimumWidth(64)
            w.setMaximumWidth(80)
        self.add_experiment_row(
            [
                self.source,
                "α",
                self.start,
                "to",
                self.end,
                "n",
                self.num_it,
                self.stop_div,
            ],
            self.run_test,
            self.cancel_test,
        )
        self.run_button.setToolTip("Run the range test in a worker process")
        self.status.setText("Press Run: the range test never trains the live networks.")
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.view, self.plot = log_x_plot(
            "smoothed training loss vs α",
            "learning rate α (log)",
            "smoothed loss",
        )
        self.plot.setRange(
            xRange=(math.log10(LESSON_START), math.log10(LESSON_END)), yRange=(0, 3)
        )  # empty, it shows the range a test will sweep
        self.legend = self.plot.addLegend(offset=(5, -5))  # bottom left: the curves start high
        self.legend.setColumnCount(2)
        ll.addWidget(self.view, 1)
        self.buttons = QGridLayout()
        ll.addLayout(self.buttons)
        split.addWidget(left)
        self.multiples = MultiplesPanel(self.run_multiples, self.cancel_multiples)
        split.addWidget(self.multiples)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.body.addWidget(split, 1)
        # the claim over seeds: how far each twin's test went (as `bnviz lesson`), the range
        # taken from the fields above
        self.add_evidence_panel(
            lr_range_evidence,
            lambda: {
                "start": self.start.value(),
                "end": self.end.value(),
                "num_it": self.num_it.value(),
            },
        )
        self._items: list[Any] = []
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)

    def connect_window(self, window: Any) -> None:
        """Keep the training worker (for the copies) and the Controls' learning rate."""
        super().connect_window(window)
        self.worker = getattr(window, "worker", None)
        self._set_lr = getattr(window.controls, "lr_field", None)

    def export_items(self) -> list:
        return [self.plot, self.multiples.plot]

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._copy is not None or self._test is not None

    def _executor_handle(self) -> ExecutorHandle:
        if self._executor is None:
            self._executor = make_executor(WORKERS, warm=False)
        return self._executor

    def run_test(self) -> bool:
        """Start the range test; False (and a message) when refused."""
        if self.running or self.config_provider is None:
            return False
        try:
            start, end, n = self.start.value(), self.end.value(), self.num_it.value()
            check_range(start, end, n)
            config = check_config(self.config_provider())
            live = self.source.currentText() == FROM_LIVE and self.worker is not None
            if live:
                self._copy = self.worker.call("trainer_copy")
            else:
                self._test = self._executor_handle().submit(
                    range_test,
                    config,
                    start=start,
                    end=end,
                    num_it=n,
                    stop_div=self.stop_div.isChecked(),
                )
        except (ConfigError, ValueError) as e:
            self._say(str(e), error=True)
            return False
        if self.pause_training is not None:
            self.pause_training("the learning-rate range test runs")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._say(
            f"range test: α {start:g} .. {end:g} over {n} mini-batches, on "
            f"{'copies of the live networks' if live else 'fresh networks'}..."
        )
        self.timer.start()
        return True

    def run_multiples(self) -> None:
        if self.multiples.running or self.config_provider is None:
            return
        try:
            self.multiples.start(self.config_provider(), self._executor_handle())
        except ConfigError as e:
            self.multiples.stop(str(e))
            return
        if self.pause_training is not None:
            self.pause_training("the x5 / x30 experiment runs")
        self.timer.start()

    def _poll(self) -> None:
        if self._copy is not None and self._copy.done():
            future, self._copy = self._copy, None
            try:
                self._test = self._executor_handle().submit(
                    range_test_copy,
                    future.result(),
                    self.start.value(),
                    self.end.value(),
                    self.num_it.value(),
                    self.stop_div.isChecked(),
                )
            except Exception as e:  # the training process could not copy (it restarted)
                self._finish_test(None, f"no copy of the live networks: {e}")
        if self._test is not None and self._test.done():
            future, self._test = self._test, None
            error = future.exception()
            self._finish_test(None if error else future.result(), str(error) if error else "")
        self.multiples.poll()
        if not self.running and not self.multiples.running:
            self.timer.stop()

    def _finish_test(self, curves: tuple[RangeCurve, ...] | None, error: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if curves is None:
            self._say(f"the range test failed: {error}", error=True)
            return
        self.show_curves(curves)

    def cancel_test(self) -> None:
        if not self.running:
            return
        self._copy = self._test = None
        self._drop_executor()
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._say("cancelled")

    def cancel_multiples(self) -> None:
        if self.multiples.running:
            self._drop_executor()
            self.multiples.stop("cancelled")

    def _drop_executor(self) -> None:
        """Stop every worker (a cancelled job cannot be interrupted otherwise); whatever else
        was running is stopped with it and says so."""
        if self._executor is not None:
            self._executor.close(wait=False)
            self._executor = None
        if self.multiples.running:
            self.multiples.stop("cancelled")
        if self._test is not None:
            self._test = None
            self._finish_test(None, "cancelled")

    def shutdown(self) -> None:
        self.timer.stop()
        self._copy = self._test = None
        if self._executor is not None:
            self._executor.close(wait=False)
            self._executor = None

    # -- drawing -------------------------------------------------------------------------------
    def show_curves(self, curves: tuple[RangeCurve, ...]) -> None:
        """Draw the curves, their suggestions and stops, and the "use" buttons."""
        self.curves = curves
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        self.legend.clear()
        while self.buttons.count():
            w = self.buttons.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        lines = []
        for k, c in enumerate(curves):
            color = curve_color(c, k)
            y = np.asarray(c.losses, dtype=np.float64)
            item = self.plot.plot(
                c.lrs, y, pen=pg.mkPen(color, width=2), name=c.run, connect="finite"
            )
            self._items.append(item)
            if c.lrs:
                stop = pg.InfiniteLine(
                    math.log10(c.last_lr),
                    angle=90,
                    pen=pg.mkPen(color, style=Qt.PenStyle.DashLine),
                    label=f"{c.run} stopped: {c.last_lr:.3g}",
                    labelOpts={"position": 0.9 - 0.1 * k, "color": color},
                )
                self.plot.addItem(stop)
                self._items.append(stop)
            self._mark(c, color, k)
            lines.append(f"<b>{c.run}</b>: {len(c.lrs)} steps, to α {c.last_lr:.3g} ({c.stop})")
        if curves:
            self._heads()
        self.plot.enableAutoRange(axis="x")
        finite = [v for c in curves for v in c.losses if math.isfinite(v)]
        if finite:  # the explosion's last point must not flatten the curve
            low, best = min(finite), min(finite)
            self.plot.setYRange(low * 0.9, max(4.5 * best, low + 0.1) * 1.05)
        self.summary = "<br>".join(lines) or "no curve: every network had diverged"
        self._say(self.summary)

    def _mark(self, c: RangeCurve, color: tuple[int, int, int], row: int) -> None:
        """The curve's four suggestions as marks (named in the legend and the column heads)
        and one "use" button each in row ``row + 1`` of the grid under the plot."""
        self.buttons.addWidget(QLabel(c.run), row + 1, 0)
        ok = np.isfinite(c.losses)
        for col, rule in enumerate(RULES, start=1):
            lr = c.suggestions.get(rule)
            if lr is None or not ok.any():
                self.buttons.addWidget(QLabel("—"), row + 1, col)
                continue
            y = loss_at(np.asarray(c.lrs)[ok], np.asarray(c.losses)[ok], lr)
            dot = pg.ScatterPlotItem([math.log10(lr)], [y], symbol=SYMBOLS[rule], size=12,
                                     brush=pg.mkBrush(color), pen=pg.mkPen("k"))  # fmt: skip
            dot.setZValue(10)
            self.plot.addItem(dot)
            self._items.append(dot)
            button = QPushButton(f"{lr:.3g}")
            button.setToolTip(f"Set the Controls' learning rate to {lr:.3g} ({c.run}'s {rule})")
            button.setAccessibleName(f"use {c.run}'s {rule}, {lr:.3g}")
            button.clicked.connect(lambda _=False, v=lr: self.use_lr(v))
            self.buttons.addWidget(button, row + 1, col)

    def _heads(self) -> None:
        """The grid's first row, "use α:" and the rules with their marks; the legend names the
        marks too."""
        self.buttons.addWidget(QLabel("use α:"), 0, 0)
        for col, rule in enumerate(RULES, start=1):
            head = QLabel(f"{GLYPHS[rule]} {rule}")
            head.setToolTip(RULE_TIPS[rule])
            self.buttons.addWidget(head, 0, col)
            mark = pg.ScatterPlotItem(symbol=SYMBOLS[rule], size=10, brush=pg.mkBrush("w"),
                                      pen=pg.mkPen("k"))  # fmt: skip
            self.legend.addItem(mark, rule)

    def use_lr(self, lr: float) -> None:
        """Set the Controls' learning rate (the live networks take it from the next step)."""
        value = float(f"{lr:.3g}")
        try:
            PARAMS["lr"].parse(str(value))
        except ConfigError as e:
            self._say(f"cannot use α = {value:g}: {e}", error=True)
            return
        if self._set_lr is None:
            self._say("no Controls to set", error=True)
            return
        self._set_lr.set_value(value, emit=True)
        self._say(f"{self.summary}<br>learning rate set to {value:g}")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(f"<span style='color:#b00000'>{text}</span>" if error else text)
