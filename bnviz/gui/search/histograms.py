"""The sampled values of each plotted parameter, counted on a linear and on a log10 axis.

Side by side they show the course's point about scales: log-uniform samples of a learning
rate in [1e-4, 1] fill every decade equally (right), yet on a linear axis three quarters of
them crowd the first tenth (left): sampling uniformly in the value instead would put 90% of
the trials in [0.1, 1], the decade that matters least.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bnviz.gui import style
from bnviz.gui.panels._view import fit_axis_width
from bnviz.search.importance import scale_histograms
from bnviz.search.points import plotted_quantity
from bnviz.search.spaces import Space

CAPTION = (
    "uniform in log10: each decade gets the same share; uniform in the value would put 90% "
    "of 1e-4..1 in [0.1, 1]"
)
BAR_BRUSH = pg.mkBrush(52, 120, 220, 150)
AXES = ("x", "y")
MIN_WIDTH = 280  # two plots side by side, each with readable ticks (fits 1024 x 640 stacked)


class SampleHistograms(QWidget):
    """Two rows (x and y parameter) of two plots (linear value, log10 value)."""

    def __init__(self) -> None:
        super().__init__()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.plots: dict[tuple[str, str], pg.PlotItem] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for row, axis in enumerate(AXES):
            for col, scale in enumerate(("linear", "log10")):
                p = self.view.addPlot(row=row, col=col)
                p.setMouseEnabled(x=False, y=False)
                p.hideButtons()
                p.setMenuEnabled(False)
                for name in ("left", "bottom"):
                    p.getAxis(name).setPen("k")
                    p.getAxis(name).setTextPen("k")
                fit_axis_width(p.getAxis("left"), min_width=28)
                curve = pg.PlotDataItem(
                    [0, 1], [0], stepMode="center", fillLevel=0, brush=BAR_BRUSH, pen="k"
                )
                p.addItem(curve)
                self.plots[axis, scale] = p
                self.curves[axis, scale] = curve
        self.caption = QLabel(CAPTION)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #444; font-size: 11px;")
        self.setMinimumWidth(MIN_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    def set_samples(self, axis: str, space: Space | None, values: list) -> None:
        """Count ``values`` of the parameter plotted on ``axis`` ("x" or "y") over ``space``."""
        lin, log = self.plots[axis, "linear"], self.plots[axis, "log10"]
        lin.getAxis("bottom").setTicks(None)
        numeric = space is not None and space.kind not in ("cat", "fixed")
        for name in ("left", "bottom"):  # an empty log plot shows no 0..1 axes of nothing
            log.showAxis(name, numeric)
        if space is None or space.kind in ("cat", "fixed"):
            for p, c in ((lin, self.curves[axis, "linear"]), (log, self.curves[axis, "log10"])):
                c.setData([0, 1], [0])
                p.setTitle("")
                p.setXRange(0, 1, padding=0)  # not the last parameter's scale
                p.setYRange(0, 1, padding=0)
            if space is not None and space.kind == "cat":
                self._category_counts(axis, space, values)
            return
        q, lo, hi, label = plotted_quantity(space, values)
        lin_edges, lin_counts, log_edges, log_counts = scale_histograms(q, lo, hi)
        self.curves[axis, "linear"].setData(lin_edges, lin_counts)
        lin.setXRange(lin_edges[0], lin_edges[-1], padding=0.02)
        lin.setTitle(f"<span style='color:#222;font-size:9pt'>{label}, linear bins</span>")
        if log_edges is None:
            self.curves[axis, "log10"].setData([0, 1], [0])
            log.setXRange(0, 1, padding=0)
            log.setTitle("<span style='color:#888;font-size:9pt'>no log scale (min &le; 0)</span>")
        else:
            self.curves[axis, "log10"].setData(log_edges, log_counts)
            log.setXRange(log_edges[0], log_edges[-1], padding=0.02)
            log.setTitle(f"<span style='color:#222;font-size:9pt'>log10({label}) bins</span>")
        top = max(1, int(np.max(lin_counts, initial=0)), int(np.max(log_counts, initial=0))
                  if log_counts is not None else 1)  # fmt: skip
        for p in (lin, log):  # one count scale per row, so the two shapes compare directly
            p.setYRange(0, top * 1.1, padding=0)

    def _category_counts(self, axis: str, space: Space, values: list) -> None:
        """A categorical parameter: one bar per value, named; no log scale to compare.

        ``values`` are what the trials ran with (the explorer fills in an unsampled
        parameter's fixed value), so a study that never sampled activation still shows its
        trials, all at the one activation they used."""
        lin, log = self.plots[axis, "linear"], self.plots[axis, "log10"]
        known = [v for v in values if v in space.choices]
        index = space.to_axis(known).astype(int) if known else np.zeros(0, dtype=int)
        counts = np.bincount(index, minlength=len(space.choices))
        self.curves[axis, "linear"].setData(np.arange(len(counts) + 1) - 0.5, counts)
        lin.getAxis("bottom").setTicks([[(i, str(c)) for i, c in enumerate(space.choices)]])
        lin.setTitle(
            f"<span style='color:#222;font-size:9pt'>{space.name}, trials per value</span>"
        )
        lin.setXRange(-0.5, len(counts) - 0.5, padding=0.02)
        lin.setYRange(0, max(1, int(counts.max(initial=0))) * 1.1, padding=0)
        log.setTitle("<span style='color:#888;font-size:9pt'>no log scale</span>")
