"""Lesson view: are the probabilities right? The reliability diagram of each live network on the
validation set, before and after temperature scaling, from the ``calibration`` probe
(:mod:`bnviz.lessons.calibration`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.panel import Frame
from bnviz.gui.plot_pool import add_plot
from bnviz.lessons.calibration import DEFAULT_BINS, PROBE_ROWS, RunCalibration
from bnviz.train.probes import request
from bnviz.train.protocol import ProbeRequest

AFTER_COLOR = (30, 30, 30)
MAX_RUNS = 2


def _after_line(plot: pg.PlotItem, size: int) -> pg.PlotDataItem:
    """The black line with square marks that shows a network after temperature scaling."""
    pen = pg.mkPen(AFTER_COLOR, width=2)
    return plot.plot(pen=pen, symbol="s", symbolSize=size, symbolBrush=AFTER_COLOR)


class CalibrationView(LessonView):
    """Per network: accuracy against confidence per bin (before T: bars; after T: a black line),
    the diagonal of perfect calibration, and the bin counts under it."""

    title = "Are the probabilities right?"
    render_interval_s = 0.5
    explanation = (
        "A network that says \u201c90% sure\u201d should be right 9 times in 10. Validation "
        f"examples in {DEFAULT_BINS} bins by their top softmax probability (the confidence): "
        "each bar is a bin's accuracy; under the diagonal is over-confident. Temperature "
        "scaling (Guo et al. 2017) divides the logits by one T that minimises the validation "
        "NLL (the softmax panel's T slider put to work): the black line is after T, fitted and "
        "measured on the same examples (no test split: optimistic). The predictions do not "
        "change. With <b>Compare</b>: BN beside plain."
    )
    formula = (
        "ECE = &Sigma;<sub>m</sub> |B<sub>m</sub>|/n &middot; |acc(B<sub>m</sub>) &minus; "
        "conf(B<sub>m</sub>)|, &nbsp; B<sub>m</sub> = {i : max<sub>k</sub> a<sub>ik</sub> "
        "&isin; ((m&minus;1)/M, m/M]}; &nbsp; T* = argmin<sub>T&gt;0</sub> &minus;(1/n) "
        "&Sigma;<sub>i</sub> log softmax(z<sub>i</sub>/T)<sub>y<sub>i</sub></sub>"
    )

    def __init__(self) -> None:
        super().__init__()
        self.results: tuple[RunCalibration, ...] = ()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.reliability: list[pg.PlotItem] = []
        self.counts: list[pg.PlotItem] = []
        self.items: list[dict[str, pg.GraphicsObject]] = []
        for k in range(MAX_RUNS):
            top = add_plot(self.view, row=0, col=k)
            top.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            top.setLabel("bottom", "confidence = top probability")
            top.setLabel("left", "accuracy")
            top.showGrid(x=True, y=True, alpha=0.2)
            top.plot([0, 1], [0, 1], pen=pg.mkPen(style.EVENT_COLOR, style=Qt.PenStyle.DashLine))
            bottom = add_plot(self.view, row=1, col=k)
            bottom.setXLink(top)
            bottom.setLogMode(x=False, y=True)  # one bin holds most examples; the rest a few
            bottom.setLabel("left", "count")
            bottom.setLabel("bottom", "colour: before T · black: after")
            bottom.setMaximumHeight(110)
            bars = pg.BarGraphItem(x=[], height=[], width=1 / DEFAULT_BINS)
            after = _after_line(top, 6)
            n_before = bottom.plot(pen=None, symbol="o", symbolSize=7)
            n_after = _after_line(bottom, 5)
            top.addItem(bars)
            after.setZValue(10)  # the line after T over the bars before it
            self.reliability.append(top)
            self.counts.append(bottom)
            self.items.append(
                {"bars": bars, "after": after, "n_before": n_before, "n_after": n_after}
            )
        self.body.addWidget(self.view, 1)
        self.summary = QLabel(
            f"Waiting for the first measurement (the first {PROBE_ROWS} "
            "validation examples, once a second while this view is shown)."
        )
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.summary)

    def probe_requests(self) -> tuple[ProbeRequest, ...]:
        return (request("calibration", bins=DEFAULT_BINS),)

    def export_items(self) -> list:
        return [self.view.ci]

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        result = self.fresh_result(frame)
        if result is not None:
            self.show_results(result)  # type: ignore[arg-type]

    def show_results(self, results: tuple[RunCalibration, ...]) -> None:
        """Draw one column per network (at most two)."""
        self.results = results
        lines = []
        for k in range(MAX_RUNS):
            r = results[k] if k < len(results) else None
            self._draw(k, r)
            if r is not None:
                name = style.run_label(r.run, r.batchnorm)
                lines.append(
                    f"<b>{name}</b> (step {r.step}): ECE {r.before.ece:.3f} &rarr; "
                    f"{r.after.ece:.3f} with T = {r.temperature:.3g}; NLL {r.nll_before:.3f} "
                    f"&rarr; {r.nll_after:.3f}; accuracy {r.before.overall_accuracy:.3f}; "
                    f"{'over' if r.temperature > 1 else 'under'}-confident before T"
                )
        if not results:
            lines.append("No live network to measure (diverged, or no validation set).")
        self.summary.setText("<br>".join(lines))

    def _draw(self, k: int, r: RunCalibration | None) -> None:
        it, top = self.items[k], self.reliability[k]
        if r is None:
            it["bars"].setOpts(x=[], height=[])
            it["n_before"].setData([], [])
            it["after"].setData([], [])
            it["n_after"].setData([], [])
            top.setTitle("(Compare: BN beside plain)" if k else "")
            return
        color = style.run_color(r.batchnorm, r.run, k)
        edges = np.asarray(r.before.edges)
        centers, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
        shown = np.asarray(r.before.count) > 0  # an empty bin has no accuracy: no bar
        acc = np.asarray(r.before.accuracy)[shown]
        brush = pg.mkBrush(*color, 170)
        it["bars"].setOpts(x=centers[shown], height=acc, width=width * 0.9, brush=brush)
        counts = np.asarray(r.before.count)[shown]
        it["n_before"].setData(
            centers[shown], counts, pen=pg.mkPen(color, width=2), symbolBrush=brush, symbolPen=None
        )
        filled = np.asarray(r.after.count) > 0
        it["after"].setData(
            np.asarray(r.after.confidence)[filled], np.asarray(r.after.accuracy)[filled]
        )
        it["n_after"].setData(centers[filled], np.asarray(r.after.count)[filled])
        short = style.run_short(r.run, r.batchnorm)
        top.setTitle(f"{short}: ECE {r.before.ece:.3f}→{r.after.ece:.3f}, T {r.temperature:.2f}")
