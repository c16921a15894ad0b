"""The mini-batch noise lesson in a real window: bad sizes refused with a message, a run
pauses live training and fills the plots, cancel drops it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from bnviz.gui.main_window import MainWindow
from bnviz.train.config import TrainConfig

SMALL = TrainConfig(n_samples=200, hidden=(8, 8))


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(SMALL, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


@pytest.mark.parametrize(
    ("text", "words"),
    [("8, x", "whole numbers"), ("1, 8", "variance over one example"), ("", "at least one"),
     ("8, 5000", "larger than the 160 training examples")],
)  # fmt: skip
def test_bad_sizes_get_a_message_and_nothing_runs(window, text, words):
    view = window.open_lesson("BatchNoiseView")
    view.sizes.setText(text)
    assert not view.run_experiment()
    assert words in view.status.text() and not view.running
    assert window.playing  # nothing started, nothing paused


def test_a_run_pauses_training_and_plots_bn_and_plain(window, qtbot):
    view = window.open_lesson("BatchNoiseView")
    view.sizes.setText("32, 8")
    view.epochs.setValue(2)
    view.run_button.click()
    assert view.running and not window.playing and "paused" in window.status_message.text()
    qtbot.waitUntil(lambda: not view.running, timeout=60000)
    assert [(r.batch_size, r.batchnorm) for r in view.results] == [
        (8, True), (8, False), (32, True), (32, False)
    ]  # fmt: skip
    item = view._items["gap_bn"]
    assert list(item.xData) == [8, 32] and len(item.yData) == 2  # (drawn on a log-x axis)
    assert "with BN" in view.status.text() and "falls from" in view.status.text()
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()


def test_cancel_drops_the_run(window, qtbot):
    view = window.open_lesson("BatchNoiseView")
    view.sizes.setText("8")
    view.epochs.setValue(200)
    assert view.run_experiment()
    view.cancel_button.click()
    assert not view.running and view.status.text() == "cancelled"
    assert view.run_button.isEnabled()


def test_default_sizes_fit_the_data_until_edited(window):
    view = window.open_lesson("BatchNoiseView")
    assert view.sizes.text() == "8, 32, 128"  # 160 training examples: 512 left out
    view.sizes.setText("16, 64")
    window.reset(window.controls.config())
    assert view.sizes.text() == "16, 64"
