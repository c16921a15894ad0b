"""The softmax layer at work: decision regions, and z -> t = e^z -> a = t / sum(t) for one example.

For 2-D data the left plot shows the eval-mode decision regions (colour = argmax class, pale =
unsure) under the training points; clicking a point selects it. For images it shows the chosen
validation example instead, and for other data there is no left plot. The bars on the right
follow one example through the output layer, with its true class outlined.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.panels._view import cache_axes, eval_key
from bnviz.gui.panels.run_picker import RunPicker
from bnviz.nn.layers import softmax
from bnviz.train import probes
from bnviz.train.protocol import ProbeRequest
from bnviz.train.snapshot import GridResult, Snapshot

# Region colour = white blended towards the class colour by how sure the net is; capped below 1
# so the class-coloured training points stay visible on top of their own region.
REGION_STRENGTH = 0.6
CLASS_RGB = np.array(style.CLASS_COLORS, dtype=np.float32)
WHITE = np.float32(255.0)
BAR_WIDTH = 0.7
LEFT_STRETCH = 3  # the regions/image column against the bars' 2
TRUE_PEN = pg.mkPen("k", width=3)
OTHER_PEN = pg.mkPen((90, 90, 90), width=0.5)
GREY_LUT = np.repeat(np.linspace(255, 0, 256).astype(np.uint8)[:, None], 3, axis=1)
# At most this many training points are drawn: a fixed random subset (seeded, so points do not
# jump between frames or runs), which keeps the scatter's paint cost independent of the data size.
MAX_POINTS = 3000
POINTS_SEED = 0
GRID_POINTS = 72  # 5,184 points per network, 4 times a second (the probe's rate)
REGIONS = probes.request("decision_grid", points=GRID_POINTS)


def softmax_steps(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(t, a)`` for logits ``z`` (C,): the bars ``t = e^(z - max z)`` and ``a = t / sum(t)``.

    t is drawn shifted by max z, as the softmax computes it: the shift cancels in ``a`` but keeps
    e^z finite. ``t = a / max(a)`` because the largest logit's t is e^0 = 1.
    """
    a = softmax(np.asarray(z, dtype=np.float64))
    return a / a.max(), a


