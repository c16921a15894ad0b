"""The Hyperparameters tab's layout: controls | scatter and table | samples and importance,
side by side when there is room, the two plot columns stacked in a scrolling column when not.

At 1024 x 640 the tab is about 690 px wide: three columns left the scatter 100 px, and folding
the right column away (as before) hid the histograms and the importance chart altogether.
Stacked, every plot keeps a readable size and the column scrolls.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QScrollArea, QSplitter, QVBoxLayout, QWidget

from bnviz.gui.reflow import fit_scroll_width

CONTROLS_WIDTH = 290
# Narrower than this, the plot columns stack (the scatter needs ~400 px, the histograms 380).
STACK_BELOW_PX = 1000
STACKED_HEIGHTS = (520, 520)  # scatter and table; samples and importance


class ExplorerLayout(QObject):
    """``controls`` (scrolling), ``middle`` and ``right`` in a horizontal splitter on ``host``;
    below :data:`STACK_BELOW_PX` the middle and right columns go into one scrolling column."""

    def __init__(self, host: QWidget, controls: QWidget, middle: QWidget, right: QWidget) -> None:
        super().__init__(host)
        self.host, self.middle, self.right = host, middle, right
        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.controls, self.controls_scroll = controls, scroll
        self.fit_controls()  # never cut: the page scrolls down
        controls.installEventFilter(self)  # larger fonts (classroom mode): wider
        self.outer = QSplitter(Qt.Orientation.Horizontal)
        self.outer.addWidget(scroll)
        self.outer.addWidget(middle)
        self.outer.addWidget(right)
        self.outer.setSizes([self.controls_width, 620, 430])
        self.column = QScrollArea()  # the stacked columns (narrow)
        self.column.setWidgetResizable(True)
        page = QWidget()
        self.stack = QVBoxLayout(page)
        self.stack.setContentsMargins(0, 0, 0, 0)
        self.column.setWidget(page)
        self.stacked = False
        layout = QVBoxLayout(host)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.outer)
        host.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is self.host and event.type() == QEvent.Type.Resize:
            self.fit(cast(QResizeEvent, event).size().width())
        elif obj is self.controls and event.type() == QEvent.Type.FontChange:
            self.fit_controls()
        return False

    def fit_controls(self) -> None:
        """The controls column as wide as its form needs (again after a font change)."""
        fit_scroll_width(self.controls_scroll)
        self.controls_width = max(CONTROLS_WIDTH, self.controls_scroll.minimumWidth())
        self.controls_scroll.setMinimumWidth(self.controls_width)

    def fit(self, width: int) -> None:
        narrow = width < STACK_BELOW_PX
        if narrow == self.stacked:
            return
        self.stacked = narrow
        if narrow:
            for w, h in zip((self.middle, self.right), STACKED_HEIGHTS):
                w.setMinimumHeight(h)
                self.stack.addWidget(w)
            self.outer.addWidget(self.column)
            self.outer.setSizes([self.controls_width, max(1, width - self.controls_width)])
        else:
            self.column.setParent(None)
            for w in (self.middle, self.right):
                w.setMinimumHeight(0)
                self.outer.addWidget(w)
            self.outer.setSizes([self.controls_width, 620, 430])
