"""Lesson view: the signals people babysit a run by, per layer and live (the "panda" way):
the gradient norm and the update-to-weight ratio, from the ``babysit_signals`` probe
(:mod:`bnviz.lessons.babysitting`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.lessons.series import ProbeSeries, log_axis
from bnviz.gui.panel import Frame
from bnviz.lessons.babysitting import HEALTHY_RATIO, SPREAD, SignalsPoint, verdict
from bnviz.train.probes import request

RUN_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine)


class BabysittingView(LessonView):
    """Per weight layer: ||dW|| (a) and ||update|| / ||W|| (b) over steps; colour = layer,
    line style = network (solid the first, dashed the second in compare mode)."""

    title = "Babysitting signals"
    explanation = (
        "Babysitting one model (the course's \u201cpanda\u201d), you watch it and nudge the "
        "learning rate. Two signals per layer say how it goes before the loss does: the "
        "gradient norm <b>(a)</b>, and the size of one update next to the weights it changes "
        "<b>(b)</b>: around 10<sup>-3</sup> is healthy (shaded: 10<sup>-4</sup> to "
        "10<sup>-2</sup>); far above, the learning rate is likely too high, far below, too low. "
        "Change the learning rate in the Controls and watch (b) move with it."
    )
    formula = (
        "(a) &#8214;&part;L/&part;W<sup>[l]</sup>&#8214;<sub>2</sub> &nbsp; (b) "
        "&#8214;&Delta;W<sup>[l]</sup>&#8214;<sub>2</sub> / &#8214;W<sup>[l]</sup>&#8214;"
        "<sub>2</sub>, with &Delta;W = &alpha; dW for plain SGD (the optimizer's own update "
        "for momentum, RMSprop and Adam)"
    )

    def __init__(self) -> None:
        super().__init__()
        self.series = ProbeSeries(("grad_norm", "ratio"))
        self._items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.status)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.grad_plot = self._plot("(a) gradient norm per layer", "||dW||")
        self.ratio_plot = self._plot("(b) update / weights per layer", "||update|| / ||W||")
        lo, hi = np.log10(HEALTHY_RATIO / SPREAD), np.log10(HEALTHY_RATIO * SPREAD)
        band = pg.LinearRegionItem((lo, hi), orientation="horizontal", movable=False,
                                   brush=(60, 170, 60, 40), pen=pg.mkPen(None))  # fmt: skip
        self.ratio_plot.addItem(band)
        self.ratio_plot.addItem(pg.InfiniteLine(np.log10(HEALTHY_RATIO), angle=0,
                                                pen=pg.mkPen((60, 140, 60), width=1)))  # fmt: skip
        self.body.addWidget(self.view, 1)

    def _plot(self, title: str, ylabel: str) -> pg.PlotItem:
        p = self.view.addPlot(title=title, axisItems={"left": log_axis()})
        p.setLabel("bottom", "step")
        p.setLabel("left", ylabel)
        p.setLogMode(y=True)
        p.showGrid(x=True, y=True, alpha=0.2)
        p.getAxis("left").enableAutoSIPrefix(False)
        p.addLegend(offset=(-5, 5))
        return p

    def probe_requests(self):
        return (request("babysit_signals"),)

    def set_dataset(self, data: Dataset) -> None:
        self.series.clear()
        self.forget_result()
        self._drop(set())

    def render(self, frame: Frame) -> None:
        result = self.fresh_result(frame)
        if result is None:
            return
        flags = {s.run: s.batchnorm for s in frame.snapshots}
        lines = []
        keys = set()
        for p in result:
            assert isinstance(p, SignalsPoint)
            index = list(flags).index(p.run) if p.run in flags else 0
            name = style.run_short(p.run, flags.get(p.run, False))
            worst = []
            for s in p.layers:
                key = f"{p.run}:{s.layer}"
                keys.add(key)
                self.series.add(key, p.step, (s.grad_norm, s.ratio))
                grad, ratio = self._items.get(key) or self._make(key, s.layer, name, index)
                steps, g = self.series.column(key, "grad_norm")
                _, r = self.series.column(key, "ratio")
                ok = (g > 0) & np.isfinite(g)
                grad.setData(steps[ok], g[ok])
                ok = (r > 0) & np.isfinite(r)
                ratio.setData(steps[ok], r[ok])
                worst.append(f"W{s.layer} {s.ratio:.1e} ({verdict(s.ratio)})")
            lines.append(f"<b>{name}</b>: " + ", ".join(worst))
        self._drop(keys)
        self.series.keep_only(sorted(keys))
        if lines:
            self.status.setText("Update / weights now: " + "; ".join(lines))

    def _make(self, key: str, layer: int, run_name: str, index: int):
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
