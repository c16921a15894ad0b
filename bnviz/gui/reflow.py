"""Layouts that fit a small screen: plots stack when their row is too narrow, a row of fields
wraps onto the next line.

At 1024 x 640 a lesson view has about 690 x 450 px beside the Controls dock: three plots in a
row got 230 px each and the right-most was cut (pyqtgraph lays out its scene without telling Qt
its minimum width), and a row of eleven fields squeezed each to ":log". A lesson view's page
scrolls (:class:`bnviz.gui.lessons.base.LessonView`), so stacking plots is always possible;
:class:`PlotReflow` puts as many plots side by side as have :data:`MIN_PLOT_WIDTH` each and
gives the widget the height of its rows, and :class:`FlowLayout` wraps a row of widgets.
"""

from __future__ import annotations

import math
from typing import Any, cast

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QGraphicsGridLayout,
    QLayout,
    QLayoutItem,
    QScrollArea,
    QSplitter,
    QWidget,
)

from bnviz.gui.fold import NarrowFold, splitter_pane

MIN_PLOT_WIDTH = 300  # a plot narrower than this loses its tick labels and title
MIN_PLOT_HEIGHT = 230  # the same, upright: title, ticks, axis label and some data
SIDE_MAX_WIDTH = 160  # an item narrower than this (a colour bar) stays beside the last column


