"""Text in the training plots that must not overlap: a y-axis label and its tick labels after
zooming to wide ticks; the change markers' labels among themselves and with the legend."""

from __future__ import annotations

from dataclasses import replace

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from bnviz.gui.panels.activations import ActivationsPanel
from bnviz.gui.panels.loss import LossPanel
from bnviz.gui.panels.loss_events import Box, label_lines, place_labels
from bnviz.gui.panels.softmax import SoftmaxPanel
from tests.gui.test_main_window import SMALL, make_window, wait_step  # noqa: F401 (fixture)
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
    # The regions map keeps its aspect ratio, so a thin y range does not take there; the
    # softmax t and a plots have fixed ticks (0, 0.5, 1) on a range fixed at 0..1.08, which no
    # user can zoom: a range of thousands cannot happen there.
    axes = [a for a in axes if a.linkedView().viewRange()[1] == pytest.approx(y_range)
            and a._tickLevels is None]  # fmt: skip
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


def _label_boxes(panel: LossPanel) -> list[tuple[QRectF, str]]:
    vb = panel.loss_plot.getViewBox()
    return [
        (item.label.mapRectToItem(vb, item.label.boundingRect()), item.label.toPlainText())
        for item in panel.loss_plot.items
        if isinstance(item, pg.InfiniteLine)
        and item.label is not None
        and item.isVisible()
        and item.label.isVisible()
        and item.label.toPlainText()
    ]


def _assert_apart(panel: LossPanel) -> list[str]:
    vb = panel.loss_plot.getViewBox()
    boxes = _label_boxes(panel)
    legend = panel.legend.mapRectToItem(vb, panel.legend.boundingRect())
    for i, (a, text) in enumerate(boxes):
        assert not a.intersects(legend), (text, a, legend)
        assert vb.boundingRect().contains(a), (text, a)
        for b, other in boxes[i + 1 :]:
            assert not a.intersects(b), (text, other)
    return [text for _, text in boxes]


def test_change_markers_close_together_are_laid_out_apart(qtbot):
    feed = Feed(optimizer="sgd", lr=0.5)
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    feed.t.set_batchnorm(False, run="bn")
    panel.render(feed.frame(steps=2))
    feed.t.set_hparams(lr=0.1)
    panel.render(feed.frame(steps=2))
    feed.t.set_batchnorm(True, run="bn")
    panel.render(feed.frame(steps=2))
    feed.t.set_hparams(lr=0.05, momentum=0.8)
    panel.render(feed.frame(steps=2))
    feed.t.set_hparams(lr=0.2)
    panel.render(feed.frame(steps=1))
    feed.t.set_hparams(bn_momentum=0.95)
    panel.render(feed.frame(steps=200))
    _settle(panel)
    texts = "\n".join(_assert_apart(panel))
    # Every change shows with its values, the second of two changed together too.
    for change in (
        "BN off",
        "lr 0.5 -> 0.1",
        "BN on",
        "lr 0.1 -> 0.05",
        "momentum 0.9 -> 0.8",
        "lr 0.05 -> 0.2",
        "bn_momentum 0.9 -> 0.95",
    ):
        assert change in texts, change
    # Still apart in a smaller window, after log x, and when the view is zoomed out.
    panel.resize(600, 380)
    _settle(panel)
    _assert_apart(panel)
    panel.log_x.setChecked(True)
    _settle(panel)
    _assert_apart(panel)
    # Log x leaves the accuracy axis at 0..1 (pyqtgraph's setLogMode auto-ranged it).
    assert panel.acc_plot.getViewBox().viewRange()[1] == pytest.approx([0.0, 1.02])
    panel.loss_plot.setXRange(0, 3, padding=0)
    _settle(panel)
    _assert_apart(panel)


def test_twins_changed_at_once_share_one_marker(qtbot):
    feed = Feed(compare_setting="lr", compare_value="0.1", optimizer="sgd", lr=0.5)
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    feed.t.set_hparams(lr=0.05)  # the twin keeps its own rate and says so
    panel.render(feed.frame(steps=100))
    _settle(panel)
    texts = _assert_apart(panel)
    assert len(texts) == 1
    assert "lr 0.5 -> 0.05" in texts[0] and "twin keeps" in texts[0]


