"""A group of repeated seeds on the scatter: a halo whose size is its spread over seeds.

The scatter's axes are two hyperparameters and its colour is the result, so a group's error
bar cannot be drawn along an axis without meaning a spread in a hyperparameter. The halo is a
pale disc in the group's colour behind its point: always at least a thin rim (this point is a
mean of seeds), and wider by :data:`HALO_SPAN_PX` pixels of diameter for an sd as large as the
whole colour scale (``hi - lo``). A halo barely wider than its point says the seeds agree
closely relative to the differences the colours show; a wide one says one seed's colour could
have been a neighbour's. The hover gives the numbers (mean +- sd, and sd as a share of the
scale).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

HALO_MIN_PX = 6  # the rim of a group whose seeds agree exactly
HALO_SPAN_PX = 40  # extra diameter for an sd as large as the colour scale's span
HALO_ALPHA = 90


def halo_sizes(sd: np.ndarray, span: float, point_px: float) -> np.ndarray:
    """Diameters in pixels: ``point_px + HALO_MIN_PX + HALO_SPAN_PX * min(sd / span, 1)``."""
    share = np.clip(np.asarray(sd, dtype=float) / span, 0.0, 1.0) if span > 0 else 0.0
    return point_px + HALO_MIN_PX + HALO_SPAN_PX * np.asarray(share)


def halo_text(sd: float, span: float, metric: str) -> str:
    """The hover's line for a halo: the sd in the metric's units and as a share of the scale."""
    share = f"{min(sd / span, 1.0):.0%}" if span > 0 else "all"
    what = "val loss" if metric == "val_loss" else "val accuracy"
    return (
        f"halo: sd over seeds {sd:.4f} ({what}), {share} of the colour scale "
        f"(+{HALO_SPAN_PX} px of halo for 100%)"
    )


class SpreadHalos(pg.ScatterPlotItem):
    """The halos of the groups on the plot, behind the points."""

    def __init__(self) -> None:
        super().__init__(pxMode=True, symbol="o", pen=pg.mkPen(90, 90, 90, 160, width=1))
        self.setZValue(-1)
        self.sizes = np.zeros(0)

    def show_groups(self, x: np.ndarray, y: np.ndarray, sd: np.ndarray, colors: list[QColor],
                    span: float, point_px: float) -> None:  # fmt: skip
        """One halo per group at (x, y), its sd on the colour scale's ``span``."""
        self.sizes = halo_sizes(sd, span, point_px)
        brushes = []
        for c in colors:
            c = QColor(c)
            c.setAlpha(HALO_ALPHA)
            brushes.append(pg.mkBrush(c))
        self.setData(x=x, y=y, size=self.sizes, brush=brushes)
