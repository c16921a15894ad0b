"""Fold a splitter's least needed pane away while its splitter is too narrow for every pane.

At 1024 x 640 the training tab cannot show five panels at readable widths, nor the explorer
its controls, scatter and histograms: rather than squeezing every plot until none can be read,
one pane is collapsed (the splitter handle stays, so it can be dragged back) and comes back by
itself when the window is wide enough again.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSplitter, QWidget


class NarrowFold(QObject):
    """Collapse pane ``index`` of ``splitter`` while the splitter is narrower than ``min_px``;
    the other panes keep their minimum width and pane ``grow`` takes the rest."""

    def __init__(self, splitter: QSplitter, index: int, min_px: int, grow: int) -> None:
        super().__init__(splitter)
        self.splitter, self.index, self.min_px, self.grow = splitter, index, min_px, grow
        self.folded = False
        self._sizes: list[int] = []
        self._min_width = 0
        splitter.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is self.splitter and event.type() == QEvent.Type.Resize:
            self.fit(cast(QResizeEvent, event).size().width())
        return False

    def fit(self, width: int) -> None:
        # Stacked upright (reflow.SplitterStack), every pane has the splitter's full width.
        upright = self.splitter.orientation() == Qt.Orientation.Vertical
        narrow = width < self.min_px and not upright
        if narrow and not self.folded:
            self._sizes = self.splitter.sizes()
            panes = [splitter_pane(self.splitter, i) for i in range(self.splitter.count())]
            sizes = [max(w.minimumWidth(), w.minimumSizeHint().width()) for w in panes]
            sizes[self.index] = 0
            sizes[self.grow] = max(0, width - sum(sizes) + sizes[self.grow])
            # A collapsed pane still counts its minimum in the splitter's: 1 px, while folded
            # (in a scrolling page it made the row too wide for a 1024 x 640 window).
            pane = splitter_pane(self.splitter, self.index)
            self._min_width = pane.minimumWidth()
            pane.setMinimumWidth(1)
            self.splitter.setSizes(sizes)
            self.folded = True
        elif not narrow and self.folded:
            splitter_pane(self.splitter, self.index).setMinimumWidth(self._min_width)
            if self.splitter.sizes()[self.index] == 0:  # still folded: bring it back
                self.splitter.setSizes(self._sizes)
            self.folded = False


def splitter_pane(splitter: QSplitter, i: int) -> QWidget:
    """Pane ``i`` of ``splitter`` (Qt types widget(i) as optional; below count() it is not)."""
    pane = splitter.widget(i)
    assert pane is not None, (splitter, i)
    return pane
