"""The range-test and calibration lessons in a real window: the range test runs on copies (the
live networks are the same before and after, read through the training process), "use" sets
the Controls' learning rate, the x5 / x30 experiment fills its plot; the calibration view draws
the probe's reliability diagrams; the softmax panel fits T."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from bnviz.gui.main_window import MainWindow
from bnviz.lessons.calibration import fit_temperature
from bnviz.train.config import TrainConfig

SMALL = TrainConfig(n_samples=300, hidden=(16, 16), activation="relu", optimizer="sgd", lr=0.1,
                    compare=True)  # fmt: skip


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(SMALL, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def _live_state(window) -> list:
    state = pickle.loads(window.worker.call("trainer_copy").result(20))
    return [(r.name, r.net.flat_params.copy(), r.opt.hyper) for r in state["runs"]] + [
        state["step_count"]
    ]


def test_range_test_on_copies_leaves_the_live_networks_alone(window, qtbot):
    qtbot.waitUntil(lambda: window.worker.call("trainer_copy").result(20) is not None)
    window.pause_for_round("the test looks")
    before = _live_state(window)
    view = window.open_lesson("LrRangeView")
    view.start.set_value(1e-3)
    view.end.set_value(1e3)
    view.num_it.setValue(40)
    assert view.run_test()
    qtbot.waitUntil(lambda: not view.running, timeout=60000)
    assert [c.run for c in view.curves] == ["with BN", "without BN"]
    after = _live_state(window)
    assert before[-1] == after[-1]
    for (name, w, hyper), (name2, w2, hyper2) in zip(before[:-1], after[:-1]):
        assert name == name2 and hyper == hyper2
        np.testing.assert_array_equal(w, w2)
    assert "with BN" in view.status.text() and "steps, to" in view.status.text()
    # "use": the Controls' learning rate takes the suggestion
    c = view.curves[0]
    rule = next(r for r in ("valley", "steep", "minimum") if c.suggestions[r] is not None)
    lr = float(f"{c.suggestions[rule]:.3g}")
    view.use_lr(c.suggestions[rule])
    assert window.controls.lr_field.value() == pytest.approx(lr)
    assert window.controls.config().lr == pytest.approx(lr)


def test_a_bad_range_is_refused_with_a_message(window):
    view = window.open_lesson("LrRangeView")
    view.start.set_value(10.0)
    view.end.set_value(1.0)
    assert not view.run_test()
    assert "start < end" in view.status.text() and not view.running


def test_times_5_and_30_fill_the_plot_over_seeds(window, qtbot):
    view = window.open_lesson("LrRangeView")
    panel = view.multiples
    panel.seeds.setValue(2)
    panel.steps.setValue(20)
    view.run_multiples()
    assert panel.running
    qtbot.waitUntil(lambda: not panel.running, timeout=60000)
    assert len(panel.pairs) == 6
    assert "×30" in panel.summary.text() and "diverged:" in panel.summary.text()
    dots = panel.items[True][0]
    assert len(dots.data) == 6  # every seed's BN network is a point


def test_calibration_view_draws_each_twin(window, qtbot):
    view = window.open_lesson("CalibrationView")
    qtbot.waitUntil(lambda: len(view.results) == 2, timeout=30000)
    r = view.results[0]
    assert "ECE" in view.summary.text() and "with BN" in view.summary.text()
    bars = view.items[0]["bars"]
    filled = [c for c in r.before.count if c > 0]
    assert len(bars.opts["height"]) == len(filled)
    assert f"T {r.temperature:.2f}" in view.reliability[0].titleLabel.text


def test_softmax_fit_t_sets_the_slider(window, qtbot):
    panel = window.panels["softmax"]
    qtbot.waitUntil(lambda: panel._snapshot() is not None
                    and panel._snapshot().evaluation is not None, timeout=30000)  # fmt: skip
    t = panel.fit_temperature()
    ev = panel._snapshot().evaluation
    z, y = np.asarray(ev.val_logits, float), panel.data.y_val[: len(ev.val_logits)]
    assert t == pytest.approx(fit_temperature(z, y), rel=1e-6) and math.isfinite(t)
    assert panel.temperature.temperature == pytest.approx(min(max(t, 0.05), 20))
    assert "fitted on" in panel.status.text() and "Last fit: T = " in panel.fit_t.toolTip()


def test_cancel_drops_the_range_test_and_the_multiples(window, qtbot):
    view = window.open_lesson("LrRangeView")
    view.source.setCurrentText("fresh networks")
    view.num_it.setValue(100_000)
    assert view.run_test() and view.running
    view.cancel_button.click()
    assert not view.running and "cancelled" in view.status.text()
    view.multiples.steps.setValue(100_000)
    view.run_multiples()
    assert view.multiples.running
    view.multiples.cancel_button.click()
    assert not view.multiples.running and view.multiples.summary.text() == "cancelled"
    assert view.run_button.isEnabled() and view.multiples.run_button.isEnabled()
