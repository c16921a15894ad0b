"""The neuron inspector: batch norm inside out, one unit of the live network(s) at a time.

Draws what the ``bn_unit`` probe (:mod:`bnviz.lessons.bn_inside`) computes on the current
mini-batch: z with mu and mu +/- sigma, z_norm, z_tilde and a, one column per network; the
unit's gamma and beta over training (collected here from the probe's results while shown) and
the layer's gammas and betas now. The "shift b" slider passes a bias to the probe; the identity
button runs the ``bn_identity`` action in the training process and a second click undoes it with
``bn_set_gamma_beta`` (:mod:`bnviz.train.actions`).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.lessons._gamma_beta import GammaBetaHistory, LayerGammaBeta
from bnviz.gui.lessons._unit_strips import UnitStrips
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.panel import Frame
from bnviz.gui.staged import paint_in_turns
from bnviz.lessons.bn_inside import GammaBeta, UnitView
from bnviz.train.probes import request
from bnviz.train.protocol import ProbeRequest

BIAS_STEPS = 100  # the slider's ticks on each side of 0
BIAS_PER_STEP = 0.05  # so b goes from -5 to +5
TEXT_INTERVAL_S = 0.25
IDENTITY = "\u03b3 = \u221a(\u03c3\u00b2 + \u03b5),  \u03b2 = \u03bc"


class InspectorView(LessonView):
    """Inside a BN unit: pick a layer and a unit, shift b, make BN the identity."""

    title = "Inside a BN unit"
    explanation = (
        "One unit of the network on the current mini-batch. Batch norm subtracts the batch mean "
        "\u03bc of the unit's z and divides by its spread, then gives it the mean \u03b2 and "
        "spread \u03b3 the network learned. A bias b is redundant: the mean subtraction cancels "
        "it and \u03b2 takes its place (move <i>shift b</i>: z and \u03bc move, z<sub>norm</sub> "
        "and z\u0303 stay put). With \u03b3 = \u221a(\u03c3\u00b2 + \u03b5) and \u03b2 = \u03bc "
        "batch norm undoes itself and z\u0303 = z (the button sets them in the live network)."
    )
    formula = (
        "\u03bc = (1/m) \u03a3<sub>i</sub> z<sup>(i)</sup> &nbsp;&nbsp; "
        "\u03c3\u00b2 = (1/m) \u03a3<sub>i</sub> (z<sup>(i)</sup> \u2212 \u03bc)\u00b2 "
        "&nbsp;&nbsp; "
        "z<sub>norm</sub><sup>(i)</sup> = (z<sup>(i)</sup> \u2212 \u03bc) / "
        "\u221a(\u03c3\u00b2 + \u03b5) &nbsp;&nbsp; "
        "z\u0303<sup>(i)</sup> = \u03b3 z<sub>norm</sub><sup>(i)</sup> + \u03b2 &nbsp;&nbsp; "
        "a<sup>(i)</sup> = g(z\u0303<sup>(i)</sup>)"
    )

    # (kind, future) of a finished action, queued from the worker's reader thread to this one
    _action_finished = Signal(str, object)

    def __init__(self) -> None:
        super().__init__()
        self.layer, self.unit, self.bias = 1, 0, 0.0
        self.worker: Any = None  # the window's TrainingWorker, once connected
        self.applied: GammaBeta | None = None  # what the identity button did (None: nothing)
        self.busy = False
        self._shown: tuple[UnitView, ...] | None = None
        self._shown_bias = 0.0
        self._text_at = -TEXT_INTERVAL_S
        # Numbers that change 30 times a second cannot be read: they are written a few times a
        # second, and once more after the last frame (a paused run shows its final numbers).
        # The dots are drawn in the same call from the same probe result, so what is printed
        # is always what is plotted (they used to run ahead of the numbers).
        self._text_timer = QTimer(self, singleShot=True)
        self._text_timer.timeout.connect(self._draw_unit)
        self._build()
        self._action_finished.connect(self._finished)

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        bar = QHBoxLayout()
        self.layer_box, self.unit_box = QSpinBox(), QSpinBox()
        self.layer_box.setRange(1, 1)
        self.unit_box.setRange(0, 0)
        self.layer_box.setToolTip("The hidden layer (1 = the first after the input).")
        self.unit_box.setToolTip("The unit of that layer (or click a point in the right plot).")
        self.layer_box.valueChanged.connect(lambda v: self.select(layer=v))
        self.unit_box.valueChanged.connect(lambda v: self.select(unit=v))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-BIAS_STEPS, BIAS_STEPS)
        self.slider.setMinimumWidth(160)
        self.slider.setToolTip(
            "Adds b to this unit's z before batch norm (every network).\nz and \u03bc move by "
            "b; z_norm and z\u0303 do not: under BN the bias is redundant."
        )
        self.slider.valueChanged.connect(self._slid)
        self.bias_label = QLabel()
        self.identity_button = QPushButton(IDENTITY)
        self.identity_button.setToolTip(
            "Sets this unit's \u03b3 and \u03b2 in the live BN network to \u221a(\u03c3\u00b2 + "
            "\u03b5) and \u03bc of the current mini-batch: z\u0303 becomes z.\nClick again to "
            "put the old values back. Training goes on from the new values."
        )
        self.identity_button.clicked.connect(self.toggle_identity)
        self.message = QLabel()
        for w in (QLabel("Layer"), self.layer_box, QLabel("Unit"), self.unit_box):
            bar.addWidget(w)
        bar.addSpacing(16)
        bar.addWidget(QLabel("shift b"))
        bar.addWidget(self.slider)
        bar.addWidget(self.bias_label)
        bar.addSpacing(16)
        bar.addWidget(self.identity_button)
        bar.addWidget(self.message, 1)
        self.body.addLayout(bar)
        self.columns_box = QHBoxLayout()
        self.columns: dict[str, UnitStrips] = {}
        holder = QWidget()
        holder.setLayout(self.columns_box)
        self.body.addWidget(holder, 3)
        self.bottom = pg.GraphicsLayoutWidget()
        self.bottom.setBackground(style.BACKGROUND)
        self.history = GammaBetaHistory(self.bottom.ci, 0)
        self.across = LayerGammaBeta(self.bottom.ci, 1)
        self.across.unit_clicked.connect(lambda u: self.select(unit=u))
        self.body.addWidget(self.bottom, 2)
        self._show_bias()

    # -- the window ----------------------------------------------------------------------------
    def connect_window(self, window: Any) -> None:
        """Keep the window's training worker (for the actions) and open on a double-click of a
        layer in the activations panel."""
        super().connect_window(window)
        self.worker = getattr(window, "worker", None)
        panel = getattr(window, "panels", {}).get("activations")
        if panel is not None and hasattr(panel, "layer_double_clicked"):
            panel.layer_double_clicked.connect(lambda layer: self._open_at(window, layer))

    def _open_at(self, window: Any, layer: int) -> None:
        self.select(layer=layer)
        window.open_lesson(type(self).__name__)

    # -- Panel API -----------------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        """A new run: its networks are new, so nothing to undo and no history."""
        self.applied, self.busy, self._shown = None, False, None
        self.message.setText("")
        self._update_button(None)
        self.history.clear()
        for col in self.columns.values():
            col.reset()

    def probe_requests(self) -> tuple[ProbeRequest, ...]:
        return (self.request(),)

    def request(self) -> ProbeRequest:
        return request("bn_unit", layer=self.layer, unit=self.unit, bias=self.bias)

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        views = frame.probes.get(self.request())
        if views is None or views is self._shown or not isinstance(views, tuple):
            return
        self._shown, self._shown_bias = views, self.bias
        self._set_ranges(views)
        wait = self._text_at + TEXT_INTERVAL_S - time.monotonic()
        if wait <= 0:
            self._draw_unit()
        elif not self._text_timer.isActive():
            self._text_timer.start(round(1000 * wait) + 1)
        step = frame.snapshots[0].step if frame.snapshots else 0
        bn = next((u for u in views if u.batchnorm), None)
        if bn is not None and bn.gamma is not None and bn.beta is not None:
            self.history.add(step, bn.gamma, bn.beta)
        elif not self.history.points:
            self.history.clear("no batch norm: no \u03b3, \u03b2")
        self.across.show_layer(bn.gammas if bn else None, bn.betas if bn else None, self.unit)
        self._update_button(bn)

    # -- controls ------------------------------------------------------------------------------
    def select(self, layer: int | None = None, unit: int | None = None) -> None:
        """Show ``unit`` of ``layer`` (either may be left as is); another unit starts its
        gamma/beta history afresh."""
        layer = self.layer if layer is None else max(1, int(layer))
        unit = self.unit if unit is None else max(0, int(unit))
        if (layer, unit) == (self.layer, self.unit):
            return
        self.layer, self.unit = layer, unit
        for box, value in ((self.layer_box, layer), (self.unit_box, unit)):
            if box.maximum() < value:
                box.setMaximum(value)  # the probe clips it; the ranges follow its answer
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.history.clear()
        for col in self.columns.values():
            col.reset()

    def _slid(self, value: int) -> None:
        self.bias = round(value * BIAS_PER_STEP, 2)
        self._show_bias()

    def _show_bias(self) -> None:
        self.bias_label.setText(f"b = {self.bias:+.2f}")

    def _set_ranges(self, views: tuple[UnitView, ...]) -> None:
        hidden = max((u.n_hidden for u in views), default=1)
        units = max((u.n_units for u in views if u.layer == self.layer), default=1)
        self.layer_box.setMaximum(max(hidden, 1))
        self.unit_box.setMaximum(max(units - 1, 0))
        shown = views[0] if views else None
        if shown is not None and (shown.layer, shown.unit) != (self.layer, self.unit):
            self.select(layer=shown.layer, unit=shown.unit)  # clipped by the probe

    def _draw_unit(self) -> None:
        """Dots and numbers of every network from the one probe result last received."""
        self._text_at = time.monotonic()
        views = self._shown or ()
        built = False
        for i, u in enumerate(views):
            if u.run not in self.columns:
                # A network's strips are built in one turn of the event loop and drawn in a
                # later one, one network per turn: building, drawing and painting them at once
                # made the lesson's first opening block the window for ~100 ms.
                if not built:
                    built = True
                    self._column(u.run)
                self._text_timer.start(1)
                continue
            self._column(u.run).show_result(u, i, self._shown_bias)
        names = {u.run for u in views}
        for run, col in self.columns.items():
            col.setVisible(run in names)

    def _column(self, run: str) -> UnitStrips:
        col = self.columns.get(run)
        if col is None:
            col = self.columns[run] = UnitStrips(run)
            self.columns_box.addWidget(col)
            paint_in_turns(col.findChildren(QGraphicsView))  # its first paints: one per turn
        return col

    # -- the identity button -----------------------------------------------------------------
    def toggle_identity(self) -> None:
        """First click: gamma = sqrt(sigma^2 + eps), beta = mu in the BN network; second click:
        the old gamma and beta back."""
        if self.busy or self.worker is None:
            return
        if self.applied is None:
            bn = next((u for u in self._shown or () if u.batchnorm), None)
            if bn is None:
                self.message.setText("no network here has batch norm")
                return
            kind = "identity"
            self.slider.setValue(0)  # the identity is for the network's own z, unshifted
            future = self.worker.act("bn_identity", run=bn.run, layer=bn.layer, unit=bn.unit)
        else:
            a = self.applied
            kind = "undo"
            future = self.worker.act(
                "bn_set_gamma_beta", run=a.run, layer=a.layer, unit=a.unit,
                gamma=a.old_gamma, beta=a.old_beta,
            )  # fmt: skip
        self.busy = True
        self.identity_button.setEnabled(False)
        future.add_done_callback(lambda f, k=kind: self._action_finished.emit(k, f))

    def _finished(self, kind: str, future: Future) -> None:
        self.busy = False
        try:
            result = future.result()
        except Exception as e:  # the training process's message (a reset network, a bad unit)
            self.message.setStyleSheet("color: #b00000;")
            self.message.setText(str(e))
        else:
            self.message.setStyleSheet("")
            if kind == "identity":
                self.applied = result
                self.message.setText(
                    f"\u03b3 {result.old_gamma:.3g} \u2192 {result.gamma:.3g}, "
                    f"\u03b2 {result.old_beta:.3g} \u2192 {result.beta:.3g}: z\u0303 = z"
                )
            else:
                self.applied = None
                self.message.setText(f"\u03b3 and \u03b2 back to {result.gamma:.3g}, "
                                     f"{result.beta:.3g}")  # fmt: skip
        self._update_button(next((u for u in self._shown or () if u.batchnorm), None))

    def _update_button(self, bn: UnitView | None) -> None:
        a = self.applied
        if a is not None:
            text = f"Undo: \u03b3, \u03b2 of unit {a.unit} (layer {a.layer}) back"
        else:
            text = IDENTITY
        if self.identity_button.text() != text:
            self.identity_button.setText(text)
        can = self.worker is not None and not self.busy and (a is not None or bn is not None)
        self.identity_button.setEnabled(can)
