"""The softmax layer at work: decision regions, and z -> t = e^z -> a = t / sum(t) for one example.

For 2-D data the left plot shows the eval-mode decision regions (colour = argmax class, pale =
unsure) under the training points; clicking a point selects it, and "per class" opens one map
of a_c per class in a window of its own. For images it shows the chosen validation example
instead, and for other data there is no left plot. The bars on the right follow one example
through the output layer, with its true class outlined, hardmax beside softmax. The temperature
slider re-draws bars and maps with softmax(z / T): the probabilities sharpen or flatten, the
argmax stays. With two classes, a_1 = sigmoid(z_1 - z_0) is shown for the example and along a
line through the data.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QSpinBox, QVBoxLayout

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.panels import softmax_bars as bars_module
from bnviz.gui.panels._view import eval_key
from bnviz.gui.panels.run_picker import RunPicker
from bnviz.gui.panels.softmax_bars import SoftmaxBars, TemperatureSlider, softmax_steps
from bnviz.gui.panels.softmax_logistic import LogisticCurves
from bnviz.gui.panels.softmax_maps import (
    MAX_POINTS,
    ClassMaps,
    ClassMapsWindow,
    RegionsPlot,
    plotted_indices,
)
from bnviz.gui.panels.softmax_notes import WAITING, ExampleNotes
from bnviz.lessons import softmax_explained  # registers the "softmax_line" probe
from bnviz.lessons.calibration import fit_temperature, nll
from bnviz.train import probes
from bnviz.train.protocol import ProbeRequest
from bnviz.train.snapshot import GridResult, Snapshot

__all__ = [
    "GRID_POINTS", "MAX_POINTS", "REGIONS", "SoftmaxPanel", "plotted_indices", "softmax_steps",
]  # fmt: skip

LEFT_STRETCH = 3  # the regions/image column against the bars' 2
LOGISTIC_STRETCH = 1  # the C = 2 curves' row against the 3 rows above it
GRID_POINTS = 72  # 5,184 points per network, 4 times a second (the probe's rate)
REGIONS = probes.request("decision_grid", points=GRID_POINTS)
LINE = probes.request("softmax_line")
PROBE_PREFIX = "validation example #"
FIT_T_TIP = (
    "Temperature scaling (Guo et al. 2017): the T that minimises the mean NLL of softmax(z / T) "
    "on the validation examples kept (the predictions do not change)."
)


HELP_BUTTON_ROOM = 26  # the window's "?" button floats at the panel's top right


class SoftmaxPanel(Panel):
    """Decision regions (or the example image) and the softmax of one chosen example."""

    title = "Softmax outputs"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.data: Dataset | None = None
        self.source = "val"  # "train" (clicked point) or "val" (probe spin box)
        self.index = 0
        self._frame: Frame | None = None
        self._grids: dict[str, GridResult] = {}
        self._grids_seen: object = None
        self._lines: dict[str, softmax_explained.LineCurves] = {}
        self._lines_seen: object = None
        self._shown_grid: tuple | None = None
        self._shown_line: tuple | None = None
        self._shown_examples = 0
        self._shown_bars: tuple | None = None
        self.region_proba: np.ndarray | None = None  # what the maps show: softmax(z / T)
        self._build_controls()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._controls)
        layout.addWidget(self.notes)
        layout.addWidget(self.view, 1)

    # -- construction --------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.net_combo = RunPicker(
            "Which network's softmax to show: with BN or without BN (compare mode)."
        )
        self.net_combo.currentIndexChanged.connect(self._redraw)
        self.probe = QSpinBox()
        # Named by its set, as the text under it names the example shown: a clicked training
        # point is "training example #227", never "probe example #0".
        self.probe.setPrefix(PROBE_PREFIX)
        self.probe.setToolTip(
            "A validation example x: its logits z = W x + b of the output layer, t = e^z and "
            "the softmax probabilities a = t / sum(t) are drawn on the right."
        )
        self.probe.valueChanged.connect(self.select_validation_example)
        self.temperature = TemperatureSlider()
        self.temperature.temperature_changed.connect(self._temperature_changed)
        self.fit_t = QPushButton("Fit T on validation")
        self.fit_t.setToolTip(FIT_T_TIP)
        self.fit_t.clicked.connect(self.fit_temperature)
        self.per_class = QCheckBox("per class")
        self.per_class.setToolTip(
            "A window with one map per class of its probability a_c (0 to 1, with its colour "
            "scale); closing it unticks the box."
        )
        self.per_class.toggled.connect(self._show_maps)
        self.logistic_box = QCheckBox("C = 2 curves")
        self.logistic_box.setChecked(True)
        self.logistic_box.setToolTip(
            "2 classes: softmax a_1 and sigmoid(z_1 - z_0) along a line through the data, one "
            "on top of the other (uncheck to give the plots above more room)."
        )
        self.logistic_box.toggled.connect(self._toggle_curves)
        self.notes = ExampleNotes()
        self.status = self.notes.status  # the tests read the panel's status line
        # Two rows: in one, the temperature and the check boxes ran under the panel's "?"
        # button and were cut ("per c") at the width the panel gets beside its neighbours.
        self._controls = QVBoxLayout()
        self._controls.setSpacing(2)
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(self.net_combo)
        first.addWidget(self.probe)
        first.addStretch(1)
        first.addSpacing(HELP_BUTTON_ROOM)
        second.addWidget(self.temperature, 1)
        second.addWidget(self.fit_t)
        second.addWidget(self.per_class)
        second.addWidget(self.logistic_box)
        self._controls.addLayout(first)
        self._controls.addLayout(second)

    def _build_plots(self) -> None:
        self.left_plot = RegionsPlot()
        lp = self.left_plot  # the tests and the selection code reach its items by these names
        self.regions, self.points, self.marker, self.digit, self.line = (
            lp.regions, lp.points, lp.marker, lp.digit, lp.line
        )  # fmt: skip
        self.points.sigClicked.connect(self._on_points_clicked)
        self.view.addItem(self.left_plot, row=0, col=0, rowspan=3)
        self._left_shown = True
        self.maps = ClassMaps([], [])
        self._maps_shown = False
        self.maps_window = ClassMapsWindow(self)
        self.maps_window.closed.connect(lambda: self.per_class.setChecked(False))
        self.bars_view = SoftmaxBars(self.view.ci, col=2)
        self.bars = self.bars_view.bars
        self.z_plot, self.t_plot, self.a_plot = (
            self.bars_view.z_plot, self.bars_view.t_plot, self.bars_view.a_plot
        )  # fmt: skip
        self.curves = LogisticCurves()
        self._curves_shown = False
        self._set_stretch()

    def _set_stretch(self) -> None:
        # An empty column keeps its stretch share: give it none, or the bars sit off to one side.
        grid = self.view.ci.layout
        grid.setColumnStretchFactor(0, LEFT_STRETCH if self._left_shown else 0)
        grid.setColumnStretchFactor(1, 0)  # the per-class maps have their own window
        grid.setColumnStretchFactor(2, 2)
        for row in range(3):
            grid.setRowStretchFactor(row, 1)
        grid.setRowStretchFactor(3, LOGISTIC_STRETCH if self._curves_shown else 0)

    # -- Panel ---------------------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        """New data: new points, class ticks and bar colours; forget regions and selection."""
        self.data = data
        self._grids.clear()
        self._lines.clear()
        self._grids_seen = self._lines_seen = None
        self._shown_grid = self._shown_line = self._shown_bars = None
        self._frame = None
        self.region_proba = None
        C = data.n_classes
        colors = [style.CLASS_COLORS[c % len(style.CLASS_COLORS)] for c in range(C)]
        names = list(data.class_names)
        self.bars_view.set_classes(names, colors)
        planar = data.n_features == 2
        self.left_plot.set_dataset(data, colors)
        if planar:
            self.left_plot.set_temperature(self.temperature.temperature)
        if self._maps_shown:
            self.maps_window.set_maps(None)
            self._maps_shown = False
        self.maps = ClassMaps(names if planar else [], colors if planar else [])
        self.per_class.setVisible(planar)
        self.curves.set_color(colors[-1])
        self.curves.show(None, 1.0)
        self.notes.set_classes(C)
        self._show_left(planar or data.image_shape is not None)
        self._show_maps()
        self.logistic_box.setVisible(C == 2)
        self._show_curves(C == 2 and self.logistic_box.isChecked())
        self.probe.blockSignals(True)
        self.probe.setRange(0, 0)  # until a snapshot says how many examples have logits
        self.probe.blockSignals(False)
        self._shown_examples = 0
        self.source, self.index = "val", 0
        self._show_source()
        self._update_selection_view()

    def probe_requests(self) -> tuple[ProbeRequest, ...]:
        """The decision regions for 2-D data; the line of "C = 2 is logistic regression"."""
        if self.data is None:
            return ()
        planar = (REGIONS,) if self.data.n_features == 2 else ()
        return planar + ((LINE,) if self.data.n_classes == 2 else ())

    def render(self, frame: Frame) -> None:
        self._frame = frame
        self.net_combo.sync(frame.snapshots)
        grids = frame.probes.get(REGIONS)
        if grids is not None and grids is not self._grids_seen:  # new regions; else keep the last
            self._grids_seen = grids
            for grid in grids:
                self._grids[grid.run] = grid
        lines = frame.probes.get(LINE)
        if lines is not None and lines is not self._lines_seen:
            self._lines_seen = lines
            self._lines.update(lines)
        if frame.snapshots and frame.snapshots[0].shown_examples != self._shown_examples:
            self._set_shown_examples(frame.snapshots[0].shown_examples)
        self._redraw()

    def _set_shown_examples(self, n: int) -> None:
        """The probe spin box reaches the examples whose logits the evaluations keep."""
        self._shown_examples = n
        self.probe.blockSignals(True)
        self.probe.setRange(0, max(0, n - 1))
        self.probe.blockSignals(False)
        if self.source == "val" and self.probe.value() != self.index:
            self.select_validation_example(self.probe.value())

    def export_items(self) -> list:
        items = [self.z_plot, self.t_plot, self.a_plot]
        left = [self.left_plot] if self._left_shown else []
        maps = [self.maps] if self._maps_shown else []
        curves = [self.curves.plot] if self._curves_shown else []
        return [*left, *maps, *items, *curves]

    # -- selection and temperature (view -> model) ---------------------------------------------
    def select_training_example(self, i: int) -> None:
        """Follow training example ``i`` (what clicking its point does)."""
        self.source, self.index = "train", int(i)
        self._show_source()
        self._update_selection_view()
        self._redraw()

    def select_validation_example(self, i: int) -> None:
        """Follow validation example ``i`` (the probe spin box)."""
        self.source, self.index = "val", int(i)
        if self.probe.value() != i:
            self.probe.blockSignals(True)
            self.probe.setValue(i)
            self.probe.blockSignals(False)
        self._show_source()
        self._update_selection_view()
        self._redraw()

    def set_temperature(self, temperature: float) -> None:
        """Show softmax(z / T) (what the slider does); T in 0.05..20."""
        self.temperature.set_temperature(temperature)

    def fit_temperature(self) -> float | None:
        """Set T to the one fitted on the shown network's validation logits (the first
        examples an evaluation keeps); says what it did under the bars."""
        snap = self._snapshot()
        ev = None if snap is None or snap.diverged else snap.evaluation
        if ev is None or self.data is None or not len(ev.val_logits):
            self.notes.say("no validation logits yet to fit T on")
            return None
        z = np.asarray(ev.val_logits, dtype=np.float64)
        y = np.asarray(self.data.y_val[: len(z)])
        try:
            t = fit_temperature(z, y)
        except ValueError as e:
            self.notes.say(f"cannot fit T: {e}")
            return None
        shown = min(max(t, bars_module.T_MIN), bars_module.T_MAX)
        self.set_temperature(shown)
        clipped = f" (the slider stops at {shown:g})" if shown != t else ""
        said = (
            f"T = {t:.3g}{clipped} fitted on {len(z)} validation examples of "
            f"{style.run_label(snap.run, snap.batchnorm)}: NLL {nll(z, y):.4f} at T = 1, "
            f"{nll(z, y, shown):.4f} now"
        )
        self.status.setText(said)  # under the bars until the next example is described
        self.fit_t.setToolTip(f"{FIT_T_TIP}\n\nLast fit: {said}.")
        return t

    def _temperature_changed(self, temperature: float) -> None:
        self.bars_view.set_temperature_label(temperature)
        if self.data is not None and self.data.n_features == 2:
            self.left_plot.set_temperature(temperature)
        self._redraw()

    def _show_source(self) -> None:
        """The spin box picks validation examples: while a clicked training point is shown it
        says so instead of a validation number that is not the one shown."""
        train = self.source == "train"
        self.probe.setPrefix(f"training #{self.index} (val #" if train else PROBE_PREFIX)
        self.probe.setSuffix(")" if train else "")

    def _on_points_clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.select_training_example(int(points[0].data()))

    # -- drawing -------------------------------------------------------------------------------
    def _snapshot(self) -> Snapshot | None:
        return None if self._frame is None else self.net_combo.pick(self._frame.snapshots)

    def _redraw(self, *_args) -> None:
        snap = self._snapshot()
        if snap is None or self.data is None:
            return
        T = self.temperature.temperature
        self._draw_regions(snap, T)
        self._draw_line(snap, T)
        ev = snap.evaluation
        if snap.diverged:
            self._shown_bars = None
            self._set_bars(None)
            self.notes.say(
                f"{style.run_label(snap.run, snap.batchnorm)} diverged at step "
                f"{snap.diverged_step}: its outputs are no longer finite"
            )
            return
        if ev is None:
            self._set_bars(None)
            self.notes.say(WAITING)
            return
        shown = (eval_key(ev), snap.run, self.source, self.index, T)
        if shown == self._shown_bars:
            return
        self._shown_bars = shown
        logits = ev.train_logits if self.source == "train" else ev.val_logits
        if self.index >= len(logits):
            self._set_bars(None)
            self.notes.say(
                f"logits are kept for the first {len(logits)} examples only; pick another"
            )
            return
        self._set_bars(np.asarray(logits[self.index], dtype=np.float64))

    def _draw_regions(self, snap: Snapshot, T: float) -> None:
        if not self.regions.isVisible():
            return
        grid = None if snap.diverged else self._grids.get(snap.run)
        # Identity, not ==: the grids hold arrays (and a new grid may reuse a freed one's id).
        shown = self._shown_grid
        if shown is not None and shown[0] is grid and shown[1:] == (T, self._maps_shown):
            return
        self._shown_grid = (grid, T, self._maps_shown)
        self.region_proba = None if grid is None else grid.proba(T)
        self.left_plot.show_regions(grid, self.region_proba)
        if self._maps_shown:
            self.maps.show(grid, self.region_proba)

    def _draw_line(self, snap: Snapshot, T: float) -> None:
        if not self._curves_shown:
            return
        curves = None if snap.diverged else self._lines.get(snap.run)
        shown = self._shown_line
        if shown is not None and shown[0] is curves and shown[1] == T:
            return
        self._shown_line = (curves, T)
        self.curves.show(curves, T)
        if curves is None or curves.points.shape[1] != 2:
            self.line.setData([], [])
        else:
            ends = curves.points[[0, -1]]
            self.line.setData(ends[:, 0], ends[:, 1])

    def _set_bars(self, z: np.ndarray | None) -> None:
        if z is None:
            self.bars_view.clear()
            return
        T = self.temperature.temperature
        true = self._true_class()
        a = self.bars_view.show(z, T, true)
        which = "training" if self.source == "train" else "validation"
        self.notes.describe(f"{which} example #{self.index}", z, a, true, self.data.class_names, T)

    @property
    def logistic(self) -> tuple[float, float] | None:
        """(a_1, sigmoid(z_1 - z_0)) of the example shown at T (2 classes), else None."""
        return self.notes.logistic

    def _true_class(self) -> int:
        y = self.data.y_train if self.source == "train" else self.data.y_val
        return int(y[self.index]) if self.index < len(y) else -1

    def _update_selection_view(self) -> None:
        """Ring the chosen point on the regions, or show the chosen image."""
        data = self.data
        if data is None:
            return
        X = data.X_train if self.source == "train" else data.X_val
        if self.index >= len(X):
            self.marker.setData([], [])
            return
        if data.n_features == 2:
            self.marker.setData([float(X[self.index, 0])], [float(X[self.index, 1])])
        elif data.image_shape is not None:
            img = data.raw(X[self.index]).reshape(data.image_shape)
            name = data.class_names[self._true_class()]
            self.left_plot.show_digit(img, f"example #{self.index} (true: {name})")

    # -- which parts are shown -----------------------------------------------------------------
    def _show_left(self, on: bool) -> None:
        if on != self._left_shown:
            self._left_shown = on
            if on:
                self.view.addItem(self.left_plot, row=0, col=0, rowspan=3)
            else:
                self.view.removeItem(self.left_plot)
        self._set_stretch()

    def _show_maps(self, *_args) -> None:
        """The per-class maps, for 2-D data while "per class" is checked."""
        planar = self.data is not None and self.data.n_features == 2
        on = planar and self.per_class.isChecked()
        if on != self._maps_shown:
            self._maps_shown = on
            if on:
                self.maps_window.set_maps(self.maps)
                self.maps_window.show()
                self.maps_window.raise_()
            else:
                self.maps_window.set_maps(None)
                self.maps_window.hide()
            self._shown_grid = None
        self._set_stretch()
        self._redraw()

    def _toggle_curves(self, on: bool) -> None:
        self._show_curves(on and self.data is not None and self.data.n_classes == 2)
        self._redraw()

    def _show_curves(self, on: bool) -> None:
        """The C = 2 curves, in a row under the rest."""
        if on != self._curves_shown:
            self._curves_shown = on
            if on:
                self.view.addItem(self.curves.plot, row=3, col=0, colspan=3)
            else:
                self.view.removeItem(self.curves.plot)
            self._shown_line = None
        self._set_stretch()
