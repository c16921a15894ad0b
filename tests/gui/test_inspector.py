"""The neuron inspector in the real window, single and compare: it opens from the Lessons
menu's name, follows the layer and unit picked, the "shift b" slider moves z and not z_tilde,
and the identity button makes z_tilde = z in the live network, undone by a second click."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from bnviz.gui.lessons._unit_strips import _num
from bnviz.gui.lessons.inspector import BIAS_PER_STEP, InspectorView
from bnviz.gui.main_window import MainWindow
from bnviz.gui.panel import Frame
from bnviz.lessons.bn_inside import UnitView
from bnviz.train.config import TrainConfig
from tests import session_probes  # noqa: F401 (test_step_count)

CONFIG = TrainConfig(n_samples=300, hidden=(8, 6), activation="sigmoid", lr=0.05)
TIMEOUT_MS = 15000


@pytest.fixture(params=[False, True], ids=["single", "compare"])
def window(request, qtbot, tmp_path):
    config = replace(CONFIG, compare=request.param)
    win = MainWindow(config, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert not win.worker.is_running


def shown(view: InspectorView) -> dict:
    return {u.run: u for u in view._shown or ()}


def wait_for(qtbot, view: InspectorView, ok) -> dict:
    qtbot.waitUntil(lambda: view._shown is not None and ok(shown(view)), timeout=TIMEOUT_MS)
    return shown(view)


def test_inspector_single_and_compare(window, qtbot):
    win = window
    view = win.open_lesson("InspectorView")
    assert win.tabs.currentWidget() is view and view.title == "Inside a BN unit"
    assert "redundant" in view.explanation_label.text() and "g(z" in view.formula_label.text()
    qtbot.waitUntil(lambda: win.frame is not None and win.frame.snapshots[0].step >= 30,
                    timeout=TIMEOUT_MS)  # fmt: skip
    runs = ["bn", "plain"] if win.config.compare else ["net"]
    first = wait_for(qtbot, view, lambda s: list(s) == runs)
    assert [r for r, c in view.columns.items() if c.isVisible()] == runs
    assert view.layer_box.maximum() == 2 and view.unit_box.maximum() == 7
    if win.config.compare:  # the plain network says it has no BN, and its z~ is z
        assert "no batch norm" in view.columns["plain"].numbers.text()
        np.testing.assert_array_equal(first["plain"].z_tilde, first["plain"].z)
    # pick layer 2, unit 3: the probe follows, the unit box's range is layer 2's
    view.layer_box.setValue(2)
    view.unit_box.setValue(3)
    wait_for(qtbot, view, lambda s: all((u.layer, u.unit) == (2, 3) for u in s.values()))
    assert view.unit_box.maximum() == 5
    qtbot.waitUntil(lambda: "unit 3 of layer 2" in view.columns[runs[0]].title.text(),
                    timeout=TIMEOUT_MS)  # fmt: skip
    gammas = view.across.gamma.getData()[1]
    assert gammas is not None and len(gammas) == 6
    # pause: the same mini-batch from now on
    win.toggle_play()
    qtbot.waitUntil(lambda: not win.playing, timeout=TIMEOUT_MS)
    paused_at = win.worker.call("test_step_count").result(5)
    # the truth, computed in the paused training process now
    before = {u.run: u for u in win.worker.call("bn_unit", layer=2, unit=3).result(5)}
    # shift b by +2: z and mu move by 2, z_norm and z~ stay put (with BN)
    view.slider.setValue(round(2.0 / BIAS_PER_STEP))
    assert view.bias == 2.0 and view.bias_label.text() == "b = +2.00"
    after = wait_for(qtbot, view, lambda s: abs(s[runs[0]].mu - before[runs[0]].mu - 2) < 1e-4)
    bn_run = runs[0]
    np.testing.assert_allclose(after[bn_run].z - before[bn_run].z, 2.0, atol=1e-4)
    np.testing.assert_allclose(after[bn_run].z_tilde, before[bn_run].z_tilde, atol=1e-5)
    np.testing.assert_allclose(after[bn_run].z_norm, before[bn_run].z_norm, atol=1e-5)
    qtbot.waitUntil(lambda: "b shifted by +2.00" in view.columns[bn_run].numbers.text(),
                    timeout=TIMEOUT_MS)  # fmt: skip
    if win.config.compare:  # without BN the bias goes straight through
        np.testing.assert_allclose(after["plain"].z_tilde - before["plain"].z_tilde, 2, atol=1e-4)
    # the identity button: gamma = sqrt(var + eps), beta = mu in the live network
    assert view.identity_button.isEnabled()
    view.identity_button.click()
    assert view.slider.value() == 0
    qtbot.waitUntil(lambda: view.applied is not None, timeout=TIMEOUT_MS)
    assert "Undo" in view.identity_button.text()
    done = wait_for(qtbot, view, lambda s: np.allclose(s[bn_run].z_tilde, s[bn_run].z, atol=1e-5))
    assert done[bn_run].gamma == pytest.approx(np.sqrt(before[bn_run].var + 1e-5), rel=1e-3)
    assert done[bn_run].beta == pytest.approx(before[bn_run].mu, abs=1e-5)
    assert win.worker.call("test_step_count").result(5) == paused_at  # shown with no step
    if win.config.compare:
        np.testing.assert_allclose(done["plain"].z, before["plain"].z, atol=1e-6)
    # a second click: the old gamma and beta back
    view.identity_button.click()
    qtbot.waitUntil(lambda: view.applied is None and view.identity_button.isEnabled(),
                    timeout=TIMEOUT_MS)  # fmt: skip
    back = wait_for(qtbot, view, lambda s: s[bn_run].gamma == before[bn_run].gamma)
    assert back[bn_run].beta == before[bn_run].beta
    np.testing.assert_allclose(back[bn_run].z_tilde, before[bn_run].z_tilde, atol=1e-6)
    assert view.history.points  # gamma and beta over training were collected


def test_a_double_click_on_an_activations_layer_opens_it(window, qtbot):
    win = window
    view = win.lessons["InspectorView"]
    assert win.tabs.indexOf(view) < 0
    win.panels["activations"].layer_double_clicked.emit(2)
    assert win.tabs.currentWidget() is view and view.layer == 2
    wait_for(qtbot, view, lambda s: all(u.layer == 2 for u in s.values()))


def _unit(shift: float) -> UnitView:
    z = np.linspace(-1.0, 1.0, 16) + shift
    z_norm = (z - z.mean()) / z.std()
    return UnitView(run="net", layer=1, unit=0, batchnorm=True, z=z, z_norm=z_norm,
                    z_tilde=z_norm, a=1 / (1 + np.exp(-z_norm)), mu=float(z.mean()),
                    var=float(z.var()), gamma=1.0, beta=0.0, gammas=np.ones(4),
                    betas=np.zeros(4), n_units=4, n_hidden=1)  # fmt: skip


def test_numbers_and_dots_come_from_one_result(qtbot):
    """Frames arriving faster than the numbers are written: what is printed is always the
    result the dots show (the dots used to run ahead of the numbers)."""
    view = InspectorView()
    qtbot.addWidget(view)
    for k in range(6):
        view.render(Frame((), {}, {view.request(): (_unit(float(k)),)}))
        col = view.columns["net"]
        dots_z = col.dots["z"].getData()[0]
        if dots_z is not None and len(dots_z):
            mean = f"mean {_num(float(dots_z.mean()))}"
            assert f"z: {mean}" in col.numbers.text().replace("&nbsp;", " ")

    def last_shown() -> bool:  # a network's strips are drawn a turn after they are built
        z = view.columns["net"].dots["z"].getData()[0]
        return z is not None and len(z) > 0 and z.mean() == 5.0

    qtbot.waitUntil(last_shown)
    assert "\u03bc = 5" in view.columns["net"].numbers.text()
