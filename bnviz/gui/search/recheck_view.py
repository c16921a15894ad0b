"""A re-check round as a slope chart: each re-run trial's validation loss then and now.

Two x positions, "then" (the trial as first run) and "now" (its repeat under today's fixed
settings), one line per trial on a log loss axis: parallel lines mean the ranking held, crossing
lines that it did not. Beside it, the Spearman correlation of the two and the course's advice
(:mod:`bnviz.search.recheck`). A repeat that diverged is drawn at the top, in red. Trials
whose old losses tie share one label ("#3, #7"); labels that would touch are pushed apart.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from bnviz.gui import style
from bnviz.gui.search.axes import LossAxis
from bnviz.gui.search.caption import summary_chart_caption
from bnviz.search.recheck import ADVICE, RecheckPair, label_groups, rank_agreement, verdict

LINE_PEN = pg.mkPen((52, 120, 220, 200), width=2)
# A label's height in pixels: labels nearer than this on the chart are pushed apart (tied
# trials share one), MIN_PLOT_PX the height assumed before the chart is laid out.
LABEL_PX = 15
MIN_PLOT_PX = 200
MAX_IDS = 3  # a label names at most this many tied trials, then "+k"
AUTO_PADDING = 0.05  # the margin pyqtgraph's auto range adds on each side (about)
EMPTY = "No re-check yet: 'Re-check best K' re-runs the best trials under today's settings."


class RecheckView(QWidget):
    """The slope chart, the correlation and the advice; items made once, fed with setData."""

    def __init__(self) -> None:
        super().__init__()
        self.view = pg.PlotWidget(axisItems={"left": LossAxis("left")})
        self.view.setBackground(style.BACKGROUND)
        self.plot = self.view.getPlotItem()
        self.plot.setLogMode(y=True)
        self.plot.setLabel("left", "validation loss")
        self.plot.setMouseEnabled(x=False, y=True)
        self.plot.getAxis("bottom").setTicks([[(0, "then"), (1, "now")]])
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # 0.9, not "900 (x0.001)"
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setPen("k")
            self.plot.getAxis(name).setTextPen("k")
        self.plot.setXRange(-0.55, 1.25, padding=0)  # room on the left for the labels
        self.lines = pg.PlotDataItem(pen=LINE_PEN, connect="pairs", symbol="o", symbolSize=7,
                                     symbolBrush=(52, 120, 220), symbolPen="k")  # fmt: skip
        self.diverged = pg.PlotDataItem(
            pen=pg.mkPen(style.DIVERGED_COLOR, width=2, style=Qt.PenStyle.DashLine),
            connect="pairs",
        )
        for item in (self.lines, self.diverged):
            self.plot.addItem(item)
        self.labels: list[pg.TextItem] = []
        self.pairs: list[RecheckPair] = []
        self.rho = math.nan
        self.summary, self.advice = summary_chart_caption(self, self.view, EMPTY, ADVICE)

    def set_pairs(self, pairs: list[RecheckPair], round_id: int | None = None) -> None:
        """Show a re-check round's pairs (empty: nothing re-checked yet)."""
        self.pairs, self.rho = pairs, rank_agreement(pairs)
        ok = [p for p in pairs if _shown(p.then_loss) and _shown(p.now_loss)]
        bad = [p for p in pairs if _shown(p.then_loss) and not _shown(p.now_loss)]
        self.lines.setData(*_segments(ok))
        finite = [v for p in ok for v in (p.then_loss, p.now_loss)] + [p.then_loss for p in bad]
        top = 2 * max(finite) if finite else 1.0  # where a diverged repeat is drawn
        self.diverged.setData(*_segments([RecheckPair(p.then_id, p.now_id, p.then_loss, top)
                                          for p in bad]))  # fmt: skip
        for label in self.labels:
            self.plot.removeItem(label)
        self.labels = []
        # a log axis: TextItems take log10; tied (or nearly tied) trials share one label
        ys = [math.log10(v) for v in finite + ([top] if bad else [])]
        span = (max(ys) - min(ys)) * (1 + 2 * AUTO_PADDING) if ys else 1.0
        gap = span * LABEL_PX / max(self.plot.getViewBox().height(), MIN_PLOT_PX)
        at = [(p.then_id, math.log10(p.then_loss)) for p in ok + bad]
        for y, ids in label_groups(at, gap):
            shown = ", ".join(f"#{i}" for i in ids[:MAX_IDS])
            more = f" +{len(ids) - MAX_IDS}" if len(ids) > MAX_IDS else ""
            label = pg.TextItem(shown + more, color="k", anchor=(1.1, 0.5))
            label.setPos(0, y)
            self.plot.addItem(label)
            self.labels.append(label)
        if not pairs:
            self.summary.setText(EMPTY)
            return
        where = f"round {round_id}: " if round_id is not None else ""
        self.summary.setText(f"<b>{where}{len(pairs)} trials re-checked</b>; {verdict(self.rho)}")
        self.plot.enableAutoRange(y=True)


def _shown(loss: float) -> bool:
    return math.isfinite(loss) and loss > 0


def _segments(pairs: list[RecheckPair]) -> tuple[np.ndarray, np.ndarray]:
    """x and y of one segment per pair (then at x=0, now at x=1), for ``connect="pairs"``."""
    x = np.tile([0.0, 1.0], len(pairs))
    y = np.array([v for p in pairs for v in (p.then_loss, p.now_loss)], dtype=float)
    return x, y