def plotted_indices(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """The rows of an ``n``-row training set that are drawn: all of them up to ``limit``, else
    a fixed random subset of ``limit`` rows (the same for every call), in ascending order."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(POINTS_SEED).choice(n, limit, replace=False))


def region_rgb(proba: np.ndarray) -> np.ndarray:
    """(ny, nx, C) probabilities -> (ny, nx, 3) uint8: argmax class colour, white at chance."""
    C = proba.shape[-1]
    cls = proba.argmax(axis=-1)
    top = np.take_along_axis(proba, cls[..., None], axis=-1)[..., 0]
    sure = np.clip((top - 1.0 / C) / (1.0 - 1.0 / C), 0.0, 1.0) * REGION_STRENGTH
    sure = np.nan_to_num(sure, nan=0.0)[..., None].astype(np.float32)
    rgb = WHITE + (CLASS_RGB[cls % len(CLASS_RGB)] - WHITE) * sure
    return rgb.astype(np.uint8)


def _dark_axes(plot: pg.PlotItem) -> None:
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen("k")
        ax.setTextPen("k")


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
        self._shown_grid: GridResult | None = None
        self._shown_examples = 0
        self._shown_bars: tuple | None = None
        self._build_controls()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._controls)
        layout.addWidget(self.status)
        layout.addWidget(self.view)

    # -- construction --------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.net_combo = RunPicker(
            "Which network's softmax to show: with BN or without BN (compare mode)."
        )
        self.net_combo.currentIndexChanged.connect(self._redraw)
        self.probe = QSpinBox()
        self.probe.setPrefix("probe example #")
        self.probe.setToolTip(
            "A validation example x: its logits z = W x + b of the output layer, t = e^z and "
            "the softmax probabilities a = t / sum(t) are drawn on the right."
        )
        self.probe.valueChanged.connect(self.select_validation_example)
        self.status = QLabel("waiting for the first evaluation")
        self.status.setToolTip(
            "The prediction is argmax a, the class with the largest softmax probability."
        )
        self._controls = QHBoxLayout()
        self._controls.addWidget(self.net_combo)
        self._controls.addWidget(self.probe)
        self._controls.addStretch(1)

    def _build_plots(self) -> None:
        self.left_plot = pg.PlotItem()
        self.left_plot.setAspectLocked(True)
        self.left_plot.setToolTip(
            "Decision regions in eval mode (BN uses its running mean and variance): each "
            "pixel has the colour of argmax a, paler where the top probability is near chance."
        )
        _dark_axes(self.left_plot)
        self.regions = pg.ImageItem(axisOrder="row-major")
        self.regions.setZValue(-10)
        self.points = pg.ScatterPlotItem(size=7, pen=pg.mkPen((30, 30, 30), width=0.8))
        self.points.sigClicked.connect(self._on_points_clicked)
        self.points.setToolTip("Click a training point to follow it through the softmax.")
        self.marker = pg.ScatterPlotItem(
            size=18, symbol="o", brush=None, pen=pg.mkPen("k", width=2.5)
        )
        self.digit = pg.ImageItem(axisOrder="row-major")
        self.digit.setLookupTable(GREY_LUT)
        for item in (self.regions, self.points, self.marker, self.digit):
            self.left_plot.addItem(item)
        self.view.addItem(self.left_plot, row=0, col=0, rowspan=3)
        self._left_shown = True

        self.z_plot = self.view.addPlot(row=0, col=1)
        self.t_plot = self.view.addPlot(row=1, col=1)
        self.a_plot = self.view.addPlot(row=2, col=1)
        self.z_plot.setLabel("left", "z (logits)")
        self.t_plot.setLabel("left", "t = e^z (scaled)")
        self.a_plot.setLabel("left", "a = t / sum(t)")
        self.a_plot.setLabel("bottom", "class")
        self.a_plot.getAxis("bottom").setToolTip("The true class's bars have a black outline.")
        self.t_plot.getAxis("left").setToolTip(
            "t = e^(z - max z): shifting every z by the same amount leaves a = t / sum(t) "
            "unchanged and keeps e^z from overflowing, so the largest t is 1."
        )
        self.a_plot.getAxis("left").setToolTip(
            "a = t / sum(t), t = e^z: the softmax probabilities; they sum to 1."
        )
        self.z_plot.getAxis("left").setToolTip("z: the output layer's scores, one per class.")
        self.bars = {}
        for name, plot in (("z", self.z_plot), ("t", self.t_plot), ("a", self.a_plot)):
            _dark_axes(plot)
            plot.getAxis("left").setWidth(48)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH)
            plot.addItem(bars)
            self.bars[name] = bars
        self.z_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((0, 0, 0), width=1)))
        for plot in (self.t_plot, self.a_plot):
            plot.setYRange(0.0, 1.08, padding=0)
            plot.enableAutoRange(axis="y", enable=False)
        self.view.ci.layout.setColumnStretchFactor(0, LEFT_STRETCH)
        self.view.ci.layout.setColumnStretchFactor(1, 2)
        for plot in (self.left_plot, self.z_plot, self.t_plot, self.a_plot):
            cache_axes(plot)

    # -- Panel ---------------------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        """New data: new points, class ticks and bar colours; forget regions and selection."""
        self.data = data
        self._grids.clear()
        self._grids_seen = None
        self._shown_grid = None
        self._shown_bars = None
        self._frame = None
        self.regions.clear()
        C = data.n_classes
        colors = [style.CLASS_COLORS[c % len(style.CLASS_COLORS)] for c in range(C)]
        every = max(1, -(-C // 4))  # at most ~4 labels: the bar plots are narrow
        ticks = [
            [(c, data.class_names[c]) for c in range(0, C, every)],
            [(c, "") for c in range(C)],
        ]
        for name, bars in self.bars.items():
            bars.setOpts(x=np.arange(C), height=np.zeros(C), brushes=colors, pens=[OTHER_PEN] * C)
            plot = {"z": self.z_plot, "t": self.t_plot, "a": self.a_plot}[name]
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(-0.6, C - 0.4, padding=0)
        planar = data.n_features == 2
        self.left_plot.enableAutoRange()
        images = data.image_shape is not None
        self._show_left(planar or images)
        self.regions.setVisible(planar)
        self.points.setVisible(planar)
        self.digit.setVisible(images)
        for name in ("left", "bottom"):
            self.left_plot.showAxis(name, not images)  # pixel numbers would mean nothing
        if planar:
            idx = plotted_indices(len(data.X_train))
            X, y = data.X_train[idx], data.y_train[idx]
            brushes = [pg.mkBrush(c) for c in colors]
            self.points.setData(x=X[:, 0], y=X[:, 1], data=idx, brush=[brushes[k] for k in y])
            self.left_plot.setTitle("regions: argmax a (pale = unsure)", color="k")
            self.left_plot.invertY(False)
        else:
            self.points.setData([], [])
        if images:  # grey levels from the plotted subset: the whole set took 0.25 s for MNIST
            raw = data.raw(data.X_train[plotted_indices(len(data.X_train))])
            self._digit_levels = (float(raw.min()), float(raw.max()))
        self.probe.blockSignals(True)
        self.probe.setRange(0, 0)  # until a snapshot says how many examples have logits
        self.probe.blockSignals(False)
        self._shown_examples = 0
        self.source, self.index = "val", 0
        self._update_selection_view()
        self.status.setText("waiting for the first evaluation")

    def probe_requests(self) -> tuple[ProbeRequest, ...]:
        """The decision regions, for 2-D data."""
        planar = self.data is not None and self.data.n_features == 2
        return (REGIONS,) if planar else ()

    def render(self, frame: Frame) -> None:
        self._frame = frame
        self.net_combo.sync(frame.snapshots)
        grids = frame.probes.get(REGIONS)
        if grids is not None and grids is not self._grids_seen:  # new regions; else keep the last
            self._grids_seen = grids
            for grid in grids:
                self._grids[grid.run] = grid
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
        return [self.left_plot, *items] if self._left_shown else items

    # -- selection (view -> model) -------------------------------------------------------------
    def select_training_example(self, i: int) -> None:
        """Follow training example ``i`` (what clicking its point does)."""
        self.source, self.index = "train", int(i)
        self._update_selection_view()
        self._redraw()

    def select_validation_example(self, i: int) -> None:
        """Follow validation example ``i`` (the probe spin box)."""
        self.source, self.index = "val", int(i)
        if self.probe.value() != i:
            self.probe.blockSignals(True)
            self.probe.setValue(i)
            self.probe.blockSignals(False)
        self._update_selection_view()
        self._redraw()

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
        self._draw_regions(snap)
        ev = snap.evaluation
        if snap.diverged:
            self._shown_bars = None
            self._set_bars(None)
            self.status.setText(
                f"{style.run_label(snap.run, snap.batchnorm)} diverged at step "
                f"{snap.diverged_step}: its outputs are no longer finite"
            )
            return
        if ev is None:
            self._set_bars(None)
            self.status.setText("waiting for the first evaluation")
            return
        shown = (eval_key(ev), snap.run, self.source, self.index)
        if shown == self._shown_bars:
            return
        self._shown_bars = shown
        logits = ev.train_logits if self.source == "train" else ev.val_logits
        if self.index >= len(logits):
            self._set_bars(None)
            self.status.setText(
                f"logits are kept for the first {len(logits)} examples only; pick another"
            )
            return
        self._set_bars(np.asarray(logits[self.index], dtype=np.float64))

    def _draw_regions(self, snap: Snapshot) -> None:
        if not self.regions.isVisible():
            return
        grid = None if snap.diverged else self._grids.get(snap.run)
        if grid is self._shown_grid:
            return
        self._shown_grid = grid
        if grid is None:
            self.regions.clear()
            return
        x, y = grid.x, grid.y
        dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
        dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
        self.regions.setImage(region_rgb(grid.proba), autoLevels=False, levels=(0, 255))
        # Pixel centres sit on the grid points, so the image reaches half a cell beyond them.
        self.regions.setRect(QRectF(x[0] - dx / 2, y[0] - dy / 2, dx * len(x), dy * len(y)))

    def _set_bars(self, z: np.ndarray | None) -> None:
        C = self.data.n_classes
        if z is None:
            for bars in self.bars.values():
                bars.setOpts(height=np.zeros(C), pens=[OTHER_PEN] * C)
            self.z_plot.setYRange(-1.0, 1.0)
            return
        t, a = softmax_steps(z)
        if not self.z_plot.getViewBox().autoRangeEnabled()[1]:
            self.z_plot.enableAutoRange(axis="y")
        true = self._true_class()
        pens = [TRUE_PEN if c == true else OTHER_PEN for c in range(C)]
        self.bars["z"].setOpts(height=z, pens=pens)
        self.bars["t"].setOpts(height=t, pens=pens)
        self.bars["a"].setOpts(height=a, pens=pens)
        k = int(np.argmax(a))
        names = self.data.class_names
        which = "training" if self.source == "train" else "validation"
        verdict = "right" if k == true else "wrong"
        self.status.setText(
            f"{which} example #{self.index}: predicted {names[k]} (p={a[k]:.2f}), "
            f"true {names[true]} — {verdict}"
        )

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
            # Row-major images draw row 0 at the bottom; flip so the picture is upright.
            self.digit.setImage(img[::-1], autoLevels=False, levels=self._digit_levels)
            h, w = data.image_shape
            self.digit.setRect(QRectF(0, 0, w, h))  # after setImage: it scales by image size
            name = data.class_names[
                int((data.y_train if self.source == "train" else data.y_val)[self.index])
            ]
            self.left_plot.setTitle(f"example #{self.index} (true: {name})", color="k")

    def _show_left(self, on: bool) -> None:
        if on == self._left_shown:
            return
        self._left_shown = on
        if on:
            self.view.addItem(self.left_plot, row=0, col=0, rowspan=3)
        else:
            self.view.removeItem(self.left_plot)
        # An empty column keeps its stretch share: give it none, or the bars sit off to one side.
        self.view.ci.layout.setColumnStretchFactor(0, LEFT_STRETCH if on else 0)
