"""The neuron inspector's two gamma/beta plots: one unit's gamma and beta over training (what
the view has collected from its probe while shown), and every unit's gamma and beta in the
chosen layer now (what the network learned to undo or keep); a click on a unit there picks it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal

from bnviz.gui import style
from bnviz.gui.panels._view import cache_axes
from bnviz.gui.plot_pool import add_plot

GAMMA_COLOR = (200, 80, 20)
BETA_COLOR = (40, 120, 60)
MAX_POINTS = 4000  # a longer history is halved (every other point dropped)
REFERENCE_PEN = pg.mkPen((170, 170, 170), width=1, style=Qt.PenStyle.DashLine)


def _plot(layout: pg.GraphicsLayout, col: int, title: str, bottom: str) -> pg.PlotItem:
    plot = add_plot(layout, row=0, col=col, title=title)
    plot.setMenuEnabled(False)
    plot.setLabel("bottom", bottom)
    plot.showGrid(x=False, y=True, alpha=0.2)
    plot.addLegend(offset=(-5, 5), labelTextSize="8pt")  # top right, off the points at unit 0
    for y in (0.0, 1.0):  # where gamma and beta start
        plot.addItem(pg.InfiniteLine(y, angle=0, pen=REFERENCE_PEN), ignoreBounds=True)
    cache_axes(plot)
    return plot


class GammaBetaHistory:
    """gamma and beta of the unit shown, against the training step."""

    def __init__(self, layout: pg.GraphicsLayout, col: int) -> None:
        self.plot = _plot(layout, col, "\u03b3 and \u03b2 of this unit over training", "step")
        self.gamma = self.plot.plot([], [], pen=pg.mkPen(GAMMA_COLOR, width=2), name="\u03b3")
        self.beta = self.plot.plot([], [], pen=pg.mkPen(BETA_COLOR, width=2), name="\u03b2")
        self.points: list[tuple[int, float, float]] = []
        self.note = pg.TextItem("", color=style.EVENT_COLOR, anchor=(0, 0))
        self.plot.addItem(self.note, ignoreBounds=True)

    def clear(self, note: str = "") -> None:
        self.points = []
        self.gamma.setData([], [])
        self.beta.setData([], [])
        self.note.setText(note)

    def add(self, step: int, gamma: float, beta: float) -> None:
        """One more point, unless it repeats the last one (a paused run probed again)."""
        if self.points and self.points[-1] == (step, gamma, beta):
            return
        self.points.append((step, gamma, beta))
        if len(self.points) > MAX_POINTS:
            del self.points[1::2]
        a = np.asarray(self.points, dtype=np.float64)
        self.gamma.setData(a[:, 0], a[:, 1])
        self.beta.setData(a[:, 0], a[:, 2])
        self.note.setText("")


class LayerGammaBeta(QObject):
    """gamma and beta of every unit of one layer (x = unit index); ``unit_clicked`` when a
    unit's point is clicked."""

    unit_clicked = Signal(int)

    def __init__(self, layout: pg.GraphicsLayout, col: int) -> None:
        super().__init__()
        self.plot = _plot(layout, col, "\u03b3 and \u03b2 across the layer's units", "unit")
        self.gamma = self.plot.plot(
            [], [], pen=None, symbol="o", symbolSize=7, symbolBrush=GAMMA_COLOR,
            symbolPen=None, name="\u03b3",
        )  # fmt: skip
        self.beta = self.plot.plot(
            [], [], pen=None, symbol="t", symbolSize=7, symbolBrush=BETA_COLOR,
            symbolPen=None, name="\u03b2",
        )  # fmt: skip
        for item in (self.gamma, self.beta):
            item.sigPointsClicked.connect(self._clicked)
        self.selected = pg.InfiniteLine(0, angle=90, pen=pg.mkPen((90, 90, 90), width=1))
        self.plot.addItem(self.selected, ignoreBounds=True)
        self.note = pg.TextItem("", color=style.EVENT_COLOR, anchor=(0, 0))
        self.plot.addItem(self.note, ignoreBounds=True)

    def show_layer(self, gammas: np.ndarray | None, betas: np.ndarray | None, unit: int) -> None:
        self.selected.setValue(unit)
        if gammas is None or betas is None:
            self.gamma.setData([], [])
            self.beta.setData([], [])
            self.note.setText("no batch norm: no \u03b3, \u03b2")
            return
        x = np.arange(len(gammas))
        self.gamma.setData(x, gammas)
        self.beta.setData(x, betas)
        self.note.setText("")

    def _clicked(self, _item: object, points: list, _ev: object) -> None:
        if len(points):
            self.unit_clicked.emit(round(points[0].pos().x()))
