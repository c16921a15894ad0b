"""The paired-search lesson in a real window: bad ranges refused, a round trains every point
with and without BN and counts the shares."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from bnviz.gui.lessons.easier_search import EasierSearchView
from bnviz.gui.main_window import MainWindow
from bnviz.train.config import TrainConfig

SMALL = TrainConfig(n_samples=150, hidden=(8,))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    win = MainWindow(SMALL, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_bad_ranges_are_refused_with_a_message(window):
    view = window.open_lesson("EasierSearchView")
    view.lr_range.setText("abc")
    assert not view.run_round()
    assert "lr" in view.status.text() and not view.running
    view.lr_range.setText("1e-4:1:log")
    view.beta_range.setText("0.9:2:1m")
    assert not view.run_round()
    assert "beta" in view.status.text()


def test_a_paired_round_fills_both_sides_and_counts(window, qtbot, tmp_path):
    view = window.open_lesson("EasierSearchView")
    assert isinstance(view, EasierSearchView)
    assert str(view.study_path).startswith(str(tmp_path))  # never the user's own data folder
    view.points.setValue(3)
    view.epochs.setValue(1)
    view.target_metric.setCurrentIndex(1)  # val loss <=
    view.threshold.setValue(5.0)  # every complete trial reaches it
    assert view.run_round()
    assert not window.playing and "paused" in window.status_message.text()
    qtbot.waitUntil(lambda: not view.running and len(view.trials) == 6, timeout=60000)
    assert sorted(bool(t.params["bn"]) for t in view.trials) == [False] * 3 + [True] * 3
    for bn in (True, False):
        assert len(view.dots[bn].data) == 3
    assert "with BN</b>: 3 of 3 reach" in view.status.text()
    assert "without BN</b>: 3 of 3 reach" in view.status.text()
    view.threshold.setValue(0.0)  # nobody reaches a loss of 0: the count follows the target
    assert "with BN</b>: 0 of 3" in view.status.text()
