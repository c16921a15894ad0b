"""Lesson view: the loss landscape along the gradient, BN vs plain (Santurkar et al. 2018,
Fig. 4), from the ``landscape`` probe (:mod:`bnviz.lessons.landscape`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox

from bnviz.gui import style
from bnviz.gui.lessons.series import SeriesLessonView
from bnviz.lessons.landscape import DEFAULT_ETA_FACTORS, LANDSCAPE_EVERY, LandscapePoint
from bnviz.lessons.seeded import landscape_evidence
from bnviz.train.probes import request

COLUMNS = ("loss_lo", "loss_hi", "gc_lo", "gc_hi", "beta")


def eta_factors(low: float, high: float, n: int) -> tuple[float, ...]:
    """``n`` step-size factors spaced evenly on a log scale from ``low`` to ``high`` (x the
    learning rate), rounded to 4 significant digits so the request stays the same."""
    return tuple(float(f"{f:.4g}") for f in np.geomspace(low, high, n))


class LandscapeView(SeriesLessonView):
    """Three plots over training, one band or line per network: the losses reached along the
    gradient (a), the change of the gradient there (b), the effective beta-smoothness (c)."""

    title = "Loss landscape"
    columns = COLUMNS
    every = LANDSCAPE_EVERY
    explanation = (
        "Santurkar et al. (2018) argue that batch norm helps mainly by making the loss "
        f"landscape smoother. Every {LANDSCAPE_EVERY} steps, from the current weights w, "
        "this view steps "
        "along the gradient g of the mini-batch loss by several step sizes &eta; and records "
        "<b>(a)</b> the band of losses reached, <b>(b)</b> how much the gradient changes, "
        "<b>(c)</b> the effective &beta;-smoothness. The claim: all three are smaller with BN "
        "(use <b>Compare</b>); it is refuted where BN's band and gradient change come out as "
        "large as plain's on the same setting."
    )
    formula = (
        "(a) L(w &minus; &eta;g) &nbsp; (b) &#8214;&nabla;L(w &minus; &eta;g) &minus; g&#8214;"
        "<sub>2</sub> &nbsp; (c) &beta; = max<sub>&eta;</sub> &#8214;&nabla;L(w &minus; &eta;g)"
        " &minus; g&#8214;<sub>2</sub> / (&eta; &#8214;g&#8214;<sub>2</sub>), &nbsp; "
        "&eta; = the chosen step sizes &times; &alpha; (the learning rate)"
    )

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout()
        self.low = _factor_box(DEFAULT_ETA_FACTORS[0], "smallest step size, x the learning rate")
        self.high = _factor_box(DEFAULT_ETA_FACTORS[-1], "largest step size, x the learning rate")
        self.points = QSpinBox()
        self.points.setRange(2, 9)
        self.points.setValue(len(DEFAULT_ETA_FACTORS))
        self.points.setToolTip("How many step sizes, spaced evenly on a log scale")
        for w in (QLabel("step sizes η from"), self.low, QLabel("to"), self.high,
                  QLabel("× α, points"), self.points):  # fmt: skip
            row.addWidget(w)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addWidget(self.status)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.add_plot(self.view, "a", "(a) loss along the gradient", log=False)
        self.add_plot(self.view, "b", "(b) gradient change", log=True)
        self.add_plot(self.view, "c", "(c) effective beta-smoothness", log=True)
        self.plots["a"].setLabel("left", "L(w - eta g)")
        self.plots["b"].setLabel("left", "||grad L(w - eta g) - g||")
        self.plots["c"].setLabel("left", "beta")
        self.body.addWidget(self.view, 1)
        self.factors = DEFAULT_ETA_FACTORS
        for box in (self.low, self.high):
            box.valueChanged.connect(self._factors_changed)
        self.points.valueChanged.connect(self._factors_changed)
        # over seeds, at the step sizes measured live
        self.add_evidence_panel(landscape_evidence, lambda: {"factors": self.factors})

    # -- controls ------------------------------------------------------------------------------
    def _factors_changed(self) -> None:
        low, high = self.low.value(), self.high.value()
        if not low < high:
            self.status.setText(
                f"<span style='color:#b00000'>the smallest step size ({low:g}) must be below "
                f"the largest ({high:g}); still measuring {self._factor_text()}</span>"
            )
            return
        self.factors = eta_factors(low, high, self.points.value())
        self.restart(f"measuring at {self._factor_text()}: the first point comes soon")

    def _factor_text(self) -> str:
        return "eta = " + ", ".join(f"{f:g}" for f in self.factors) + " x alpha"

    def probe_requests(self):
        return (request("landscape", factors=self.factors),)

    # -- drawing -------------------------------------------------------------------------------
    def rows(self, result):
        for p in result:
            assert isinstance(p, LandscapePoint)
            ls = p.landscape
            values = (ls.loss.min(), ls.loss.max(), ls.grad_change.min(), ls.grad_change.max(),
                      ls.beta_smoothness)  # fmt: skip
            yield p.run, p.step, values

    def draw_run(self, run, items) -> None:
        steps, lo = self.series.column(run, "loss_lo")
        items["a_lo"].setData(steps, lo)
        items["a_hi"].setData(*self.series.column(run, "loss_hi"))
        _, glo = self.series.column(run, "gc_lo")
        _, ghi = self.series.column(run, "gc_hi")
        ok = (glo > 0) & (ghi > 0)  # log axis; both ends, so the band's edges pair up
        items["b_lo"].setData(steps[ok], glo[ok])
        items["b_hi"].setData(steps[ok], ghi[ok])
        items["c"].setData(*self.positive(run, "beta"))

    def status_line(self, last) -> str:
        return (
            f"loss band {last['loss_hi'] - last['loss_lo']:.3g}, gradient change up to "
            f"{last['gc_hi']:.3g}, &beta; {last['beta']:.3g}"
        )

    def status_prefix(self) -> str:
        return f"Latest ({self._factor_text()}): "

    def make_items(self, color, label):
        thin = pg.mkPen(color, width=1)
        a, b, c = self.plots["a"], self.plots["b"], self.plots["c"]
        items: dict[str, pg.GraphicsObject] = {
            "a_lo": a.plot(pen=thin, name=label),
            "a_hi": a.plot(pen=thin),
            "b_lo": b.plot(pen=thin, name=label),
            "b_hi": b.plot(pen=thin),
            "c": c.plot(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4,
                        symbolBrush=color, name=label),
        }  # fmt: skip
        fill = (*color, 70)
        items["a_fill"] = pg.FillBetweenItem(items["a_lo"], items["a_hi"], brush=fill)
        items["b_fill"] = pg.FillBetweenItem(items["b_lo"], items["b_hi"], brush=fill)
        a.addItem(items["a_fill"])
        b.addItem(items["b_fill"])
        return items


def _factor_box(value: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(3)
    box.setRange(0.001, 100.0)
    box.setValue(value)
    box.setToolTip(tip)
    return box
