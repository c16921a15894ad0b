"""Plot items built ahead, in idle turns, for the views built when first opened.

A pyqtgraph ``PlotItem`` takes about 5 ms to construct (its view box, four axes, two context
menus with a form of some forty widgets); a lesson view has four to nine of them, so building one
on its first opening blocked the window for 50-70 ms, most of it in those constructors. A
:class:`PlotPool` builds a few plot items ahead, one per turn of the event loop with a gap
between them (a turn of ~5 ms the window does not feel), and hands them out through
:func:`add_plot`, :func:`plot_item` and :func:`plot_widget`, which give what pyqtgraph's
``layout.addPlot(...)``, ``pg.PlotItem(...)`` and ``pg.PlotWidget(...)`` give. Taking from the
pool costs the configuration only; an empty pool, or a plot item asked for with axes or a view
box of its own, is built on the spot, as before.

The pool is the process's (views are built in the GUI thread only). A window fills it in steps of
its staged build, before its training panels take their plot items (:meth:`PlotPool.fill`), and
keeps it warm once built (:meth:`PlotPool.warm`): it refills, a turn at a time, as it is taken
from.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer

# The training panels take about 14 at start (4 hidden layers, 3 classes), a lesson view up to 9
POOL_SIZE = 16
WARM_GAP_MS = 30  # between two builds: the window draws and answers meanwhile
# PlotItem keyword arguments that only a new item takes (the others are applied to one). Axes
# too: pooled items with axes of their own (a default axis replaced after construction, or the
# axes built with the item ahead of need) were followed, in three full runs of the GUI tests of
# five, by plot items painted with their Python half gone (AttributeErrors in pyqtgraph's
# boundingRect); with default axes only, none in four (CI's two included). Pooled items with
# their default axes given other ticks on the instance (the log axes of four lessons, tried
# 2026-12-07) did the same, at the teardown of the easier-search lesson's test, in 5 runs of 8.
_CONSTRUCTION_ONLY = {"viewBox", "parent", "axisItems"}


class PlotPool(QObject):
    """Plot items built ahead of need (see the module's docstring)."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        super().__init__()
        self.size = size
        self._items: list[pg.PlotItem] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(WARM_GAP_MS)
        self._timer.timeout.connect(self._build_one)
        self.warming = False

    def __len__(self) -> int:
        return len(self._items)

    def warm(self) -> None:
        """Build items one per :data:`WARM_GAP_MS` until the pool holds :attr:`size`, and keep
        refilling it after each take from now on."""
        self.warming = True
        if len(self._items) < self.size and not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        """Build nothing more (the window closes); what is built stays usable."""
        self.warming = False
        self._timer.stop()

    def fill(self) -> Iterator[None]:
        """Build items until the pool is full, yielding after each: steps for a staged build
        (the window's, before its panels take them)."""
        while len(self._items) < self.size:
            self._items.append(pg.PlotItem())
            yield

    def _build_one(self) -> None:
        if not self.warming or len(self._items) >= self.size:
            return
        self._items.append(pg.PlotItem())
        self._timer.start()

    def take(self, **kwargs: Any) -> pg.PlotItem:
        """A plot item as ``pg.PlotItem(**kwargs)`` makes it: one from the pool, configured,
        when one is ready and the arguments allow it, else a new one."""
        if not self._items or any(kwargs.get(k) is not None for k in _CONSTRUCTION_ONLY):
            return pg.PlotItem(**kwargs)
        plot = self._items.pop()
        if self.warming and not self._timer.isActive():
            self._timer.start()
        _configure(plot, dict(kwargs))
        return plot


_AXES = ("left", "bottom", "right", "top")


def _configure(plot: pg.PlotItem, kwargs: dict[str, Any]) -> None:
    """Do to a default plot item what ``PlotItem.__init__`` does with ``kwargs``."""
    kwargs.pop("axisItems", None)  # None: a plot item with axes of its own is built anew
    if not kwargs.pop("enableMenu", True):
        plot.setMenuEnabled(False, None)
        plot.vb.setMenuEnabled(False)
    name = kwargs.pop("name", None)
    if name is not None:
        plot.vb.register(name)
    labels = dict(kwargs.pop("labels", None) or {})
    for axis in _AXES:
        if axis in kwargs:
            labels[axis] = kwargs.pop(axis)
    for axis, label in labels.items():
        plot.setLabel(axis, *((label,) if isinstance(label, str) else label))
    title = kwargs.pop("title", None)
    if title is not None:
        plot.setTitle(title)
    if kwargs:
        plot.plot(**kwargs)


_POOL: PlotPool | None = None


def pool() -> PlotPool:
    """The process's pool (made on first use: a QApplication must exist)."""
    global _POOL
    if _POOL is None:
        _POOL = PlotPool()
    return _POOL


def plot_item(**kwargs: Any) -> pg.PlotItem:
    """``pg.PlotItem(**kwargs)``, from the pool when it can be."""
    return pool().take(**kwargs)


def add_plot(
    layout: pg.GraphicsLayout | pg.GraphicsLayoutWidget,
    row: int | None = None,
    col: int | None = None,
    rowspan: int = 1,
    colspan: int = 1,
    **kwargs: Any,
) -> pg.PlotItem:
    """``layout.addPlot(row, col, rowspan, colspan, **kwargs)``, from the pool when it can be."""
    plot = plot_item(**kwargs)
    layout.addItem(plot, row, col, rowspan, colspan)
    return plot


def plot_widget(background: Any = "default", **kwargs: Any) -> pg.PlotWidget:
    """``pg.PlotWidget(background=..., **kwargs)``, its plot item from the pool when it can be."""
    return pg.PlotWidget(background=background, plotItem=plot_item(**kwargs))
