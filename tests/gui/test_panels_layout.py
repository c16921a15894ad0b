"""Text in the training plots that must not overlap: a y-axis label and its tick labels after
zooming to wide ticks."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from bnviz.gui.panels.activations import ActivationsPanel
from bnviz.gui.panels.loss import LossPanel
from bnviz.gui.panels.softmax import SoftmaxPanel
from tests.gui.test_panels_outputs import Feed, _panel

# Tick labels as wide as a zoom can make them: "-4000.46", "0.0001235".
WIDE_RANGES = ((-4000.55, -4000.45), (0.0001225, 0.0001245))


def _tick_texts(axis: pg.AxisItem) -> list[tuple[QRectF, str]]:
    """The tick labels ``axis`` draws now (axis coordinates), as its paint computes them."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in specs[2]]


def _settle(panel) -> None:
    """Paint until the layout stops changing (an axis measures its text while painting)."""
    for _ in range(4):
        panel.grab()
        QApplication.processEvents()


def _left_axes(panel) -> list[pg.AxisItem]:
    views = panel.findChildren(pg.GraphicsLayoutWidget) + panel.findChildren(pg.PlotWidget)
    plots = [item for view in views for item in view.ci.items if isinstance(item, pg.PlotItem)]
    return [p.getAxis("left") for p in plots if p.getAxis("left").isVisible()]


@pytest.mark.parametrize("cls", [LossPanel, SoftmaxPanel, ActivationsPanel])
@pytest.mark.parametrize("y_range", WIDE_RANGES)
def test_wide_tick_labels_are_drawn_clear_of_the_axis_label(qtbot, cls, y_range):
    feed = Feed()
    panel = _panel(qtbot, cls, feed)
    panel.render(feed.frame())
    axes = _left_axes(panel)
    assert axes
    for axis in axes:
        axis.linkedView().setYRange(*y_range, padding=0)
    _settle(panel)
    # The regions map keeps its aspect ratio, so a thin y range does not take there.
    axes = [a for a in axes if a.linkedView().viewRange()[1] == pytest.approx(y_range)]
    assert axes
    for axis in axes:
        texts = _tick_texts(axis)
        # Labels that do not fit the axis are dropped by pyqtgraph: the softmax bars lost
        # every one of theirs.
        assert len(texts) >= 2, [t for _, t in texts]
        assert max(len(t) for _, t in texts) >= 8, [t for _, t in texts]
        inside = axis.boundingRect()
        for rect, text in texts:
            assert rect.left() >= inside.left(), text
        if axis.label.isVisible():
            label = axis.label.mapRectToParent(axis.label.boundingRect())
            for rect, text in texts:
                assert not label.intersects(rect), (text, label, rect)


def test_the_loss_plots_keep_their_x_axes_aligned(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    panel.loss_plot.setYRange(-4000.55, -4000.45, padding=0)  # only the loss axis widens
    _settle(panel)
    lp, ap = panel.loss_plot.getAxis("left"), panel.acc_plot.getAxis("left")
    assert lp.width() == ap.width() > 64
    assert panel.loss_plot.vb.mapToScene(0, 0).x() == panel.acc_plot.vb.mapToScene(0, 0).x()
