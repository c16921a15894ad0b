"""The distribution of one layer's z~ over training, as in the BN paper's Figure 1(b, c).

For every network, the median of z~ is a line and the 15th-85th percentile band is filled
between two thin curves. Without batch norm the band drifts and changes width as the weights
below it change (internal covariate shift); with batch norm it stays put. A single network
switched with B keeps each stretch in the colour of the state it was trained in.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.panels._view import (
    SteadyRange,
    UserRange,
    cache_axes,
    clip_and_downsample,
    clip_title,
    finite_span,
    part,
    run_pieces,
    step_range,
)
from bnviz.gui.plot_pool import plot_widget
from bnviz.train.history import RunHistory
from bnviz.train.stats import DecimatingSeries

BAND_ALPHA = 60
EDGE_ALPHA = 140
UNITS = (
    ("all units", False, "Percentiles of z~ over every unit of the layer and the probe batch."),
    (
        "unit 0",
        True,
        "Percentiles of z~ of unit 0 alone over the probe batch, as the BN paper's\n"
        "Figure 1 follows a single sigmoid input.",
    ),
)


class _Band:
    """One network's median line and 15th-85th percentile band, made once, fed by setData."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.lo, self.median, self.hi = (pg.PlotDataItem() for _ in range(3))
        self.sample = pg.PlotDataItem()  # the legend's key, shown even when the band is hidden
        for item in (self.lo, self.median, self.hi):
            plot.addItem(item)
            clip_and_downsample(item)  # after addItem, which applies the plot's own settings
        self.fill = pg.FillBetweenItem(self.lo, self.hi)
        plot.addItem(self.fill)
        self.diverged = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(style.DIVERGED_COLOR, style=pg.QtCore.Qt.DashLine),
            label="",
            labelOpts={
                "color": style.DIVERGED_COLOR,
                "position": 0.04,
                "anchors": [(0, 1), (0, 1)],
            },
        )
        self.diverged.setVisible(False)
        plot.addItem(self.diverged, ignoreBounds=True)
        self.color: tuple | None = None
        self.key: tuple | None = None

    def items(self) -> tuple:
        return (self.lo, self.median, self.hi, self.fill)

    def set_color(self, color: tuple) -> None:
        if color != self.color:
            self.color = color
            self.median.setPen(pg.mkPen(color, width=2))
            self.sample.setPen(pg.mkPen(color, width=2))
            edge = pg.mkPen((*color, EDGE_ALPHA), width=1)
            self.lo.setPen(edge)
            self.hi.setPen(edge)
            self.fill.setBrush(pg.mkBrush(*color, BAND_ALPHA))

    def set_visible(self, visible: bool) -> None:
        for item in self.items():
            item.setVisible(visible)
        if not visible:
            self.diverged.setVisible(False)

    def set_series(
        self, bands: Sequence[DecimatingSeries], key: tuple, span: tuple[float, float]
    ) -> None:
        """``bands``: three DecimatingSeries (15th, 50th, 85th), shown where the step is in
        ``span``; skipped when ``key`` is unchanged. The arrays are copied: a series' views
        change under it as it decimates."""
        key = (*key, span)
        if key == self.key:
            return
        self.key = key
        for item, series in zip((self.lo, self.median, self.hi), bands):
            item.setData(*part(series, span))

    def set_diverged(self, step: int | None, name: str) -> None:
        self.diverged.setVisible(step is not None)
        if step is not None:
            self.diverged.setPos(step)
            self.diverged.label.setFormat(f"{name} diverged at step {step}")


