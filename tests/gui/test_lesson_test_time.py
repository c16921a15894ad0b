"""The "BN at test time" lesson view, opened from the window as a user would, in single and
compare mode: its numbers are the live networks' (checked against eval_modes run in the
training process at the same step), and its layer pick and conventions switch work."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bnviz.gui.main_window import MainWindow
from bnviz.lessons.bn_conventions import convention, last_update, written
from bnviz.train.config import TrainConfig
from tests.gui import (
    test_main_window,
    time_probes,  # noqa: F401 (registers test_eval_modes_now)
)

SMALL = TrainConfig(n_samples=300, hidden=(8, 8, 8))
make_window = test_main_window.make_window  # the window fixture


def open_paused(qtbot, win: MainWindow, steps: int):
    """Open the lesson, train at least ``steps`` steps, pause, pick layer 2 and wait until the
    view shows it for the paused networks; returns the view and the training process's own
    evaluation. (A new layer is a new probe request, which runs at once; the result of a
    timed probe run again while paused is not drawn by the window.)"""
    view = win.open_lesson("TestTimeLesson")
    qtbot.waitUntil(lambda: bool(view.views) and view.views[0].step >= steps, timeout=20000)
    assert view.views[0].layer == 1
    win.toggle_play()
    now = win.worker.call("test_eval_modes_now", layer=2).result(10)
    view.layer_box.setCurrentIndex(1)
    qtbot.waitUntil(
        lambda: view.views[0].layer == 2 and view.views[0].step == now["step"], timeout=10000
    )
    return view, now


def check_numbers(view, now) -> None:
    for v, (accs, losses) in zip(view.views, view.bars.heights()):
        for i, mode in enumerate(("running", "batch", "single")):
            acc, loss, pred = now[v.run][mode]
            assert accs[i] == pytest.approx(acc, abs=1e-12)
            assert losses[i] == pytest.approx(loss, rel=1e-9)
            np.testing.assert_array_equal(v.modes[mode].pred, pred)
            assert f"{mode} {100 * acc:.1f}% (loss {loss:.3g})" in view.modes_label.text()


def test_single_mode_view_shows_the_live_network(make_window, qtbot):
    win = make_window(SMALL)
    view, now = open_paused(qtbot, win, 12)
    check_numbers(view, now)
    v = view.views[0]
    single = now[v.run]["single"][2]
    assert len(set(single.tolist())) == 1  # alone, every example gets the same output
    assert f"every example → class {single[0]}" in view.modes_label.text()
    np.testing.assert_array_equal(v.running_mean, now[v.run]["running_mean"])
    # estimates taken too early: a number from step 10 on, "not yet" before 100 and 1,000
    t = view.early_table
    assert re.fullmatch(r"\d+\.\d%", t.item(0, 0).text())
    assert t.item(1, 0).text() == ("not yet" if v.step < 100 else t.item(1, 0).text())
    assert t.item(2, 0).text() == "not yet"
    assert t.item(3, 0).text() == f"{100 * now[v.run]['running'][0]:.1f}%"
    # the layer pick asks the probe for another layer
    assert view.layer_box.count() == 3
    view.layer_box.setCurrentIndex(2)
    qtbot.waitUntil(lambda: view.views[0].layer == 3, timeout=10000)
    assert view.views[0].trace.running_mean.shape[1] == 4
    assert "Layer 3" in view.estimates.note.text()


def test_the_conventions_switch_writes_the_same_number(make_window, qtbot):
    win = make_window(SMALL)
    view, _ = open_paused(qtbot, win, 5)
    v = view.views[0]
    u = last_update(v.trace)
    assert u is not None and u.step == v.step
    for i, key in enumerate(("course", "keras", "pytorch")):
        view.convention_box.setCurrentIndex(i)
        text = view.convention_label.text()
        line, value = written(convention(key), u.k, u.mean_before, u.batch_mean)
        assert line in text and f"the network holds {u.mean_after:.4g}" in text
        assert value == pytest.approx(u.mean_after, rel=1e-5, abs=1e-7)
        assert "bn_momentum = k = 0.9 is the weight on the old value" in text
    assert "(1 − 0.1) × " in view.convention_label.text()  # PyTorch's momentum: 1 - k
    view.convention_box.setCurrentIndex(0)
    assert "0.9 × " in view.convention_label.text()


def test_compare_mode_shows_both_networks(make_window, qtbot):
    win = make_window(TrainConfig(n_samples=300, hidden=(8, 8), compare=True))
    view, now = open_paused(qtbot, win, 12)
    assert [v.run for v in view.views] == ["bn", "plain"]
    check_numbers(view, now)
    assert "no batch norm, so the three are the same" in view.modes_label.text()
    plain = now["plain"]
    assert plain["running"][0] == plain["batch"][0] == plain["single"][0]
    assert list(view.estimates.curves) == ["bn"]  # no running estimates without BN
    assert "without BN" in view.estimates.note.text()
    assert view.early_table.columnCount() == 2  # the BN network's accuracy and loss
