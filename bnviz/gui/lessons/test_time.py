"""The "BN at test time" lesson: where μ and σ² come from when there is no batch.

Draws the ``bn_at_test_time`` probe (:mod:`bnviz.lessons.bn_at_test_time`): the running
estimates of a layer converging next to each mini-batch's statistics, the validation set
evaluated three ways (running estimates, each chunk's own statistics, each example alone),
the current weights with estimates kept after 10, 100 and 1,000 steps, and one step of the
running average written in the course's, Keras's and PyTorch's notation with the network's own
numbers (:mod:`bnviz.lessons.bn_conventions`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.lessons.test_time_plots import EstimatePlots, ModeBars
from bnviz.gui.panel import Frame
from bnviz.gui.reflow import FlowLayout
from bnviz.lessons.bn_at_test_time import ModeResult, TestTimeView
from bnviz.lessons.bn_conventions import CONVENTIONS, Convention, last_update, written
from bnviz.lessons.test_time_evidence import test_time_evidence
from bnviz.train.bn_record import KEEP_AT
from bnviz.train.probes import request
from bnviz.train.protocol import ProbeRequest

BNVIZ_CONVENTION = (
    "bnviz writes it the course's way: <b>bn_momentum = k = 0.9 is the weight on the old "
    "value</b> (<i>running = k·running + (1−k)·batch</i>, PyTorch's momentum 0.1), and keeps the "
    "<b>unbiased</b> running variance as PyTorch does (the batch's biased σ² times m/(m−1)). "
    "Keras 3 keeps the biased one; Keras 2 kept the unbiased one in its fused kernel (4-D "
    "inputs) and the biased one on 2-D inputs like these."
)


def _pct(r: ModeResult) -> str:
    return f"{100 * r.acc:.1f}%"


class TestTimeLesson(LessonView):
    """Batch norm at test time: the running estimates, the three evaluations, estimates taken
    too early, and the three ways of writing the running average."""

    __test__ = False  # not a pytest class, whatever its name
    title = "BN at test time"
    setting_ignores = ("compare", "compare_setting", "compare_value")  # BN's network is enough
    explanation = (
        "In training, batch norm normalizes z with the mean and variance of the mini-batch. "
        "One example at test time has no batch: alone, its mean is itself and its variance 0, "
        "so z<sub>norm</sub> = 0 and <b>every example gets the same output</b> (<i>single</i>). "
        "So each BN layer keeps an exponentially weighted average of the mini-batch μ and σ² "
        "over training (left) and normalizes with it at test time (<i>running</i>, what "
        "predict_proba does); estimates taken too early belong to weights that have moved on."
    )
    formula = (
        "μ ← k·μ + (1 − k)·μ<sub>batch</sub>,&nbsp;&nbsp; σ² ← k·σ² + (1 − k)·σ²<sub>batch</sub>"
        "&nbsp;&nbsp;(k = BN momentum);&nbsp;&nbsp; at test time&nbsp; z<sub>norm</sub> = "
        "(z − μ) / √(σ² + ε),&nbsp; z̃ = γ·z<sub>norm</sub> + β"
    )

    def __init__(self) -> None:
        super().__init__()
        self.layer = 1
        self.n_classes = 0
        self.views: tuple[TestTimeView, ...] = ()
        self._shown: object = None
        self._build_controls()
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        note = QLabel()
        note.setWordWrap(True)
        lcol.addWidget(note)
        self.estimate_widget = pg.GraphicsLayoutWidget()
        lcol.addWidget(self.estimate_widget, 1)
        self.estimates = EstimatePlots(self.estimate_widget, note)
        split.addWidget(left)
        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(0, 0, 0, 0)
        self.bar_widget = pg.GraphicsLayoutWidget()
        self.bars = ModeBars(self.bar_widget)
        self.bar_widget.setMinimumHeight(200)
        col.addWidget(self.bar_widget, 1)
        self.modes_label = QLabel()
        self.modes_label.setWordWrap(True)
        col.addWidget(self.modes_label)
        self.early_table = QTableWidget(len(KEEP_AT) + 1, 0)
        self.early_table.setVerticalHeaderLabels(
            [f"estimates after {s:,} steps" for s in KEEP_AT] + ["current estimates"]
        )
        self.early_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.early_table.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        col.addWidget(QLabel("The current weights with running estimates taken too early:"))
        col.addWidget(self.early_table)
        split.addWidget(right)
        split.setSizes([700, 460])
        self.body.addWidget(split, 1)
        self.convention_label = QLabel()
        self.convention_label.setWordWrap(True)
        self.convention_label.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.convention_label)
        self.add_evidence_panel(test_time_evidence)

    def _build_controls(self) -> None:
        row = FlowLayout()  # wraps at a narrow width
        row.addWidget(QLabel("Layer"))
        self.layer_box = QComboBox()
        self.layer_box.addItem("layer 1", 1)
        self.layer_box.currentIndexChanged.connect(self._layer_picked)
        row.addWidget(self.layer_box)
        row.addWidget(QLabel("   Written as"))
        self.convention_box = QComboBox()
        for c in CONVENTIONS:
            self.convention_box.addItem(c.name, c.key)
        self.convention_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.convention_box.setToolTip("The same running average in three notations")
        self.convention_box.currentIndexChanged.connect(lambda _i: self._show_convention())
        row.addWidget(self.convention_box)
        self.status = QLabel()
        row.addWidget(self.status)
        self.body.addLayout(row)

    # -- the panel contract --------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        self.n_classes = data.n_classes
        self.views, self._shown = (), None

    def probe_requests(self) -> tuple[ProbeRequest, ...]:
        return (request("bn_at_test_time", layer=self.layer),)

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        if frame.snapshots:
            self._set_layers(len(frame.snapshots[0].layers))
        views = frame.probes.get(request("bn_at_test_time", layer=self.layer))
        if views is None or views is self._shown:
            return  # nothing new: the probe runs once a second
        self._shown = views
        self.show_views(views)  # type: ignore[arg-type]

    def export_items(self) -> list:
        return [self.estimate_widget.ci, self.bar_widget.ci]

    # -- controls ------------------------------------------------------------------------------
    def _set_layers(self, n: int) -> None:
        if n < 1 or self.layer_box.count() == n:
            return
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for lay in range(1, n + 1):
            self.layer_box.addItem(f"layer {lay}", lay)
        self.layer = min(self.layer, n)
        self.layer_box.setCurrentIndex(self.layer - 1)
        self.layer_box.blockSignals(False)

    def _layer_picked(self, index: int) -> None:
        lay = self.layer_box.itemData(index)
        if lay is not None:
            self.layer = int(lay)  # the next frame asks the probe for this layer

    def convention(self) -> Convention:
        return CONVENTIONS[max(self.convention_box.currentIndex(), 0)]

    # -- drawing -------------------------------------------------------------------------------
    def show_views(self, views: tuple[TestTimeView, ...]) -> None:
        """Draw one probe result (one :class:`TestTimeView` per live network)."""
        self.views = views
        compare = len(views) > 1
        name = style.run_label if compare else style.run_short
        label = {v.run: name(v.run, v.batchnorm) for v in views}
        colors = {v.run: style.run_color(v.batchnorm, v.run, i) for i, v in enumerate(views)}
        self.estimates.show(views, label)
        self.bars.show(views, colors)
        self.modes_label.setText(
            "<br>".join(self._modes_line(v, label[v.run], colors[v.run]) for v in views)
        )
        self._fill_early(views, label)
        self._show_convention()
        if views:
            rows = len(views[0].modes["running"].pred)
            self.status.setText(f"step {views[0].step:,} · first {rows:,} validation rows")

    def _modes_line(self, v: TestTimeView, name: str, color: tuple) -> str:
        m = v.modes
        hex_color = "#{:02x}{:02x}{:02x}".format(*color[:3])
        head = (
            f"<b style='color:{hex_color}'>■ {name}</b>: "
            f"running {_pct(m['running'])} (loss {m['running'].loss:.3g}), "
            f"batch {_pct(m['batch'])} (loss {m['batch'].loss:.3g}), "
            f"single {_pct(m['single'])} (loss {m['single'].loss:.3g})"
        )
        if not v.batchnorm:
            return head + ": no batch norm, so the three are the same"
        classes = np.unique(m["single"].pred)
        if len(classes) == 1:
            return head + f": alone, <b>every example → class {int(classes[0])}</b>"
        return head + f": alone, {len(classes)} classes (rounding lets them differ slightly)"

    def _fill_early(self, views: tuple[TestTimeView, ...], label: dict[str, str]) -> None:
        bn = [v for v in views if v.batchnorm]
        t = self.early_table
        t.setColumnCount(2 * len(bn))
        t.setHorizontalHeaderLabels([f"{label[v.run]} {w}" for v in bn for w in ("acc", "loss")])
        for c, v in enumerate(bn):
            results: list[tuple[ModeResult | None, str]] = [(e.result, e.note) for e in v.early]
            results.append((v.modes["running"], ""))
            for r, (res, note) in enumerate(results):
                acc = _pct(res) if res else note
                loss = f"{res.loss:.3g}" if res else ""
                t.setItem(r, 2 * c, QTableWidgetItem(acc))
                t.setItem(r, 2 * c + 1, QTableWidgetItem(loss))
        t.setVerticalHeaderItem(
            len(KEEP_AT),
            QTableWidgetItem(f"current estimates (step {views[0].step:,})" if views else ""),
        )
        t.resizeColumnsToContents()

    def _show_convention(self) -> None:
        conv = self.convention()
        lines = [f"<b>{conv.formula}</b>: {conv.meaning}."]
        v = next((v for v in self.views if v.batchnorm), None)
        u = last_update(v.trace) if v is not None else None
        if v is None:
            lines.append("No network has batch norm: there is no running average to show.")
        elif u is None:
            lines.append("One step of it, with this network's numbers, after two more steps.")
        else:
            mean, _ = written(conv, u.k, u.mean_before, u.batch_mean)
            var, _ = written(conv, u.k, u.var_before, u.batch_var, m=u.m)
            biased, _ = written(conv, u.k, u.var_before, u.batch_var)
            lines += [
                f"Step {u.step:,}, layer {v.layer}, unit 0, momentum = "
                f"{conv.momentum_of(u.k):.4g}:",
                f"&nbsp;&nbsp;μ: {mean} (the network holds {u.mean_after:.4g})",
                f"&nbsp;&nbsp;σ², unbiased (bnviz, PyTorch): {var} (the network holds "
                f"{u.var_after:.4g})",
                f"&nbsp;&nbsp;σ², biased (Keras 3): {biased}",
            ]  # fmt: skip
        lines.append(BNVIZ_CONVENTION)
        self.convention_label.setText("<br>".join(lines))