class PercentilePanel(Panel):
    """15th/50th/85th percentiles of one layer's z~ against steps, per network."""

    title = "Distribution over time"
    render_interval_s = 0.1  # percentile bands drift slowly: 10 Hz is plenty

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer_spin = QSpinBox()
        self.layer_spin.setRange(1, 1)
        self.layer_spin.setPrefix("layer ")
        self.layer_spin.setToolTip(
            "The hidden layer l whose activation input z~[l] is followed over training.\n"
            "z~ = gamma * (z - mu) / sqrt(sigma^2 + eps) + beta with BN, z~ = z = W a + b without."
        )
        self.units = QComboBox()
        for text, unit0, tip in UNITS:
            self.units.addItem(text, unit0)
            self.units.setItemData(self.units.count() - 1, tip, pg.QtCore.Qt.ToolTipRole)
        self.units.setToolTip("All units of the layer, or unit 0 alone (the BN paper's Figure 1).")
        self.layer_spin.valueChanged.connect(self._control_changed)
        self.units.currentIndexChanged.connect(self._control_changed)
        self.view = plot_widget(background=style.BACKGROUND)
        self.plot: pg.PlotItem = self.view.getPlotItem()
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "z~")
        # One rule for the unit: z~ in its own units, never rescaled. pyqtgraph's SI prefix
        # read "z~ (x0.001)" for a range of +-0.9 and "z~" for +-1.2, the same data a moment
        # apart (ticks of 900 meaning 0.9).
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        clip_title(self.plot)  # "...85th percer" pushed the plot under the next panel
        self.plot.setMenuEnabled(False)
        cache_axes(self.plot)
        self._x: tuple[float, float] | None = None
        self._y = SteadyRange()
        self.user_range = UserRange(self.plot, on_follow=self._forget_ranges)
        self.view.setToolTip(
            "Line: median of z~. Band: 15th to 85th percentile over the probe batch.\n"
            "Without BN the band drifts as the layers below learn (internal covariate shift);\n"
            "with BN it stays put."
        )
        self.legend = self.plot.addLegend(offset=(10, 10), brush=(255, 255, 255, 200))
        self.message = pg.TextItem("", color=style.EVENT_COLOR, anchor=(0.5, 0.5))
        self.message.setParentItem(self.plot.vb)
        self.plot.vb.sigResized.connect(
            lambda: self.message.setPos(self.plot.vb.boundingRect().center())
        )
        bar = QHBoxLayout()
        bar.addWidget(QLabel("z~ of"))
        bar.addWidget(self.layer_spin)
        bar.addWidget(QLabel("over"))
        bar.addWidget(self.units)
        bar.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(bar)
        box.addWidget(self.view, 1)
        self.bands: dict[str, _Band] = {}
        self._labels: dict[str, str] = {}
        self._title = ""
        self._last: Frame | None = None

    @property
    def layer(self) -> int:
        return self.layer_spin.value()

    @property
    def unit0(self) -> bool:
        return bool(self.units.currentData())

    def set_dataset(self, data: Dataset) -> None:
        self._last = None
        self._forget_ranges()
        for band in self.bands.values():
            band.key = None
            band.set_visible(False)

    def export_items(self) -> list:
        return [self.plot]

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        self._last = frame
        n = _layer_count(frame)
        if n != self.layer_spin.maximum() and n > 0:
            self.layer_spin.setMaximum(n)  # clamps the value, which re-renders once
        self.layer_spin.setEnabled(n > 1)
        self.message.setText("" if n else "no hidden layer")
        self.legend.setVisible(n > 0)
        # Short (the selectors above say layer and units too): the long form was clipped
        # to "...85th percer" in a narrow panel; it stays in the tooltip.
        self._set_title(f"z~ of layer {self.layer}, {self.units.currentText()}: 15/50/85th pct")
        labels, shown, drawn = {}, [], set()
        compare = len(frame.snapshots) > 1
        for i, s in enumerate(frame.snapshots):
            h = frame.histories.get(s.run)
            if h is None:
                continue
            for key, seg, last, entry in run_pieces(s.run, h, compare):
                drawn.add(key)
                label = style.run_label(s.run, seg.batchnorm)
                if entry:
                    labels[key] = label + (" (diverged)" if h.diverged_step is not None else "")
                color = style.run_color(seg.batchnorm, s.run, i)
                span = (seg.start, seg.end)
                if self._render_run(key, h, n > 0, color, span, label if last else None):
                    shown.append(self.bands[key])
        for key, band in self.bands.items():
            if key not in drawn:  # compare switched off: the other network is gone
                band.set_visible(False)
        self._sync_legend(labels)
        self._fit_ranges(shown, frame)

    def _forget_ranges(self) -> None:
        self._x = None
        self._y.reset()

    def _fit_ranges(self, shown: list[_Band], frame: Frame) -> None:
        """x: 0 to the next nice step count; y: the shown bands, in steps (see _view)."""
        if not self.user_range.follows():
            return
        last = max((h.last_step or 0 for h in frame.histories.values()), default=0)
        x = step_range(float(last))
        if x != self._x:
            self._x = x
            self.plot.setXRange(*x, padding=0)
        span = finite_span(*(b.lo.yData for b in shown), *(b.hi.yData for b in shown))
        y = span and self._y.fit(*span)
        if y:
            self.plot.setYRange(*y, padding=0)

    def _render_run(
        self,
        key: str,
        h: RunHistory,
        any_layer: bool,
        color: tuple,
        span: tuple[float, float],
        name: str | None,
    ) -> bool:
        """Draw one network's band (or the ``span`` of it trained in one BN state), in
        ``color``; ``name``: the network's name on its divergence mark (None: the part
        before a switch, which has none). True when it is shown."""
        band = self._band(key, color)
        bands = (h.unit_percentiles if self.unit0 else h.percentiles).get(self.layer)
        # A diverged network's last values are astronomically large and would squash the other
        # band flat: hide it and mark where it diverged.
        visible = any_layer and bands is not None and h.diverged_step is None
        band.set_visible(visible)
        if bands is not None:
            band.set_series(
                bands, (self.layer, self.unit0, len(bands[0]), bands[0].stride, h.last_step), span
            )
        band.set_diverged(h.diverged_step if name else None, name or "")
        return visible

    def _band(self, key: str, color: tuple) -> _Band:
        band = self.bands.get(key)
        if band is None:
            band = self.bands[key] = _Band(self.plot)
        band.set_color(color)
        return band

    def _sync_legend(self, labels: dict[str, str]) -> None:
        """Legend entries for the shown networks, in frame order (BN first)."""
        if labels == self._labels:
            return
        for run in self._labels:
            self.legend.removeItem(self.bands[run].sample)
        for run, label in labels.items():
            self.legend.addItem(self.bands[run].sample, label)
        self._labels = dict(labels)

    def _set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            self.plot.setTitle(title, size="10pt")
            self.plot.titleLabel.setToolTip(title.replace("pct", "percentiles"))

    def _control_changed(self) -> None:
        self._y.reset()  # another layer or unit: its own range
        if self._last is not None:
            self.render(self._last)


def _layer_count(frame: Frame) -> int:
    """Hidden layers with a history in ``frame`` (diverged networks keep theirs)."""
    alive = [len(s.layers) for s in frame.snapshots if not s.diverged]
    known = [max(h.percentiles, default=0) for h in frame.histories.values()]
    return max(alive + known, default=0)
