"""First paints spread over turns of the event loop (bnviz/gui/staged.py): the plots of one
view drawn one per turn, in order, none of them in the caller's turn."""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from bnviz.gui.search.histograms import SampleHistograms
from bnviz.gui.staged import reveal_in_turns


def test_plots_are_revealed_one_per_turn_in_order(qtbot):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    plots = [view.addPlot(row=0, col=c) for c in range(3)]
    reveal_in_turns(plots, view)
    assert [p.opacity() for p in plots] == [0, 0, 0]  # not painted in the caller's turn
    seen = [[0.0, 0.0, 0.0]]
    deadline = time.monotonic() + 3
    while seen[-1] != [1, 1, 1] and time.monotonic() < deadline:
        QApplication.processEvents()  # one turn: at most one plot appears
        state = [p.opacity() for p in plots]
        if state != seen[-1]:
            seen.append(state)
    assert seen == [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]]


def test_the_sample_histograms_draw_every_plot_after_their_first_showing(qtbot):
    hist = SampleHistograms()
    qtbot.addWidget(hist)
    hist.show()
    qtbot.waitExposed(hist)
    plots = list(hist.plots.values())
    qtbot.waitUntil(lambda: all(p.opacity() == 1 for p in plots), timeout=3000)
    hist.hide()
    hist.show()  # shown again: nothing hidden a second time
    assert all(p.opacity() == 1 for p in plots)
