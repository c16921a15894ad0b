"""Lesson view: covariate shift, measured, BN vs plain, from the ``covariate_shift`` probe
(:mod:`bnviz.lessons.covariate_shift`)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.lessons.series import ProbeSeries
from bnviz.gui.panel import Frame
from bnviz.lessons.covariate_shift import SHIFT_EVERY, ShiftPoint
from bnviz.train.probes import request

COLUMNS = ("d_mean", "d_std", "w1", "grad_relative", "grad_cosine")


class CovariateShiftView(LessonView):
    """How much one training step moves the input of a chosen layer (a, b) and the gradient
    of that layer (c), over training, one line per network."""

    title = "Covariate shift"
    explanation = (
        "The course: with BN, later layers see inputs whose distribution shifts less while "
        "earlier layers learn, \u201cmore firm ground to stand on\u201d. "
        f"Every {SHIFT_EVERY} steps "
        "this view takes one real step of the optimizer (on copies) and measures how the "
        "input of the chosen layer moves on a fixed batch: <b>(a)</b> the change of each "
        "unit's mean and standard deviation, <b>(b)</b> the distance between its distributions "
        "before and after. <b>(c)</b> is Santurkar et al.'s version: how much layer l's "
        "gradient changes when the layers below it take their step. Less shift with BN "
        "supports the claim; Santurkar et al. found (c) is <i>not</i> smaller with BN."
    )
    formula = (
        "(a) mean<sub>j</sub> |&Delta;&mu;<sub>j</sub>|, mean<sub>j</sub> |&Delta;&sigma;"
        "<sub>j</sub>| of a<sup>[l&minus;1]</sup> &nbsp; (b) W<sub>1</sub> = mean |sort(a') "
        "&minus; sort(a)| &nbsp; (c) &#8214;G' &minus; G&#8214;<sub>2</sub> / &#8214;G&#8214;"
        "<sub>2</sub>, G = &part;L/&part;W<sup>[l]</sup> before, G' after the layers "
        "1..l&minus;1 step"
    )

    def __init__(self) -> None:
        super().__init__()
        self.series = ProbeSeries(COLUMNS)
        self._seen: object = None
        self._items: dict[str, dict[str, pg.PlotDataItem]] = {}
        row = QHBoxLayout()
        self.layer = QSpinBox()
        self.layer.setRange(2, 2)
        self.layer.setValue(2)
        self.layer.setToolTip(
            "The layer whose input is watched: the input of layer l is the output a of hidden "
            "layer l - 1 (the last choice is the output layer's input)"
        )
        self.layer.valueChanged.connect(self._layer_changed)
        row.addWidget(QLabel("input of layer"))
        row.addWidget(self.layer)
        row.addStretch(1)
        self.body.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.status)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.plots = {
            "a": self._plot("(a) change of the input's mean (—) and std (- -) per step"),
            "b": self._plot("(b) W1 distance of the input per step"),
            "c": self._plot("(c) relative change of layer l's gradient"),
        }
        self.body.addWidget(self.view, 1)

    def _plot(self, title: str) -> pg.PlotItem:
        p = self.view.addPlot(title=title)
        p.setLabel("bottom", "step")
        p.showGrid(x=True, y=True, alpha=0.2)
        p.setLogMode(y=True)
        p.addLegend(offset=(-5, 5))
        return p

    def _layer_changed(self) -> None:
        self.series.clear()
        self._seen = None
        self._redraw({})
        self.status.setText(f"measuring the input of layer {self.layer.value()}")

    def probe_requests(self):
        return (request("covariate_shift", layer=self.layer.value()),)

    def set_dataset(self, data: Dataset) -> None:
        self.series.clear()
        self._seen = None
        self._redraw({})

    def render(self, frame: Frame) -> None:
        if frame.snapshots:
            top = max(len(s.layers) for s in frame.snapshots) + 1  # the output layer's input
            self.layer.setRange(2 if top >= 2 else 1, max(top, 2))
        result = frame.probes.get(self.probe_requests()[0])
        if result is None or result is self._seen:
            return
        self._seen = result
        flags = {s.run: s.batchnorm for s in frame.snapshots}
        self.series.keep_only(list(flags))
        for p in result:
            assert isinstance(p, ShiftPoint)
            s = p.shift
            self.series.add(p.run, p.step, (s.d_mean, s.d_std, s.w1, s.grad_relative,
                                            s.grad_cosine))  # fmt: skip
        self._redraw(flags)

    def _redraw(self, flags: dict[str, bool]) -> None:
        for run in [r for r in self._items if r not in flags]:
            for item in self._items.pop(run).values():
                for plot in self.plots.values():
                    plot.removeItem(item)
        lines = []
        for i, (run, bn) in enumerate(flags.items()):
            items = self._items.get(run) or self._make_items(run, bn, i)
            for key, column in (("mean", "d_mean"), ("std", "d_std"), ("w1", "w1"),
                                ("grad", "grad_relative")):  # fmt: skip
                steps, v = self.series.column(run, column)
                ok = v > 0  # log axes: a step that moved nothing is left out
                items[key].setData(steps[ok], v[ok])
            last = self.series.last(run)
            if last is not None:
                lines.append(
                    f"<b>{style.run_label(run, bn)}</b>: W1 {last['w1']:.3g}, mean "
                    f"{last['d_mean']:.3g}, std {last['d_std']:.3g}; gradient change "
                    f"{100 * last['grad_relative']:.3g}% (cos {last['grad_cosine']:.4f})"
                )
        if flags and not lines:
            lines.append(f"waiting for the first measurement (every {SHIFT_EVERY} steps)")
        if lines:
            self.status.setText(f"Layer {self.layer.value()}, latest: " + "; ".join(lines))

    def _make_items(self, run: str, bn: bool, index: int) -> dict[str, pg.PlotDataItem]:
        color = style.run_color(bn, run, index)
        label = style.run_label(run, bn)
        pen = pg.mkPen(color, width=2)
        dashed = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
        a, b, c = self.plots["a"], self.plots["b"], self.plots["c"]
        items = {
            "mean": a.plot(pen=pen, name=label),
            "std": a.plot(pen=dashed),
            "w1": b.plot(pen=pen, name=label),
            "grad": c.plot(pen=pen, name=label),
        }
        self._items[run] = items
        return items
