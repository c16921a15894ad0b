"""The rung ladders of a pruned round: brackets side by side, trials climbing, the cut at each rung.

One column per bracket (Hyperband's, the most aggressive first; one for plain successive
halving), epochs up the shared log axis, so the brackets' rungs line up: s = 2 starts at 1
epoch, s = 0 trains its few trials straight to the budget. At each rung the trials that reached
it sit in order of their loss there, best on the left; those that went on are filled (coloured
as on the scatter) and joined to where they are at the next rung, the ones cut are rings right
of the dashed cut, and "9 -> 3" says how many reached it and went on (:mod:`bnviz.search.ladder`).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from bnviz.gui import style
from bnviz.gui.search.caption import summary_chart_caption
from bnviz.search.ladder import Ladder, ladders, latest_pruned_round
from bnviz.search.study import TrialRecord

COLUMN = 0.55  # a bracket's dots' width; 1 between brackets' starts: room for 'n -> k'
CUT_PEN = pg.mkPen((180, 40, 40), width=1.5, style=Qt.PenStyle.DashLine)
DOT = 8
CLIMB_PEN = pg.mkPen((90, 90, 90, 160), width=1)
RING_PEN = pg.mkPen((40, 40, 40), width=1.5)
EMPTY = "No pruned round yet: tick 'halving' or 'Hyperband' and start a round."
CAPTION = (
    "each bracket a column, epochs upward: at each rung the trials that reached it, best "
    "first; filled ones went on (lines climb to the next rung), rings were cut; 'n -> k': k of "
    "n went on"
)


class LadderView(QWidget):
    """The ladders of the newest pruned round; items made once, texts remade per draw."""

    def __init__(self) -> None:
        super().__init__()
        self.view = pg.PlotWidget()
        self.view.setBackground(style.BACKGROUND)
        self.plot = self.view.getPlotItem()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "epochs (log scale)")
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setPen("k")
            self.plot.getAxis(name).setTextPen("k")
        self.climbs = pg.PlotDataItem(pen=CLIMB_PEN, connect="pairs")
        self.cuts = pg.PlotDataItem(pen=CUT_PEN, connect="pairs")
        self.went_on = pg.ScatterPlotItem(size=DOT, pen=pg.mkPen("k", width=1))
        self.cut = pg.ScatterPlotItem(size=DOT, pen=RING_PEN, brush=None)
        for item in (self.climbs, self.cuts, self.went_on, self.cut):
            self.plot.addItem(item)
        self.texts: list[pg.TextItem] = []
        self.shown: list[Ladder] = []
        self.summary, self.caption = summary_chart_caption(self, self.view, EMPTY, CAPTION)

    def set_trials(self, trials: list[TrialRecord], colors: dict[int, QColor]) -> None:
        """Draw the newest pruned round of ``trials``, each trial in ``colors[id]``."""
        for t in self.texts:
            self.plot.removeItem(t)
        self.texts = []
        round_id = latest_pruned_round(trials)
        self.shown = ladders(trials, round_id) if round_id is not None else []
        climbs: list[float] = []
        cuts: list[float] = []
        on: list[dict] = []
        off: list[dict] = []
        ticks: set[int] = set()
        for k, lad in enumerate(self.shown):
            n0 = max(len(lad.rungs[0].ranked), 1) if lad.rungs else 1
            step = COLUMN / max(n0 - 1, 1)
            where: dict[int, tuple[float, float]] = {}
            for i, rung in enumerate(lad.rungs):
                y = math.log10(rung.epochs)
                ticks.add(rung.epochs)
                top = i == len(lad.rungs) - 1
                for j, tid in enumerate(rung.ranked):
                    x = k + j * step
                    if tid in where:
                        climbs += [*where[tid], x, y]
                    where[tid] = (x, y)
                    spot = {"pos": (x, y), "data": tid}
                    if top or j < rung.kept:
                        on.append({**spot, "brush": pg.mkBrush(colors.get(tid, QColor("grey")))})
                    else:
                        off.append(spot)
                if not top and 0 < rung.kept < len(rung.ranked):
                    x = k + (rung.kept - 0.5) * step
                    cuts += [x, y - 0.04, x, y + 0.04]
                went = "" if top else f" -> {rung.kept}"
                last = k + (len(rung.ranked) - 1) * step
                self._text(f"{len(rung.ranked)}{went}", last + 0.03, y, (0, 0.5))
            name = "halving" if lad.s is None else f"s={lad.s}"
            self._text(name, k + COLUMN / 2, math.log10(max(ticks)) + 0.12, (0.5, 1))
        self.climbs.setData(*_pairs(climbs))
        self.cuts.setData(*_pairs(cuts))
        self.went_on.setData(on)
        self.cut.setData(off)
        self.plot.getAxis("left").setTicks([[(math.log10(e), str(e)) for e in sorted(ticks)]])
        self.plot.getAxis("bottom").setTicks([[]])
        if not self.shown:
            self.summary.setText(EMPTY)
            return
        kind = "successive halving" if self.shown[0].s is None else "Hyperband"
        self.summary.setText(f"<b>round {round_id}</b>: {kind}, {len(self.shown)} "
                             f"bracket{'s' if len(self.shown) > 1 else ''}")  # fmt: skip
        self.plot.setXRange(-0.15, len(self.shown) + 0.1, padding=0)
        lo, hi = math.log10(min(ticks)), math.log10(max(ticks))
        self.plot.setYRange(lo - 0.15, hi + 0.3, padding=0)

    def _text(self, text: str, x: float, y: float, anchor: tuple[float, float]) -> None:
        item = pg.TextItem(text, color="k", anchor=anchor)
        item.setPos(x, y)
        self.plot.addItem(item)
        self.texts.append(item)


def _pairs(flat: list[float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(flat, dtype=float).reshape(-1, 2)
    return a[:, 0], a[:, 1]
