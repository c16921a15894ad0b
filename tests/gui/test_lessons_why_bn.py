"""The "why BN works" lesson views (loss landscape, covariate shift) in a real window, single
and compare mode: opened from the Lessons menu, fed by their probes, controls driven."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QSettings

from bnviz.gui.lessons.landscape import eta_factors
from bnviz.gui.main_window import MainWindow
from bnviz.train.config import TrainConfig

FAST = TrainConfig(n_samples=300, hidden=(8, 8))


@pytest.fixture
def make_window(qtbot, tmp_path):
    made = []

    def make(config: TrainConfig) -> MainWindow:
        win = MainWindow(config, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
        qtbot.addWidget(win)
        win.show()
        win.worker.set_speed(None)  # as fast as it goes: the probes run every 100 steps
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()


def _points(view, column="w1"):
    return {run: len(view.series.column(run, column)[0]) for run in view.series.runs}


@pytest.mark.parametrize("compare", [False, True])
def test_landscape_view_draws_a_band_per_network(make_window, qtbot, compare):
    win = make_window(replace(FAST, compare=compare))
    view = win.open_lesson("LandscapeView")
    runs = ["bn", "plain"] if compare else ["net"]
    qtbot.waitUntil(lambda: all(_points(view, "beta").get(r, 0) >= 2 for r in runs), timeout=30000)
    for run in runs:
        steps, lo = view.series.column(run, "loss_lo")
        _, hi = view.series.column(run, "loss_hi")
        assert (lo <= hi).all() and (steps[1:] > steps[:-1]).all()
        assert view._items[run]["a_lo"].xData is not None
    assert "Latest" in view.status.text()
    # New step sizes: the history restarts and the request carries them.
    view.high.setValue(2.0)
    assert view.factors == eta_factors(0.25, 2.0, 5)
    assert view.probe_requests()[0].kwargs["factors"] == view.factors
    assert view.series.runs == []
    qtbot.waitUntil(lambda: _points(view, "beta").get(runs[0], 0) >= 1, timeout=30000)
    # A smallest step above the largest is refused with a message; the old ones stay.
    view.low.setValue(3.0)
    assert "must be below" in view.status.text()
    assert view.factors == eta_factors(0.25, 2.0, 5)


def test_covariate_shift_view_follows_the_layer_pick(make_window, qtbot):
    win = make_window(replace(FAST, compare=True))
    view = win.open_lesson("CovariateShiftView")
    qtbot.waitUntil(lambda: all(_points(view).get(r, 0) >= 2 for r in ("bn", "plain")),
                    timeout=30000)  # fmt: skip
    assert view.layer.maximum() == 3  # two hidden layers: the output layer's input is the last
    view.layer.setValue(3)
    assert view.probe_requests()[0].kwargs == {"layer": 3}
    assert view.series.runs == []
    qtbot.waitUntil(lambda: _points(view).get("bn", 0) >= 1, timeout=30000)
    assert "Layer 3" in view.status.text()


def test_a_closed_lesson_stops_measuring(make_window, qtbot):
    win = make_window(FAST)
    view = win.open_lesson("CovariateShiftView")
    qtbot.waitUntil(lambda: _points(view).get("net", 0) >= 1, timeout=30000)
    win.tabs.tabCloseRequested.emit(win.tabs.indexOf(view))
    qtbot.wait(300)
    n = _points(view)["net"]
    qtbot.wait(1500)
    assert _points(view)["net"] == n


@pytest.mark.parametrize("compare", [False, True])
def test_babysitting_view_draws_every_layer_of_every_network(make_window, qtbot, compare):
    win = make_window(replace(FAST, compare=compare))
    view = win.open_lesson("BabysittingView")
    runs = ["bn", "plain"] if compare else ["net"]
    keys = [f"{r}:{layer}" for r in runs for layer in (1, 2, 3)]
    qtbot.waitUntil(lambda: all(k in view.series.runs for k in keys), timeout=30000)
    assert sorted(view._items) == sorted(keys)
    assert "Update / parameters now" in view.status.text() and "layer" in view.status.text()
    win.reset(replace(FAST, compare=False, hidden=(8,)))  # fewer layers: their lines go
    qtbot.waitUntil(lambda: sorted(view._items) == ["net:1", "net:2"], timeout=30000)
