"""Lesson view: covariate shift, measured, BN vs plain, from the ``covariate_shift`` probe
(:mod:`bnviz.lessons.covariate_shift`)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox

from bnviz.gui import style
from bnviz.gui.lessons.series import SeriesLessonView
from bnviz.gui.panel import Frame
from bnviz.lessons.covariate_shift import SHIFT_EVERY, ShiftPoint
from bnviz.lessons.seeded import covariate_shift_evidence
from bnviz.train.probes import request

COLUMNS = ("d_mean", "d_std", "w1", "grad_relative", "grad_cosine")


class CovariateShiftView(SeriesLessonView):
    """How much one training step moves the input of a chosen layer (a, b) and the gradient
    of that layer (c), over training, one line per network."""

    title = "Covariate shift"
    columns = COLUMNS
    every = SHIFT_EVERY
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
        row = QHBoxLayout()
        self.layer = QSpinBox()
        self.layer.setRange(2, 2)
        self.layer.setValue(2)
        self.layer.setToolTip(
            "The layer whose input is watched: the input of layer l is the output a of hidden "
            "layer l - 1 (the last choice is the output layer's input)"
        )
        self.layer.valueChanged.connect(
            lambda: self.restart(f"measuring the input of layer {self.layer.value()}")
        )
        row.addWidget(QLabel("input of layer"))
        row.addWidget(self.layer)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addWidget(self.status)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.add_plot(self.view, "a", "(a) change of the input's mean (—) and std (- -) per step",
                      log=True)  # fmt: skip
        self.add_plot(self.view, "b", "(b) W1 distance of the input per step", log=True)
        self.add_plot(self.view, "c", "(c) relative change of layer l's gradient", log=True)
        self.body.addWidget(self.view, 1)
        # over seeds, at the layer watched live
        self.add_evidence_panel(covariate_shift_evidence, lambda: {"layer": self.layer.value()})

    def probe_requests(self):
        return (request("covariate_shift", layer=self.layer.value()),)

    def render(self, frame: Frame) -> None:
        if frame.snapshots:
            top = max(len(s.layers) for s in frame.snapshots) + 1  # the output layer's input
            self.layer.setRange(2, max(top, 2))
        super().render(frame)

    def rows(self, result):
        for p in result:
            assert isinstance(p, ShiftPoint)
            s = p.shift
            yield p.run, p.step, (s.d_mean, s.d_std, s.w1, s.grad_relative, s.grad_cosine)

    def draw_run(self, run, items) -> None:
        for key, column in (("mean", "d_mean"), ("std", "d_std"), ("w1", "w1"),
                            ("grad", "grad_relative")):  # fmt: skip
            items[key].setData(*self.positive(run, column))  # a step that moved nothing: left out

    def status_line(self, last) -> str:
        return (
            f"W1 {last['w1']:.3g}, mean {last['d_mean']:.3g}, std {last['d_std']:.3g}; gradient "
            f"change {100 * last['grad_relative']:.3g}% (cos {last['grad_cosine']:.4f})"
        )

    def status_prefix(self) -> str:
        return f"Layer {self.layer.value()}, latest: "

    def make_items(self, color, label):
        pen = pg.mkPen(color, width=2)
        a, b, c = self.plots["a"], self.plots["b"], self.plots["c"]
        return {
            "mean": a.plot(pen=pen, name=label),
            "std": a.plot(pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)),
            "w1": b.plot(pen=pen, name=label),
            "grad": c.plot(pen=pen, name=label),
        }
