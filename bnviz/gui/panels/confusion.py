"""The confusion matrix of the validation set: which true classes the softmax mistakes for which.

Rows are true classes, columns the predicted class argmax a (eval mode); the diagonal holds the
correct answers. The heat shows the count, the number in each cell the count itself.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.panels._view import cache_axes, eval_key
from bnviz.gui.panels.run_picker import RunPicker
from bnviz.gui.plot_pool import add_plot
from bnviz.train.snapshot import EvalResult, Snapshot

MIN_WIDTH = 300
HEAT_LUT = np.stack(  # white (0) to a dark blue (the largest count)
    [np.linspace(a, b, 256) for a, b in zip((255, 255, 255), (8, 48, 107))], axis=1
).astype(np.uint8)
DARK_CELL = 0.55  # cells filled beyond this share of the maximum get white text
CELL_COLORS = ((185, 185, 185), "k", "w")  # text colour of a zero, a light and a dark cell


def _font_size(C: int) -> int:
    """Point size of the cell counts: smaller when there are more cells to share the view."""
    return 12 if C <= 4 else 10 if C <= 7 else 8


class ConfusionPanel(Panel):
    """Heatmap of ``EvalResult.confusion`` (C x C, rows = true class) with a count per cell."""

    title = "Confusion"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.n_classes = 0
        self._shown: tuple | None = None
        self.texts: list[list[pg.TextItem]] = []
        self._cells = (np.zeros((0, 0)), np.zeros((0, 0)))
        self.net_combo = RunPicker(
            "Which network's confusion matrix to show: with BN or without BN (compare mode)."
        )
        self.net_combo.currentIndexChanged.connect(self._redraw)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.plot = add_plot(self.view)
        self.plot.setToolTip(
            "Row = true class y, column = predicted class argmax a on the validation set "
            "(eval mode: BN uses its running mean and variance). The diagonal is right."
        )
        self._setup_plot()
        controls = QHBoxLayout()
        controls.addWidget(self.net_combo)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.view)
        self._frame: Frame | None = None
        self.setMinimumWidth(MIN_WIDTH)  # narrower, and the title pushes the matrix off the edge

    def _setup_plot(self) -> None:
        p = self.plot
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(HEAT_LUT)
        p.addItem(self.image)
        p.invertY(True)  # true class 0 in the top row, like the matrix is printed
        p.setAspectLocked(True)
        p.setMouseEnabled(x=False, y=False)
        p.hideButtons()
        p.setLabel("bottom", "predicted")
        p.setLabel("left", "true")
        for name in ("left", "bottom"):
            ax = p.getAxis(name)
            ax.setPen("k")
            ax.setTextPen("k")
        cache_axes(p)
        self._title = ""
        self._set_title("waiting for the first evaluation")

    def _set_title(self, text: str) -> None:
        if text != self._title:  # setTitle re-lays out the plot
            self._title = text
            self.plot.setTitle(text, color="k")

    # -- Panel ---------------------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        """New data: cell texts and class ticks for its number of classes."""
        C = data.n_classes
        self._shown = None
        self._frame = None
        if C != self.n_classes:  # the cells' texts are made with the first matrix drawn: File >
            self._remove_texts()  # Open's turn has every panel's set_dataset (100 texts: ~40 ms)
            self.n_classes = C
        ticks = [[(c + 0.5, data.class_names[c]) for c in range(C)]]
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.getAxis("left").setTicks(ticks)
        self.image.setImage(np.zeros((C, C)), autoLevels=False, levels=(0, 1))
        self.image.setRect(QRectF(0, 0, C, C))
        self.plot.setRange(xRange=(0, C), yRange=(0, C), padding=0.02)
        self._clear_texts()
        self._set_title("waiting for the first evaluation")

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        self._frame = frame
        self.net_combo.sync(frame.snapshots)
        self._redraw()

    def export_items(self) -> list:
        return [self.plot]

    # -- drawing -------------------------------------------------------------------------------
    def _remove_texts(self) -> None:
        for row in self.texts:
            for t in row:
                self.plot.removeItem(t)
        self.texts = []

    def _make_texts(self, C: int) -> None:
        self._remove_texts()
        font = QFont()
        font.setPointSize(_font_size(C))
        for i in range(C):
            row = []
            for j in range(C):
                t = pg.TextItem("", color="k", anchor=(0.5, 0.5))
                t.setFont(font)
                t.setPos(j + 0.5, i + 0.5)
                self.plot.addItem(t)
                row.append(t)
            self.texts.append(row)
        self.n_classes = C

    def _clear_texts(self) -> None:
        for row in self.texts:
            for t in row:
                t.setText("")
        C = self.n_classes
        # -1 never equals a count, so the next matrix rewrites every cell.
        self._cells = (np.full((C, C), -1), np.full((C, C), -1))

    def _snapshot(self) -> Snapshot | None:
        return None if self._frame is None else self.net_combo.pick(self._frame.snapshots)

    def _redraw(self, *_args: object) -> None:
        snap = self._snapshot()
        if snap is None:
            return
        ev = None if snap.diverged else snap.evaluation
        label = style.run_label(snap.run, snap.batchnorm)
        key = (eval_key(ev), snap.run, snap.diverged_step, label)
        if key == self._shown:
            return
        self._shown = key
        if ev is None or ev.confusion.shape != (self.n_classes, self.n_classes):
            self._blank(snap, label)
        else:
            self._draw(ev, label if len(self.net_combo.runs) > 1 else "")

    def _blank(self, snap: Snapshot, label: str) -> None:
        C = self.n_classes
        self.image.setImage(np.zeros((C, C)), autoLevels=False, levels=(0, 1))
        self._clear_texts()
        if snap.diverged:
            self._set_title(f"{label} diverged at step {snap.diverged_step}")
        else:
            self._set_title("waiting for the first evaluation")

    def _draw(self, ev: EvalResult, label: str) -> None:
        m = np.asarray(ev.confusion)
        top = max(int(m.max()), 1)
        self.image.setImage(m.astype(np.float64), autoLevels=False, levels=(0, top))
        # Only cells whose count or shade changed are touched: setText re-lays out the text.
        shade = np.where(m == 0, 0, np.where(m > DARK_CELL * top, 2, 1))
        if not self.texts:  # the first matrix of these classes
            self._make_texts(self.n_classes)
            self._clear_texts()
        old_m, old_shade = self._cells
        for i, j in zip(*np.nonzero((m != old_m) | (shade != old_shade))):
            t = self.texts[i][j]
            t.setText(str(int(m[i, j])))
            t.setColor(CELL_COLORS[int(shade[i, j])])
        self._cells = (m.copy(), shade)
        who = f"{label}: " if label else ""
        # Kept short: a plot title sets the plot's minimum width.
        self._set_title(f"{who}val accuracy {ev.val_acc:.1%}")
