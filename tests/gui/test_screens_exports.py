"""Exports and the report show the current data (issue 16, item 6): a hidden tab's plot is
brought up to date before it is written, a scatter's SVG has one shape per point in its class
colour, and the report's plots are drawn at the report's step, captioned with it."""

from __future__ import annotations

import html
import re
from collections import Counter

import numpy as np

from bnviz.gui import menus, style
from bnviz.gui.classroom_menus import export_report


def _steps(win) -> int:
    return win.frame.snapshots[0].step if win.frame is not None else -1


def test_export_on_a_hidden_tab_writes_the_latest_data(small_window, qtbot, tmp_path):
    win = small_window
    qtbot.waitUntil(lambda: _steps(win) > 5, timeout=15000)
    win.tabs.setCurrentWidget(win.explorer)  # the training plots are hidden, not drawn
    hidden_at = _steps(win)
    qtbot.waitUntil(lambda: _steps(win) > hidden_at + 40, timeout=30000)
    loss = win.panels["loss"]
    drawn = max(float(np.max(c.xData)) for c in loss.loss_plot.listDataItems() if c.xData.size)
    assert drawn <= hidden_at + 1  # what the hidden plot shows: the step it was hidden at
    assert menus.export_plot(win, "loss", str(tmp_path / "loss.svg"))
    assert win.tabs.currentWidget() is win.explorer  # the user's tab is back
    drawn = max(float(np.max(c.xData)) for c in loss.loss_plot.listDataItems() if c.xData.size)
    assert drawn > hidden_at + 40
    assert (tmp_path / "loss-1.svg").stat().st_size > 0


def test_softmax_svg_has_one_shape_per_point_in_its_class_colour(small_window, qtbot, tmp_path):
    win = small_window
    softmax = win.panels["softmax"]
    qtbot.waitUntil(lambda: _steps(win) > 5, timeout=15000)
    assert menus.export_plot(win, "softmax", str(tmp_path / "s.svg"))
    svg = (tmp_path / "s-1.svg").read_text()  # the argmax map and its points
    n_classes = win.data.n_classes
    colors = style.CLASS_COLORS[:n_classes]
    hexes = {"#{:02x}{:02x}{:02x}".format(*c): k for k, c in enumerate(colors)}
    fills = Counter(hexes[f] for f in re.findall(r'fill="(#[0-9a-f]{6})"', svg) if f in hexes)
    # One filled shape per point shown, in its class's colour (the points' brushes say which).
    brushes = [b.color().getRgb()[:3] for b in softmax.points.data["brush"]]
    shown = Counter(style.CLASS_COLORS.index(c) for c in brushes)
    assert len(brushes) > 50 and fills == shown
    assert svg.count("<image") <= 2  # the decision regions, not a bitmap per point


def test_report_plots_are_at_the_report_step(small_window, qtbot, tmp_path):
    win = small_window
    win.open_lesson("BabysittingView")
    qtbot.waitUntil(lambda: _steps(win) > 5, timeout=15000)
    assert win.playing
    path = tmp_path / "r.html"
    assert export_report(win, str(path))
    text = path.read_text()
    assert win.playing  # resumed after
    table_steps = re.findall(r"<td>([0-9,]+)</td><td>[0-9]+</td>", text)
    captions = re.findall(r"<p class='caption'>at step ([0-9,]+)", text)
    assert table_steps and captions
    assert set(captions) == {table_steps[0]}  # the lesson plots show the table's step
    # The lesson's numbers (its status line) beside its plots.
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(win.lessons["BabysittingView"].status.text())
    numbers = doc.toPlainText().strip()
    assert len(numbers) > 10 and html.escape(numbers.split(":")[0] + ":") in text
