"""Plot items built ahead (bnviz/gui/plot_pool.py): the pool fills between turns of the event
loop, and an item taken from it is what ``pg.PlotItem(**kwargs)`` would have made: its title,
labels, axes and menus, no stray axis left painting, placed where ``addPlot`` places it."""

from __future__ import annotations

import pyqtgraph as pg

from bnviz.gui import plot_pool
from bnviz.gui.plot_pool import PlotPool


def _filled(qtbot, size=3):
    pool = PlotPool(size)
    pool.warm()
    assert len(pool) == 0  # nothing built in the caller's turn
    qtbot.waitUntil(lambda: len(pool) == size, timeout=5000)
    return pool


def _axis_children(plot):
    return [c for c in plot.childItems() if isinstance(c, pg.AxisItem)]


def test_the_pool_fills_in_turns_and_refills_after_a_take(qtbot):
    pool = _filled(qtbot, 3)
    first = pool.take()
    assert len(pool) == 2 and isinstance(first, pg.PlotItem)
    qtbot.waitUntil(lambda: len(pool) == 3, timeout=5000)  # refilled
    pool.stop()
    pool.take()
    qtbot.wait(3 * plot_pool.WARM_GAP_MS)
    assert len(pool) == 2  # stopped: no more building


def test_a_taken_item_is_configured_as_the_constructor_would(qtbot):
    pool = _filled(qtbot, 2)
    kwargs = dict(title="loss", labels={"bottom": "step"}, enableMenu=False, axisItems=None)
    taken, made = pool.take(**kwargs), pg.PlotItem(**kwargs)
    assert len(pool) == 1  # it came from the pool
    for plot in (taken, made):
        assert plot.titleLabel.text == "loss"
        assert plot.getAxis("bottom").labelText == "step"
        assert not plot.menuEnabled() and not plot.vb.menuEnabled()
        assert len(_axis_children(plot)) == 4
    pool.stop()


def test_own_axes_and_view_boxes_are_built_anew(qtbot):
    pool = _filled(qtbot, 2)
    left, box = pg.AxisItem("left"), pg.ViewBox()
    with_axis = pool.take(axisItems={"left": left}, title="t")
    with_box = pool.take(viewBox=box)
    assert len(pool) == 2  # neither came from the pool
    assert with_axis.getAxis("left") is left and with_axis.titleLabel.text == "t"
    assert with_box.vb is box
    pool.stop()


def test_data_keywords_are_plotted(qtbot):
    pool = _filled(qtbot, 2)
    plot = pool.take(x=[0, 1, 2], y=[1, 2, 3], left="accuracy")
    assert len(pool) == 1 and len(plot.listDataItems()) == 1
    assert plot.getAxis("left").labelText == "accuracy"
    pool.stop()


def test_add_plot_and_plot_widget_place_the_item(qtbot):
    layout = pg.GraphicsLayoutWidget()
    qtbot.addWidget(layout)
    plot = plot_pool.add_plot(layout, row=1, col=2, title="t")
    assert layout.getItem(1, 2) is plot and plot.titleLabel.text == "t"
    widget = plot_pool.plot_widget(background="w", title="w")
    qtbot.addWidget(widget)
    assert widget.getPlotItem().titleLabel.text == "w"
