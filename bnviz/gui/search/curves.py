"""Every trial's validation-loss curve, overlaid: how the good ones got there.

One line per trial of the shown round(s), coloured like its point on the scatter (same colour
map, same levels), on a log loss axis. When a box is drawn on the scatter, the trials inside
it are drawn strong and the rest faded, so the box's learning curves stand out from the
round's. The selected trial (a click on a point or a row) and the hovered one are drawn thick
on top. A pruned trial's line stops at its last rung: where successive halving dropped it;
a trial with one evaluation (pruned at the first rung of a short budget) is a dot.

Cheap with many trials: one PlotDataItem per trial, made once and reused (a pool), fed with
``setData``; a trial's curve arrays are built once and cached by id.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from bnviz.gui import style
from bnviz.gui.search.axes import LossAxis
from bnviz.search.study import TrialRecord

FOLLOW = "round of the selection"  # the selected trial's round, else the newest
ALL = "all rounds"
STRONG_ALPHA = 220
FADED_ALPHA = 28  # outside the box: still there, as context
LINE_WIDTH = 1.5
DOT_SIZE = 7  # a trial with a single evaluation is drawn as a dot
SELECTED_PEN = pg.mkPen((0, 150, 255), width=4)
HOVER_PEN = pg.mkPen((20, 20, 20), width=3, style=Qt.PenStyle.DashLine)
CAPTION = (
    "validation loss of every trial (log scale), coloured as on the scatter; trials inside the "
    "box strong, the rest faded; a line that stops early was pruned (a dot: after one epoch)"
)


def curve_arrays(t: TrialRecord) -> tuple[np.ndarray, np.ndarray]:
    """(steps, val_loss) of a trial's curve, keeping only what a log axis can show (> 0)."""
    if not t.curve:
        return np.zeros(0), np.zeros(0)
    steps, losses = (np.asarray(a, dtype=float) for a in zip(*t.curve))
    keep = np.isfinite(losses) & (losses > 0)
    return steps[keep], losses[keep]


class CurvesView(QWidget):
    """The overlaid curves, a round chooser above them and a caption below."""

    def __init__(self) -> None:
        super().__init__()
        self.round_combo = QComboBox()
        self.round_combo.addItems([FOLLOW, ALL])
        self.view = pg.PlotWidget(axisItems={"left": LossAxis("left")})
        self.view.setBackground(style.BACKGROUND)
        self.plot = self.view.getPlotItem()
        self.plot.setLogMode(y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "training step")
        self.plot.setLabel("left", "validation loss")
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setPen("k")
            self.plot.getAxis(name).setTextPen("k")
        self.lines: list[pg.PlotDataItem] = []  # the pool; line i draws self.shown[i]
        self.selected_line = pg.PlotDataItem(pen=SELECTED_PEN)
        self.hover_line = pg.PlotDataItem(pen=HOVER_PEN)
        for item, z in ((self.selected_line, 30), (self.hover_line, 31)):
            item.setZValue(z)
            self.plot.addItem(item)
        self.shown: list[int] = []  # trial ids drawn, in pool order
        self.strong: set[int] = set()  # ids drawn strong (inside the box, or all without one)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.caption = QLabel(CAPTION)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #444; font-size: 11px;")
        top = QHBoxLayout()
        top.addWidget(QLabel("show"))
        top.addWidget(self.round_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    # -- which rounds ----------------------------------------------------------------------------
    def set_rounds(self, round_ids: list[int]) -> None:
        """Offer every round by number (keeping the current choice when it still exists)."""
        wanted = [FOLLOW, ALL, *(f"round {r}" for r in round_ids)]
        have = [self.round_combo.itemText(i) for i in range(self.round_combo.count())]
        if wanted != have:
            current = self.round_combo.currentText()
            self.round_combo.blockSignals(True)
            self.round_combo.clear()
            self.round_combo.addItems(wanted)
            self.round_combo.setCurrentText(current if current in wanted else FOLLOW)
            self.round_combo.blockSignals(False)

    def shown_rounds(self, trials: list[TrialRecord], selected: int | None) -> set[int]:
        """The rounds the chooser asks for, given the trials and the selected trial."""
        choice = self.round_combo.currentText()
        rounds = {t.round for t in trials}
        if choice == ALL:
            return rounds
        if choice != FOLLOW:  # "round N"
            return {int(choice.split()[1])}
        sel = next((t.round for t in trials if t.id == selected), None)
        if sel is not None:
            return {sel}
        return {max(rounds)} if rounds else set()

    # -- drawing ---------------------------------------------------------------------------------
    def set_trials(
        self,
        trials: list[TrialRecord],
        colors: dict[int, QColor],
        inside: set[int] | None,
        selected: TrialRecord | None,
    ) -> None:
        """Draw ``trials`` (already the shown rounds'), each in ``colors[id]`` (grey if
        missing); ``inside``: the ids in the scatter's box, None when there is no box;
        ``selected`` drawn thick on top, from whichever round."""
        by_id = {t.id: t for t in trials if len(self._arrays(t)[0])}
        ids = list(by_id)
        self.strong = set(ids) if inside is None else {i for i in ids if i in inside}
        while len(self.lines) < len(ids):
            item = pg.PlotDataItem()
            self.plot.addItem(item)
            self.lines.append(item)
        for item, trial_id in zip(self.lines, ids):
            color = QColor(colors.get(trial_id, QColor(*style.FAILED_COLOR)))
            strong = trial_id in self.strong
            color.setAlpha(STRONG_ALPHA if strong else FADED_ALPHA)
            item.setPen(pg.mkPen(color, width=LINE_WIDTH if strong else 1))
            item.setZValue(10 if strong else 0)
            x, y = self._arrays(by_id[trial_id])
            # one evaluation (pruned at the first rung, a 1-epoch round) is no line: a dot
            dot = {"symbol": "o", "symbolSize": DOT_SIZE, "symbolBrush": color, "symbolPen": None}
            item.setData(x, y, **(dot if len(x) == 1 else {"symbol": None}))
            item.show()
        for item in self.lines[len(ids) :]:
            item.setData([], [])
            item.hide()
        self.shown = ids
        self._focus(self.selected_line, selected)

    def set_hovered(self, t: TrialRecord | None) -> None:
        """Draw the hovered trial's curve on top, dashed (None: the mouse left it)."""
        self._focus(self.hover_line, t)

    def _focus(self, item: pg.PlotDataItem, t: TrialRecord | None) -> None:
        x, y = self._arrays(t) if t is not None else (np.zeros(0), np.zeros(0))
        pen = item.opts["pen"]
        dot = {"symbol": "o", "symbolSize": DOT_SIZE + 4, "symbolBrush": None, "symbolPen": pen}
        item.setData(x, y, **(dot if len(x) == 1 else {"symbol": None}))

    def _arrays(self, t: TrialRecord) -> tuple[np.ndarray, np.ndarray]:
        if t.id not in self._cache:
            self._cache[t.id] = curve_arrays(t)
        return self._cache[t.id]

    def forget(self) -> None:
        """A study was opened: ids now name other trials."""
        self._cache.clear()