def test_label_lines_split_each_change_and_drop_repeats():
    assert label_lines(["lr 0.5 -> 0.05, momentum 0.9 -> 0.8"]) == [
        "lr 0.5 -> 0.05",
        "momentum 0.9 -> 0.8",
    ]
    assert label_lines(["lr 1 -> 2", "lr 1 -> 2 (the twin keeps lr=0.1)", "BN off"]) == [
        "lr 1 -> 2",
        "(the twin keeps lr=0.1)",
        "BN off",
    ]


def test_place_labels_stacks_neighbours_and_avoids_obstacles():
    legend = Box(200.0, 0.0, 300.0, 60.0)
    # Three labels 20 px wide, 10 px tall at x = 10, 15, 40; one under the legend; one at the
    # right edge; view 300 x 100.
    labels = [(10.0, 20.0, 10.0), (15.0, 20.0, 10.0), (40.0, 20.0, 10.0), (210.0, 30.0, 10.0)]
    labels.append((295.0, 20.0, 10.0))
    placed = place_labels(labels, 300.0, 100.0, [legend])
    boxes = [p for p in placed if p is not None]
    assert len(boxes) == 5
    for i, a in enumerate(boxes):
        assert 0 <= a.x0 and a.x1 <= 300 and 0 <= a.y0 and a.y1 <= 100
        assert not a.hits(legend)
        assert all(not a.hits(b) for b in boxes[i + 1 :])
    assert boxes[0].y0 == boxes[2].y0 < boxes[1].y0  # the third fits back at the top
    assert boxes[3].y0 >= 60  # under the legend
    assert boxes[4].x1 == 295  # flipped to the left of its line
    # No room left: the label is not drawn (its line's tooltip still says what changed).
    crowded = place_labels([(10.0, 20.0, 40.0)] * 3, 300.0, 100.0, [])
    assert crowded[0] is not None and crowded[1] is not None and crowded[2] is None


def test_lr_and_momentum_changed_in_the_controls_are_marked_with_their_values(
    make_window,  # noqa: F811 (the fixture imported above)
    qtbot,
):
    """Babysitting (the panda): each change typed into the controls is a marker saying it."""
    win = make_window(replace(SMALL, optimizer="momentum", lr=0.1, momentum=0.9))
    wait_step(qtbot, win, 5)
    for field, text in (
        (win.controls.lr_field, "0.05"),
        (win.controls.lr_field, "0.02"),
        (win.controls.momentum, "0.8"),
    ):
        field.setText(text)
        field.editingFinished.emit()
    panel = win.panels["loss"]
    changes = ("lr 0.1 -> 0.05", "lr 0.05 -> 0.02", "momentum 0.9 -> 0.8")

    def marked() -> bool:
        texts = "\n".join(text for _, text in _label_boxes(panel))
        return all(change in texts for change in changes)

    qtbot.waitUntil(marked, timeout=10000)
    _assert_apart(panel)


def test_an_axis_starts_at_its_minimum_width_and_widens_only_for_wider_labels(qtbot):
    from bnviz.gui.panels._view import fit_axis_width

    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    narrow, wide = view.addPlot(row=0, col=0), view.addPlot(row=0, col=1)
    narrow.setYRange(0, 1.1, padding=0)  # the sample histograms' counts: "0", "0.5", "1"
    wide.setYRange(-4000.55, -4000.45, padding=0)
    for plot in (narrow, wide):
        fit_axis_width(plot.getAxis("left"), min_width=28)
        # before any paint: the floor, not pyqtgraph's guess of 30 px of text (35 px wide),
        # which the first paint shrank again, laying out and painting every plot twice more
        assert plot.getAxis("left").fixedWidth == 28
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    for _ in range(3):
        view.grab()
        QApplication.processEvents()
    assert narrow.getAxis("left").width() == 28  # short labels fit: no relayout
    assert wide.getAxis("left").width() > 40  # "-4000.46" does not: it widens