class PlotReflow(QObject):
    """Re-arrange the one row of plots of ``widget`` (a GraphicsLayoutWidget) into as many
    columns as fit its width, at least :data:`MIN_PLOT_WIDTH` each; narrow items (colour bars)
    stay at the right, spanning every row. The widget's minimum height follows the rows, so a
    scrolling parent shows every plot at a readable size instead of squeezing them."""

    def __init__(
        self,
        widget: pg.GraphicsLayoutWidget,
        min_width: int = MIN_PLOT_WIDTH,
        min_height: int = MIN_PLOT_HEIGHT,
    ) -> None:
        super().__init__(widget)
        self.widget, self.min_width, self.min_height = widget, min_width, min_height
        items = row_items(widget.ci)
        self.side = [i for i in items if _is_side(i)]
        self.plots = [i for i in items if not _is_side(i)]
        self.columns = 0
        self.side_width = sum(_side_width(i) for i in self.side)
        self.column_width = 0
        widget.installEventFilter(self)
        self.refit()

    def refit(self) -> None:
        """Measure the plots again (larger titles in classroom mode) and lay them out anew if
        their width changed."""
        # A long title makes its plot wider than min_width: every column gets the widest's.
        width = max([self.min_width] + [_min_width(i) for i in self.plots])
        if width != self.column_width:
            self.column_width = width
            self.widget.setMinimumWidth(width + self.side_width)
            self.columns = 0
            self.fit(max(self.widget.width(), 1))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is self.widget and event.type() == QEvent.Type.Resize:
            self.fit(cast(QResizeEvent, event).size().width())
        return False

    def columns_for(self, width: int) -> int:
        room = max(0, width - self.side_width)
        return max(1, min(len(self.plots), room // self.column_width))

    def fit(self, width: int) -> None:
        cols = self.columns_for(width)
        rows = math.ceil(len(self.plots) / cols)
        self.widget.setMinimumHeight(rows * self.min_height)
        if cols == self.columns:
            return
        self.columns = cols
        ci = self.widget.ci
        grid: QGraphicsGridLayout = ci.layout
        for item in self.plots + self.side:
            for i in range(grid.count()):
                if grid.itemAt(i) is item:
                    grid.removeAt(i)
                    break
        ci.rows, ci.items = {}, {}
        for k, item in enumerate(self.plots):
            self._place(item, k // cols, k % cols)
        for j, item in enumerate(self.side):
            self._place(item, 0, cols + j, rowspan=rows)
        for c in range(grid.columnCount()):
            grid.setColumnStretchFactor(c, 1 if c < cols else 0)
        for r in range(grid.rowCount()):
            grid.setRowStretchFactor(r, 1 if r < rows else 0)
        grid.activate()

    def _place(self, item: Any, row: int, col: int, rowspan: int = 1) -> None:
        ci = self.widget.ci
        ci.layout.addItem(item, row, col, rowspan, 1)
        ci.items[item] = [(row + i, col) for i in range(rowspan)]
        for i in range(rowspan):
            ci.rows.setdefault(row + i, {})[col] = item


def row_items(layout: pg.GraphicsLayout) -> list:
    """The items of ``layout`` when it holds one row of at least two, left to right; else []."""
    cells = [(cells[0], item) for item, cells in layout.items.items() if cells]
    if len(cells) < 2 or any(len(c) != 1 for c in layout.items.values()):
        return []
    if {rc[0] for rc, _ in cells} != {0}:
        return []
    return [item for _, item in sorted(cells, key=lambda c: c[0][1])]


def _is_side(item: Any) -> bool:  # a pyqtgraph layout item, as _min_width and _side_width
    return isinstance(item, pg.ColorBarItem) or 0 < item.maximumWidth() < SIDE_MAX_WIDTH


def _min_width(item: Any) -> int:
    return math.ceil(item.effectiveSizeHint(Qt.SizeHint.MinimumSize).width())


def _side_width(item: Any) -> int:
    return math.ceil(max(_min_width(item), item.preferredWidth(), 40))


def reflow_plots(root: QWidget) -> list[PlotReflow]:
    """A :class:`PlotReflow` on every GraphicsLayoutWidget under ``root`` that shows one row of
    plots (and has none yet)."""
    out = []
    for w in root.findChildren(pg.GraphicsLayoutWidget):
        if w.findChild(PlotReflow) is None and len(row_items(w.ci)) >= 2:
            out.append(PlotReflow(w))
    return out


class FlowLayout(QLayout):
    """Widgets left to right, wrapping onto the next line when the row is full (Qt's flow
    layout example): a row of fields stays readable at any width."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt's name)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt's name)
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt's name)
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt's name)
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        return self._lay_out(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt's name)
        super().setGeometry(rect)
        self._lay_out(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        w = sum(i.sizeHint().width() + self.spacing() for i in self._items)
        h = max((i.sizeHint().height() for i in self._items), default=0)
        return QSize(w, h)

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt's name)
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _lay_out(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = area.x(), area.y(), 0
        for item in self._items:
            if (w := item.widget()) is not None and w.isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line > 0:
                x, y, line = area.x(), y + line + self.spacing(), 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self.spacing()
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()


class SplitterStack(QObject):
    """Turn the horizontal ``splitters`` inside ``scroll`` (a QScrollArea) upright while the
    scroll area is narrower than their panes' minimum widths side by side, and back when it is
    wide again: the page then scrolls down instead of sideways.

    ``pane_width``: the least width a pane is readable at, when its own minimum says less (plots
    do not tell Qt their minimum); ``pane_height``: the height each pane keeps while upright."""

    def __init__(
        self,
        scroll: QScrollArea,
        splitters: list[QSplitter],
        margin: int = 16,
        pane_width: int = 0,
        pane_height: int = 0,
    ) -> None:
        super().__init__(scroll)
        self.scroll, self.splitters, self.margin = scroll, splitters, margin
        self.pane_width, self.pane_height = pane_width, pane_height
        self._heights: dict[int, int] = {}  # a pane's own minimum height, while it is upright
        scroll.installEventFilter(self)
        self.fit(self.room())

    def room(self) -> int:
        """The scroll area's width inside its frame, its scroll bar included: the decision must
        not depend on the bar, which comes and goes with the decision (a layout loop)."""
        return self.scroll.width() - 2 * self.scroll.frameWidth()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is self.scroll and event.type() == QEvent.Type.Resize:
            self.fit(self.room())
        return False

    def set_pane_size(self, width: int, height: int) -> None:
        """New readable pane size (larger fonts): fit again."""
        self.pane_width, self.pane_height = width, height
        for sp in self.splitters:
            if sp.orientation() == Qt.Orientation.Vertical:
                self._upright(sp, True)
        self.fit(self.room())

    def fit(self, width: int) -> None:
        for sp in self.splitters:
            folded = {f.index for f in sp.findChildren(NarrowFold) if width < f.min_px}
            panes = [splitter_pane(sp, i) for i in range(sp.count()) if i not in folded]
            side_by_side = sum(max(_widget_min_width(w), self.pane_width) for w in panes)
            side_by_side += sp.handleWidth() * (len(panes) - 1) + self.margin
            upright = side_by_side > width
            orientation = Qt.Orientation.Vertical if upright else Qt.Orientation.Horizontal
            if sp.orientation() != orientation:
                sp.setOrientation(orientation)
                self._upright(sp, upright)
                sp.setSizes([1000] * sp.count())  # the old widths mean nothing as heights
                for fold in sp.findChildren(NarrowFold):  # a folded pane comes back upright
                    fold.fit(sp.width())

    def _upright(self, sp: QSplitter, upright: bool) -> None:
        if not self.pane_height:
            return
        for i in range(sp.count()):
            w = splitter_pane(sp, i)
            if upright:
                self._heights.setdefault(id(w), w.minimumHeight())
                w.setMinimumHeight(max(self._heights[id(w)], self.pane_height))
            elif id(w) in self._heights:
                w.setMinimumHeight(self._heights.pop(id(w)))


def _widget_min_width(w: QWidget) -> int:
    return max(w.minimumWidth(), w.minimumSizeHint().width())


def stack_splitters(root: QWidget, scroll: QScrollArea) -> SplitterStack | None:
    """A :class:`SplitterStack` for the horizontal splitters under ``root``, if any."""
    horizontal = Qt.Orientation.Horizontal
    found = [s for s in root.findChildren(QSplitter) if s.orientation() == horizontal]
    return SplitterStack(scroll, found) if found else None


def fit_scroll_width(scroll: QScrollArea) -> None:
    """Make ``scroll`` (vertical scrolling only) at least as wide as its widget's fields need,
    with the scroll bar: a short window scrolls the Controls dock down, and larger fonts
    (classroom mode) widen it instead of cutting Reset and the fields."""
    widget = scroll.widget()
    if widget is None:
        return
    if (layout := widget.layout()) is not None:
        layout.activate()
    bar = scroll.verticalScrollBar().sizeHint().width()
    scroll.setMinimumWidth(widget.minimumSizeHint().width() + bar + 2)


READABLE_PANEL = (330, 230)  # a training panel's least readable size (px, at font scale 1)


class PanelPage(QObject):
    """The training tab: rows of panels (horizontal splitters in ``page``) in a scroll area.

    Each panel keeps at least :data:`READABLE_PANEL` (times the font scale, for classroom mode);
    a row too narrow for its panels side by side stacks them upright, and the page scrolls down.
    At 1024 x 640 nothing moves; in classroom mode at 1280 x 720 the panels were cut instead."""

    def __init__(self, page: QWidget, rows: list[QSplitter]) -> None:
        self.scroll = QScrollArea()
        super().__init__(self.scroll)
        self.scroll.setWidget(page)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.rows = rows
        self.stack = SplitterStack(self.scroll, rows, margin=4)
        self.set_scale(1.0)

    def set_scale(self, s: float) -> None:
        """Readable sizes for fonts ``s`` times their size."""
        width, height = (round(v * s) for v in READABLE_PANEL)
        for sp in self.rows:
            for i in range(sp.count()):
                splitter_pane(sp, i).setMinimumHeight(height)
        self.stack.set_pane_size(width, 0)


def fit_label(axis: pg.AxisItem, shorts: dict[str, str]) -> None:
    """Label vertical ``axis`` with ``shorts[text]`` instead of its text while the text is
    longer than the axis: at 1024 x 640 the loss panel's "cross-entropy loss" ran past its short
    plot into "val accuracy" below it. The panel keeps setting its full labels."""
    full_string = axis.labelString
    state = {"short": False}

    def cramped() -> bool:
        text = axis.labelText
        if text not in shorts or axis.label is None:
            return False
        return QFontMetrics(axis.label.font()).horizontalAdvance(text) + 10 > axis.size().height()

    def label_string() -> str:
        text = axis.labelText
        state["short"] = cramped()
        if not state["short"]:
            return full_string()
        axis.labelText = shorts[text]
        try:
            return full_string()
        finally:
            axis.labelText = text

    resized = axis.resizeEvent

    def resize(ev: object = None) -> None:
        if cramped() != state["short"]:
            axis._updateLabel()
        resized(ev)

    axis.labelString = label_string
    axis.resizeEvent = resize
