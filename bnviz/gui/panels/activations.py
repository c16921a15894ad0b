"""Activation distributions: one histogram per hidden layer, BN and plain overlaid.

The histograms come from the core on stable bin edges (:class:`bnviz.train.stats.StableBins`);
this panel only turns counts into densities, so the two networks are comparable, and draws them
with ``stepMode="center"`` on plot items made once per (run, layer). The activation and where it
saturates come with the snapshot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGraphicsItem,
    QGraphicsSceneResizeEvent,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.panels._view import SteadyRange, cache_axes, fit_axis_width
from bnviz.gui.plot_pool import add_plot
from bnviz.train.snapshot import Histogram, LayerStats, Saturation, Snapshot

MAX_SHOWN_LAYERS = 6
FILL_ALPHA = 70
SATURATED_BRUSH = (150, 150, 150, 45)  # its opaque colour marks the key in the legend
TEXT_SIZE = "8pt"
LEGEND_SIZE = "9pt"
TEXT_INTERVAL_S = 0.25
MIN_LABEL_WIDTH = 60
# A histogram (with its title and ticks) lower than this cannot be read: the panel then scrolls
# instead of squashing it under its stats text (at 1024 x 640 the panel is ~220 px tall).
MIN_PLOT_HEIGHT = 110
# (kind, combo text, axis label, tooltip)
KINDS = (
    (
        "z_tilde",
        "z~ (activation input)",
        "z~",
        "z~ = gamma * (z - mu) / sqrt(sigma^2 + eps) + beta: the input of the activation.\n"
        "Without BN, z~ = z. Batch norm keeps its mean and spread steady while W changes.",
    ),
    ("z", "z (before BN)", "z", "z = W a_prev + b: the linear output, before batch norm."),
    ("a", "a (activation output)", "a", "a = g(z~): the activation output fed to the next layer."),
)
FAR = 1e6  # a saturated region reaches "to infinity" in z~ units


def density(edges: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Counts (n,) on ``edges`` (n+1,) as a probability density (area 1; zeros if empty)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return np.zeros_like(counts)
    return counts / (total * np.diff(np.asarray(edges, dtype=np.float64)))


def _short(x: float) -> str:
    """At most ~6 characters: 0.12, -3.40, 1.2e+04 (a diverging layer's numbers get huge)."""
    return f"{x:.2f}" if abs(x) < 1000 else f"{x:.1e}"


def _hex(rgb: Sequence[int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


class _StatsLabel(pg.LabelItem):
    """Stats text that may be narrower than its words (then clipped at the end), so a long
    line never pushes the grid of plots wider than the panel. Its preferred width is small too:
    the plots alone share out the columns, so every plot keeps its width whatever the words
    (a divergence note, huge numbers) and gets it back when they change back."""

    def __init__(self, size: str = TEXT_SIZE, wrap: bool = True) -> None:
        super().__init__("", size=size, justify="left")
        self.wrap = wrap  # break lines between groups (words joined by &nbsp; stay together)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)

    def resizeEvent(self, ev: QGraphicsSceneResizeEvent) -> None:  # noqa: N802 (Qt's name)
        width = max(float(self.size().width()), MIN_LABEL_WIDTH)
        if getattr(self, "wrap", False) and abs(self.item.textWidth() - width) > 0.5:
            self.item.setTextWidth(width)  # a taller label: the grid gives it the height
        super().resizeEvent(ev)

    def updateMin(self) -> None:  # noqa: N802 (pyqtgraph's name)
        super().updateMin()
        height = self._sizeHint[Qt.SizeHint.MinimumSize][1]
        for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            self._sizeHint[hint] = (MIN_LABEL_WIDTH, height)
        self.setMinimumWidth(MIN_LABEL_WIDTH)


class _LayerPlot:
    """One hidden layer: a plot, a stats label under it, a curve per run and overlays."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, layer: int) -> None:
        self.layer = layer
        self.plot = add_plot(layout, row=row, col=col, title=f"layer {layer}")
        self.plot.setMenuEnabled(False)
        fit_axis_width(self.plot.getAxis("left"), min_width=38)
        # Major tick labels only: minor labels of a wide range ran together ("-400200").
        self.plot.getAxis("bottom").setStyle(maxTextLevel=0)
        self.plot.setMouseEnabled(x=False, y=False)
        # Ranges set by the panel in steps (see _view): the axes stay put between steps.
        self.plot.enableAutoRange(enable=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(MIN_PLOT_HEIGHT)
        cache_axes(self.plot)
        self.x_range: tuple[float, float] | None = None
        self.y_range = SteadyRange(floor=0.0)
        self.label = _StatsLabel()
        layout.addItem(self.label, row=row + 1, col=col)
        self.curves: dict[str, pg.PlotCurveItem] = {}
        self.colors: dict[str, tuple] = {}
        self.regions = [
            pg.LinearRegionItem(movable=False, brush=SATURATED_BRUSH, pen=None) for _ in range(2)
        ]
        for r in self.regions:
            r.setZValue(-20)
            for line in r.lines:
                line.setPen(None)
            r.setVisible(False)
            self.plot.addItem(r, ignoreBounds=True)
        self._text: str | None = None
        self._lines = ""
        self._message = ""

    def curve(self, run: str, batchnorm: bool, color: tuple) -> pg.PlotCurveItem:
        item = self.curves.get(run)
        if item is None:
            item = self.curves[run] = pg.PlotCurveItem(fillLevel=0)
            self.plot.addItem(item)
        if self.colors.get(run) != color:  # a run's colour follows BN being on or off
            self.colors[run] = color
            item.setPen(pg.mkPen(color, width=1))  # wider pens are stroked, slowly
            item.setBrush(pg.mkBrush(*color, FILL_ALPHA))
            item.setZValue(1 if batchnorm else 0)
        return item

    def set_message(self, message: str) -> None:
        """A red note (a diverged network) at the top of the stats text: the title stays
        "layer N", so a long note can neither widen the plot nor push its neighbours away."""
        self._message = message
        self._show()

    def set_text(self, html: str) -> None:
        self._lines = html
        self._show()

    def _show(self) -> None:
        red = _hex(style.DIVERGED_COLOR)
        note = f"<span style='color:{red}'>{self._message}</span>" if self._message else ""
        html = "<br>".join(t for t in (note, self._lines) if t)
        if html != self._text:  # relayout only when the words change
            self._text = html
            self.label.setText(html, size=TEXT_SIZE)
            # a clipped line can still be read in full
            self.label.setToolTip(html.replace("&nbsp;", " "))

    def fit(self, x: tuple[float, float] | None, y_max: float) -> None:
        """x: the span of the bin edges (stable: they only widen); y: 0 to the peak density."""
        if x is not None and x != self.x_range:
            self.x_range = x
            self.plot.setXRange(*x, padding=0.02)
        y = self.y_range.fit(0.0, y_max if y_max > 0 else 1.0)
        if y:
            self.plot.setYRange(*y, padding=0)

    def set_saturation(self, regions: Sequence[tuple[float, float]] | None) -> None:
        for item, region in zip(self.regions, regions or (None, None)):
            item.setVisible(region is not None)
            if region is not None:
                item.setRegion(region)


class ActivationsPanel(Panel):
    """Histograms of z~ (or z, or a) per hidden layer, live, BN and plain overlaid."""

    title = "Activations"
    layer_double_clicked = Signal(int)  # a hidden layer's plot (1-based): look inside it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        for kind, text, _, tip in KINDS:
            self.combo.addItem(text, kind)
            self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.combo.setToolTip(
            "Which quantity to histogram in every hidden layer:\n"
            + "\n".join(f"- {k[3]}" for k in KINDS)
        )
        self.combo.currentIndexChanged.connect(self._kind_changed)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.view.setToolTip(
            "Density of the chosen quantity over the probe batch, one plot per hidden layer.\n"
            "Grey bands: where sigmoid/tanh saturate (output within 0.02 of a limit), so the\n"
            "gradient g'(z~) nearly vanishes. Under each plot: mean and std, the saturated\n"
            "(sigmoid/tanh) or dead (ReLU) fraction, and with BN gamma and beta (mean \u00b1 std\n"
            "over the units).\nDouble-click a layer to look inside one of its units."
        )
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.layout_item: pg.GraphicsLayout = self.view.ci
        self.layout_item.setContentsMargins(2, 2, 2, 2)
        # scrolls only when rows would be squashed below legibility
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self.view)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.combo)
        bar.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(bar)
        box.addWidget(self.scroll_area, 1)
        self.plots: list[_LayerPlot] = []
        self.legend: _StatsLabel | None = None
        self.activation: str | None = None  # as the snapshots say
        self.saturation: Saturation | None = None
        self._last: Frame | None = None
        self._n_layers: int | None = None
        self._kind_shown: str | None = None
        self._text_shape: tuple = ()
        self._text_at = -math.inf

    # -- Panel API -------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.combo.currentData()

    def set_dataset(self, data: Dataset) -> None:
        self.activation, self.saturation = None, None
        self._last = None
        self._n_layers = None
        self.layout_item.clear()
        self.plots, self.legend, self._kind_shown = [], None, None

    def export_items(self) -> list:
        return [self.layout_item]

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        self._last = frame
        n = _layer_count(frame)
        if n is not None:
            self._build(n)
        if not self.plots:
            return
        if frame.snapshots:
            # The zones shaded are the first network's (twins may differ in activation; each
            # one's own saturated or dead share is in its stats text).
            snap = frame.snapshots[0]
            if (snap.activation, snap.saturation) != (self.activation, self.saturation):
                self.activation, self.saturation = snap.activation, snap.saturation
                self._kind_shown = None  # the saturated zones move
        if self._kind_shown != self.kind:
            self._kind_changed_axes()
        self._update_legend(frame.snapshots)
        # Numbers that change 30 times a second cannot be read, and re-laying out text costs
        # half a frame: refresh the stats a few times a second, or at once when lines change.
        now = time.monotonic()
        shape = (
            self.kind,
            self.activation,
            tuple((s.run, s.batchnorm, s.diverged) for s in frame.snapshots),
        )
        text_due = shape != self._text_shape or now - self._text_at >= TEXT_INTERVAL_S
        if text_due:
            self._text_shape, self._text_at = shape, now
        for lp in self.plots:
            self._render_layer(lp, frame.snapshots, text_due)
        if text_due:
            self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the plots' minimum and their (wrapped) stats need: more scrolls."""
        grid = self.layout_item.layout
        grid.activate()
        need = grid.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        height = int(math.ceil(need)) + 4  # the grid's hint includes its margins
        if height != self.view.minimumHeight():
            self.view.setMinimumHeight(height)

    def _clicked(self, ev: Any) -> None:  # a pyqtgraph MouseClickEvent
        if not ev.double():
            return
        for lp in self.plots:
            if lp.plot.sceneBoundingRect().contains(ev.scenePos()):
                self.layer_double_clicked.emit(lp.layer)
                return

    # -- drawing ---------------------------------------------------------------------------------
    def _render_layer(self, lp: _LayerPlot, snaps: tuple[Snapshot, ...], text_due: bool) -> None:
        lines, messages, seen = [], [], set()
        x_lo, x_hi, y_max = math.inf, -math.inf, 0.0
        compare = len(snaps) > 1
        for i, s in enumerate(snaps):
            seen.add(s.run)
            name = style.run_label(s.run, s.batchnorm)
            rgb = style.run_color(s.batchnorm, s.run, i)
            color = _hex(rgb)
            curve = lp.curve(s.run, s.batchnorm, rgb)
            stats = s.layers[lp.layer - 1] if lp.layer <= len(s.layers) else None
            if s.diverged or stats is None:
                curve.setVisible(False)
                if s.diverged:
                    msg = f"diverged at step {s.diverged_step}"
                    messages.append(f"{name} {msg}" if compare else msg)
                continue
            h = stats.hist[self.kind]
            y = density(h.edges, h.counts)
            curve.setData(h.edges, y, stepMode="center")
            curve.setVisible(True)
            x_lo, x_hi = min(x_lo, float(h.edges[0])), max(x_hi, float(h.edges[-1]))
            y_max = max(y_max, float(y.max()) if y.size else 0.0)
            if text_due:
                text = self._stats_text(h, stats, s)
                short = style.run_short(s.run, s.batchnorm)  # the legend above says it in full
                lines.append(f"<span style='color:{color}'><b>{short}</b>&nbsp; {text}</span>")
        for run, curve in lp.curves.items():
            if run not in seen:  # compare switched off: the other network is gone
                curve.setVisible(False)
        lp.fit((x_lo, x_hi) if x_lo < x_hi else None, y_max)
        lp.set_message(", ".join(messages))
        if text_due:
            lp.set_text("<br>".join(lines))

    def _stats_text(self, h: Histogram, stats: LayerStats, s: Snapshot) -> str:
        """``mu sigma`` of the shown quantity, saturated/dead % (of network ``s``'s own
        activation), and gamma/beta over the units."""
        sp = "&nbsp;"  # inside a group; a narrow plot wraps the text between groups
        text = f"\u03bc{sp}{_short(h.mean)} \u03c3{sp}{_short(h.std)}"
        if s.saturation is not None:
            text += f" sat{sp}{100 * stats.saturated:.0f}%"
        elif s.activation == "relu":
            text += f" dead{sp}{100 * stats.saturated:.0f}%"
        g, g_sd, b, b_sd = stats.gamma_mean, stats.gamma_std, stats.beta_mean, stats.beta_std
        if g is not None and g_sd is not None and b is not None and b_sd is not None:  # BN nets
            text += (
                f"<br>\u03b3{sp}{_short(g)}\u00b1{_short(g_sd)} "
                f"\u03b2{sp}{_short(b)}\u00b1{_short(b_sd)}"
            )
        return text

    def _update_legend(self, snaps: tuple[Snapshot, ...]) -> None:
        entries = " &nbsp; ".join(
            f"<span style='color:{_hex(style.run_color(s.batchnorm, s.run, i))}'>\u25a0 "
            f"{style.run_label(s.run, s.batchnorm)}</span>"
            for i, s in enumerate(snaps)
        )
        what = next(k[1] for k in KINDS if k[0] == self.kind)
        text = f"{entries} &nbsp;&nbsp; density of {what}"
        if self.kind != "z" and self.saturation is not None:
            text += f" &nbsp;&nbsp;<span style='color:{_hex(SATURATED_BRUSH[:3])}'>\u25a0</span>"
            text += f" {self.activation} saturates"
        if self.legend is not None and self.legend.text != text:
            self.legend.setText(text, size=LEGEND_SIZE)
            self.legend.setToolTip(text.replace("&nbsp;", " "))

    def _kind_changed(self) -> None:
        self._kind_changed_axes()
        if self._last is not None:
            self.render(self._last)

    def _kind_changed_axes(self) -> None:
        kind = self.kind
        self._kind_shown = kind
        axis = next(k[2] for k in KINDS if k[0] == kind)
        sat = self.saturation
        if sat is None or kind == "z":
            regions = None
        elif kind == "a":
            regions = ((sat.limits[0] - FAR, sat.a[0]), (sat.a[1], sat.limits[1] + FAR))
        else:
            regions = ((-FAR, sat.z_tilde[0]), (sat.z_tilde[1], FAR))
        # The quantity is named once in the legend, not under every plot: the rows keep the
        # height for the histograms.
        for lp in self.plots:
            lp.plot.setToolTip(f"density of {axis} in layer {lp.layer}")
            lp.set_saturation(regions)

    # -- layout ----------------------------------------------------------------------------------
    def _build(self, n: int) -> None:
        """Lay out ``n`` layer plots (rebuilt only when ``n`` changes, or after a reset)."""
        if n == self._n_layers:
            return
        self._n_layers, self._text_shape = n, ()
        self.layout_item.clear()
        self.plots, self.legend, self._kind_shown = [], None, None
        self.view.setMinimumHeight(0)
        if n == 0:
            self.layout_item.addLabel("no hidden layer", size="14pt", color=style.EVENT_COLOR)
            return
        shown = min(n, MAX_SHOWN_LAYERS)
        cols = {1: 1, 2: 2, 4: 2}.get(shown, 3)
        grid = self.layout_item.layout
        for c in range(3):  # equal columns whatever their contents
            grid.setColumnStretchFactor(c, 1 if c < cols else 0)
        self.legend = _StatsLabel(LEGEND_SIZE)  # clipped, never widening
        self.layout_item.addItem(self.legend, row=0, col=0, colspan=cols)
        for i in range(shown):
            row, col = divmod(i, cols)
            self.plots.append(_LayerPlot(self.layout_item, 1 + 2 * row, col, i + 1))
        if n > shown:
            self.layout_item.addLabel(
                f"layers {shown + 1}-{n} not shown",
                row=1 + 2 * math.ceil(shown / cols),
                col=0,
                colspan=cols,
                size=TEXT_SIZE,
                color=style.EVENT_COLOR,
            )


def _layer_count(frame: Frame) -> int | None:
    """Hidden layers in ``frame``; None when no network can tell (all diverged, no history)."""
    alive = [len(s.layers) for s in frame.snapshots if not s.diverged]
    if alive:
        return max(alive)
    known = [len(h.percentiles) for h in frame.histories.values() if h.percentiles]
    return max(known) if known else None
