"""Lesson view: the signals people babysit a run by, per layer and live (the "panda" way):
the gradient norm and the update-to-parameters ratio, from the ``babysit_signals`` probe, and
the verdict of :mod:`bnviz.lessons.babysitting`'s rule (measured there)."""

from __future__ import annotations

from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.lessons.series import ProbeSeries, log_axis
from bnviz.gui.panel import Frame
from bnviz.gui.plot_pool import add_plot
from bnviz.lessons.babysitting import GROWTH_HIGH, HEALTHY, HIGH, LOW, Babysitter, SignalsPoint
from bnviz.train.probes import request
from bnviz.train.protocol import ProbeRequest

RUN_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine)


class BabysittingView(LessonView):
    """Per weight layer: ||dW|| (a) and ||update|| / ||theta|| (b, the layer's W with b or
    gamma and beta) over steps, and each layer's verdict (:class:`Babysitter`); colour = layer,
    line style = network (solid the first, dashed the second in compare mode)."""

    title = "Babysitting signals"
    explanation = (
        "Babysitting one model (the course's \u201cpanda\u201d), you watch it and nudge the "
        "learning rate. Two signals per layer say how it goes before the loss does: the "
        "gradient norm <b>(a)</b>, and the size of one update next to the parameters it "
        "changes <b>(b)</b>. The rule of thumb (CS231n, <i>Babysitting the learning "
        "process</i>: about 10<sup>-3</sup> for SGD on large networks) sits a decade higher "
        f"on networks this small: measured, {LOW:g} to {HIGH:g} is healthy (shaded; the median "
        "of the last 5 readings); above, the learning rate is likely too high, below, too "
        "low. A layer followed by BN does not care about W's scale: a too-high rate makes "
        f"\u2016W\u2016 grow (then its ratio looks small), so more than {GROWTH_HIGH:g}x its "
        "initial size is too high too. Change the learning rate in the Controls and watch."
    )
    formula = (
        "(a) &#8214;&part;L/&part;W<sup>[l]</sup>&#8214;<sub>2</sub> &nbsp; (b) "
        "&#8214;&Delta;&theta;<sup>[l]</sup>&#8214;<sub>2</sub> / &#8214;&theta;<sup>[l]</sup>"
        "&#8214;<sub>2</sub>, &theta; = (W, b) or (W, &gamma;, &beta;); &Delta;&theta; the "
        "optimizer's own step (&alpha; d&theta; for SGD; momentum averages d&theta;; Adam moves "
        "each weight by about &alpha;)"
    )

    def __init__(self) -> None:
        super().__init__()
        self.series = ProbeSeries(("grad_norm", "ratio"))
        self.sitter = Babysitter()
        self._items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.status)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.grad_plot = self._plot("(a) gradient norm per layer", "||dW||")
        self.ratio_plot = self._plot(
            "(b) update / parameters per layer", "||\u0394\u03b8|| / ||\u03b8||"
        )
        band = pg.LinearRegionItem((np.log10(LOW), np.log10(HIGH)), orientation="horizontal",
                                   movable=False, brush=(60, 170, 60, 40),
                                   pen=pg.mkPen((60, 140, 60), width=1))  # fmt: skip
        self.ratio_plot.addItem(band)
        self.body.addWidget(self.view, 1)

    def _plot(self, title: str, ylabel: str) -> pg.PlotItem:
        p = add_plot(self.view, title=title, axisItems={"left": log_axis()})
        p.setLabel("bottom", "step")
        p.setLabel("left", ylabel)
        p.setLogMode(y=True)
        p.showGrid(x=True, y=True, alpha=0.2)
        p.getAxis("left").enableAutoSIPrefix(False)
        p.addLegend(offset=(-5, 5))
        return p

    def probe_requests(self) -> tuple[ProbeRequest, ...]:
        return (request("babysit_signals"),)

    def set_dataset(self, data: Dataset) -> None:
        self.series.clear()
        self.sitter.forget()
        self.forget_result()
        self._drop(set())

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        result = self.fresh_result(frame)
        if result is None:
            return
        flags = {s.run: s.batchnorm for s in frame.snapshots}
        lines = []
        keys = set()
        for p in cast("tuple[SignalsPoint, ...]", result):  # the babysit_signals probe's
            assert isinstance(p, SignalsPoint)
            index = list(flags).index(p.run) if p.run in flags else 0
            name = style.run_short(p.run, flags.get(p.run, False))
            verdicts = self.sitter.add(p)
            off = []
            for s in p.layers:
                key = f"{p.run}:{s.layer}"
                keys.add(key)
                self.series.add(key, p.step, (s.grad_norm, s.layer_ratio))
                grad, ratio = self._items.get(key) or self._make(key, s.layer, name, index)
                steps, g = self.series.column(key, "grad_norm")
                _, r = self.series.column(key, "ratio")
                ok = (g > 0) & np.isfinite(g)
                grad.setData(steps[ok], g[ok])
                ok = (r > 0) & np.isfinite(r)
                ratio.setData(steps[ok], r[ok])
                if verdicts[s.layer] != HEALTHY:
                    off.append(f"layer {s.layer} <b>{verdicts[s.layer]}</b> ({s.layer_ratio:.1e})")
            ratios = ", ".join(f"{s.layer_ratio:.0e}" for s in p.layers)
            said = "; ".join(off) if off else "every layer healthy"
            lines.append(f"<b>{name}</b> ({ratios}): {said}")
        self._drop(keys)
        self.series.keep_only(sorted(keys))
        if lines:
            self.status.setText("Update / parameters now: " + "<br>".join(lines))

    def _make(
        self, key: str, layer: int, run_name: str, index: int
    ) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        color = style.CLASS_COLORS[(layer - 1) % len(style.CLASS_COLORS)]
        pen = pg.mkPen(color, width=2, style=RUN_STYLES[index % len(RUN_STYLES)])
        label = f"W{layer} ({run_name})"
        items = (self.grad_plot.plot(pen=pen, name=label),
                 self.ratio_plot.plot(pen=pen, name=label))  # fmt: skip
        self._items[key] = items
        return items

    def _drop(self, keep: set[str]) -> None:
        """Remove the lines of networks or layers no longer trained."""
        for key in [k for k in self._items if k not in keep]:
            grad, ratio = self._items.pop(key)
            self.grad_plot.removeItem(grad)
            self.ratio_plot.removeItem(ratio)
