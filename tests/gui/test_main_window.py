"""The app window, driven as a user would: play, pause, step, reset, flip BN, change the
learning rate, type nonsense, open a bad file, diverge, close."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from bnviz.gui import menus
from bnviz.gui.main_window import MainWindow
from bnviz.gui.panels.softmax import REGIONS
from bnviz.train.config import TrainConfig
from tests import session_probes  # noqa: F401 (the probes trainer_value asks for)

SMALL = TrainConfig(n_samples=200, hidden=(16, 16), activation="relu", optimizer="adam", lr=0.01)


@pytest.fixture
def make_window(qtbot, tmp_path):
    made = []

    def make(config: TrainConfig = SMALL, autoplay: bool = True) -> MainWindow:
        settings = QSettings(str(tmp_path / f"s{len(made)}.ini"), QSettings.IniFormat)
        win = MainWindow(config, settings=settings, autoplay=autoplay)
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()
        assert not win.worker.is_running


def trainer_value(win, name: str, **args):
    """The value of a test probe (tests/session_probes.py) in the training process, now."""
    return win.worker.call(f"test_{name}", **args).result(5)


def wait_step(qtbot, win, at_least: int) -> None:
    qtbot.waitUntil(
        lambda: win.frame is not None and win.frame.snapshots[0].step >= at_least, timeout=10000
    )


def test_opens_on_defaults_and_trains(make_window, qtbot):
    win = make_window()
    wait_step(qtbot, win, 20)
    assert "steps/s" in win.status_counts.text()
    qtbot.waitUntil(lambda: len(win.histories["net"].val_loss) >= 2, timeout=10000)


def test_pause_step_and_reset(make_window, qtbot):
    win = make_window()
    wait_step(qtbot, win, 5)
    win.toggle_play()
    assert not win.playing
    qtbot.wait(200)
    steps = trainer_value(win, "step_count")
    qtbot.wait(200)
    assert trainer_value(win, "step_count") == steps  # paused means paused
    qtbot.keyClick(win, Qt.Key_N)
    qtbot.waitUntil(lambda: trainer_value(win, "step_count") == steps + 1)
    qtbot.keyClick(win, Qt.Key_R)
    qtbot.waitUntil(lambda: trainer_value(win, "step_count") == 0, timeout=5000)
    qtbot.keyClick(win, Qt.Key_Space)
    wait_step(qtbot, win, 3)


def test_b_flips_bn_without_a_loss_jump(make_window, qtbot):
    win = make_window(TrainConfig(n_samples=200, hidden=(16, 16), batchnorm=False))
    wait_step(qtbot, win, 150)
    win.toggle_play()
    qtbot.wait(100)
    before = trainer_value(win, "last_batch_output")[0]
    qtbot.keyClick(win, Qt.Key_B)
    qtbot.waitUntil(lambda: trainer_value(win, "batchnorm_flags")[0])
    after = trainer_value(win, "last_batch_output")[0]
    np.testing.assert_allclose(after, before, atol=1e-4)
    qtbot.keyClick(win, Qt.Key_N)
    qtbot.waitUntil(
        lambda: any(e.kind == "bn_on" for e in win.histories["net"].events), timeout=5000
    )


def test_a_view_gets_its_probe_only_while_it_is_shown(make_window, qtbot):
    win = make_window(TrainConfig(n_samples=200, hidden=(16,), compare=True))
    qtbot.waitUntil(lambda: win.frame is not None and REGIONS in win.frame.probes, timeout=10000)
    assert [g.run for g in win.frame.probes[REGIONS]] == ["bn", "plain"]
    win.tabs.setCurrentWidget(win.explorer)  # the softmax panel is hidden: no regions computed
    step = win.frame.snapshots[0].step
    qtbot.waitUntil(lambda: win.frame.snapshots[0].step > step + 20, timeout=10000)
    assert REGIONS not in win.frame.probes
    win.tabs.setCurrentWidget(win.training_tab)
    qtbot.waitUntil(lambda: REGIONS in win.frame.probes, timeout=10000)


def test_compare_mode_feeds_two_networks_to_every_panel(make_window, qtbot):
    win = make_window(TrainConfig(n_samples=200, hidden=(16, 16), compare=True))
    wait_step(qtbot, win, 10)
    assert [s.run for s in win.frame.snapshots] == ["bn", "plain"]
    assert set(win.histories) == {"bn", "plain"}
    win.toggle_bn()  # B: nothing to flip in compare mode, and the user is told so
    assert "compare mode" in win.status_message.text()


def test_learning_rate_change_reaches_the_trainer(make_window, qtbot):
    win = make_window()
    field = win.controls.lr_field
    field.setText("0.0031")
    field.editingFinished.emit()
    qtbot.waitUntil(lambda: trainer_value(win, "hyper")["lr"] == 0.0031)


def test_invalid_field_is_refused_where_typed(make_window, qtbot):
    win = make_window()
    field = win.controls.lr_field
    field.setText("fast")
    field.editingFinished.emit()
    assert "learning rate" in win.status_message.text()
    assert field.text() == "0.01"
    assert trainer_value(win, "hyper")["lr"] == 0.01
    field.setText("-3")
    field.editingFinished.emit()
    assert "must be >" in win.status_message.text()
    field.setText("0.02")
    field.editingFinished.emit()
    assert win.status_message.text() == "lr = 0.02"  # the red message is gone


def test_bad_data_file_shows_an_error_and_the_run_goes_on(make_window, qtbot, tmp_path):
    win = make_window()
    wait_step(qtbot, win, 5)
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.zeros((10, 2)), y=np.full(10, np.nan))
    menus.open_data_file(win, str(bad))  # read in the background; the message follows
    qtbot.waitUntil(lambda: "bad.npz" in win.status_message.text(), timeout=5000)
    assert not win.loading_bar.isVisible()
    step = win.frame.snapshots[0].step
    wait_step(qtbot, win, step + 10)
    assert win.config.dataset == "spirals"


def test_good_data_file_starts_a_new_run(make_window, qtbot, tmp_path):
    win = make_window()
    path = tmp_path / "mine.csv"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    np.savetxt(path, np.column_stack([X, (X[:, 0] > 0).astype(int)]), delimiter=",")
    assert menus.open_data_file(win, str(path))
    qtbot.waitUntil(lambda: win.frame is not None and win.data.n_features == 3, timeout=5000)


def test_divergence_is_displayed_and_the_app_keeps_running(make_window, qtbot):
    win = make_window(
        TrainConfig(batchnorm=False, optimizer="sgd", lr=10.0, activation="relu", hidden=(64, 64))
    )
    qtbot.waitUntil(lambda: "diverged" in win.status_message.text(), timeout=10000)
    qtbot.waitUntil(lambda: win.frame is not None and win.frame.snapshots[0].diverged)
    step = win.frame.snapshots[0].diverged_step
    win.toggle_play()  # play again: nothing left to train, the step count stays
    qtbot.wait(300)
    assert trainer_value(win, "step_count") == step
    qtbot.keyClick(win, Qt.Key_R)  # still answers


def test_settings_save_and_open(make_window, qtbot, tmp_path):
    win = make_window()
    path = tmp_path / "s.json"
    assert menus.save_settings(win, str(path))
    (tmp_path / "broken.json").write_text("{")
    assert not menus.open_settings(win, str(tmp_path / "broken.json"))
    assert "not a bnviz settings file" in win.status_message.text()
    assert menus.open_settings(win, str(path))


def test_exports(make_window, qtbot, tmp_path):
    win = make_window()
    wait_step(qtbot, win, 20)
    qtbot.waitUntil(lambda: len(win.histories["net"].val_loss) >= 2, timeout=10000)
    assert menus.export_metrics(win, str(tmp_path / "m.csv"))
    assert (tmp_path / "m.csv").read_text().startswith("step,epoch,run")
    assert menus.save_model(win, str(tmp_path / "m.npz"))
    assert (tmp_path / "m.npz").stat().st_size > 0
    assert menus.export_plot(win, "loss", str(tmp_path / "loss.png"))
    written = sorted(tmp_path.glob("loss*.png"))
    assert written and all(QImage(str(f)).width() > 100 for f in written)
    for name in win.panels:
        assert menus.export_plot(win, name, str(tmp_path / f"{name}.svg")), name
    svg = sorted(tmp_path.glob("activations*.svg"))[0].read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "<path" in svg
    assert not menus.export_plot(win, "loss", str(tmp_path / "no" / "dir" / "x.png"))
    assert "does not exist" in win.status_message.text()
    assert not menus.save_settings(win, str(tmp_path / "no" / "such" / "dir.json"))


def test_a_click_outside_a_field_gives_the_keys_back_to_the_shortcuts(make_window, qtbot):
    from PySide6.QtWidgets import QApplication

    win = make_window(autoplay=False)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    field = win.controls.lr_field
    qtbot.mouseClick(field, Qt.LeftButton)
    qtbot.waitUntil(field.hasFocus)
    for target in (win.statusBar(), win.panels["loss"]):
        qtbot.mouseClick(field, Qt.LeftButton)
        qtbot.keyClicks(field, "0.01")
        qtbot.mouseClick(target, Qt.LeftButton)
        qtbot.waitUntil(lambda: not field.hasFocus())
        focus = QApplication.focusWidget()
        qtbot.keyClick(focus, Qt.Key_Space)  # where a person's key goes now
        qtbot.waitUntil(lambda: win.playing)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Space)
        qtbot.waitUntil(lambda: not win.playing)
        assert " " not in field.text() and "r" not in field.text()


def test_laid_out_for_1024_by_640(make_window, qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit

    win = make_window(autoplay=False)
    assert (win.minimumWidth(), win.minimumHeight()) == (1024, 640)
    win.resize(1024, 640)
    qtbot.waitUntil(lambda: win.width() == 1024)
    scroll = win.controls.parentWidget().parentWidget()  # viewport, then the scroll area
    view = scroll.viewport()
    fields = [f for kind in (QLineEdit, QAbstractSpinBox, QComboBox)
              for f in win.controls.findChildren(kind) if f.isVisible()]  # fmt: skip
    assert len(fields) > 10
    for f in fields:
        right = f.mapTo(view, QPoint(f.width(), 0)).x()
        assert f.width() >= 60 and right <= view.width(), (f, f.width(), right, view.width())
    bottom = win.splitters["bottom"]
    qtbot.waitUntil(lambda: bottom.sizes()[0] == 0)  # the percentile panel folded away
    assert win.panels["softmax"].width() >= 350 and win.panels["confusion"].width() >= 280
    win.tabs.setCurrentWidget(win.explorer)
    qtbot.waitUntil(lambda: win.explorer.scatter.width() >= 300)
    win.resize(1500, 920)
    win.tabs.setCurrentWidget(win.training_tab)
    qtbot.waitUntil(lambda: bottom.sizes()[0] > 200)  # and back when there is room


def test_paused_window_does_not_redraw_until_something_changes(make_window, qtbot):
    win = make_window(autoplay=False)
    qtbot.waitUntil(lambda: win.frame is not None, timeout=10000)
    drawn = []
    loss = win.panels["loss"]
    render = loss.render
    loss.render = lambda frame: (drawn.append(frame.snapshots[0].step), render(frame))
    qtbot.wait(1000)  # 30 frames a second used to be drawn here
    assert len(drawn) <= 1, drawn
    win.step_once()
    qtbot.waitUntil(lambda: 1 in drawn, timeout=5000)
    n = len(drawn)
    win.controls.lr.set_value(0.2)
    win.controls.lr.value_changed.emit(0.2)  # a live change is drawn although paused
    qtbot.waitUntil(lambda: len(drawn) > n, timeout=5000)
    win.toggle_play()
    qtbot.waitUntil(lambda: len(drawn) > n + 10, timeout=10000)


def test_save_settings_adds_json(make_window, tmp_path, monkeypatch):
    win = make_window(autoplay=False)
    monkeypatch.setattr(menus.QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "s"), ""))
    menu_action(win, "File", "Save settings").trigger()
    assert (tmp_path / "s.json").is_file() and not (tmp_path / "s").exists()
    assert "s.json" in win.status_message.text()
    assert menus.open_settings(win, str(tmp_path / "s.json"))


def menu_action(win, *texts: str):
    """The QAction reached through the menu bar by these texts (leading words suffice)."""
    menu = win.menuBar()
    for text in texts:
        action = next(a for a in menu.actions() if a.text().replace("&", "").startswith(text))
        menu = action.menu() or action
    return menu


def test_export_plot_menu_writes_every_view(make_window, qtbot, tmp_path, monkeypatch):
    """Through the menu's own actions (their ``triggered`` passes ``checked``), including the
    Hyperparameters plots and "Export all plots" into a folder."""
    win = make_window()
    wait_step(qtbot, win, 5)
    target = tmp_path / "loss.png"
    monkeypatch.setattr(menus.QFileDialog, "getSaveFileName", lambda *a: (str(target), ""))
    menu_action(win, "File", "Export plot", "Loss").trigger()
    assert sorted(p.name for p in tmp_path.glob("loss*.png")) == ["loss-1.png", "loss-2.png"]
    assert "exported loss-1.png" in win.status_message.text()
    target = tmp_path / "hp.png"
    menu_action(win, "File", "Export plot", "Hyperparameters").trigger()
    assert len(list(tmp_path.glob("hp-*.png"))) == 4  # scatter, samples, importance, curves
    folder = tmp_path / "all"
    folder.mkdir()
    monkeypatch.setattr(menus.QFileDialog, "getExistingDirectory", lambda *a: str(folder))
    menu_action(win, "File", "Export plot", "Export all").trigger()
    names = {p.name for p in folder.iterdir()}
    assert {"activations.png", "confusion.png", "hyperparameters-4.png"} <= names, names
    assert all(QImage(str(p)).width() > 50 for p in folder.iterdir())
    assert f"to {folder}" in win.status_message.text()


def test_closing_mid_run_stops_the_worker(make_window, qtbot):
    win = make_window()
    wait_step(qtbot, win, 5)
    win.close()
    assert not win.worker.is_running


def test_screenshot_writes_a_png_of_the_window(tmp_path):
    from PySide6.QtGui import QImage

    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bnviz",
            "--screenshot",
            str(out),
            "--run-for",
            "1.5",
            "--samples",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    img = QImage(str(out))
    assert not img.isNull() and img.width() >= 1200 and img.height() >= 800


def test_layout_and_settings_persist_between_launches(qtbot, tmp_path):
    ini = str(tmp_path / "persist.ini")
    win = MainWindow(TrainConfig(n_samples=200, hidden=(16,)), QSettings(ini, QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.controls.lr_field.setText("0.0042")
    win.controls.lr_field.editingFinished.emit()
    win.close()
    assert QSettings(ini, QSettings.IniFormat).value("geometry")  # restored on the next launch
    again = MainWindow(settings=QSettings(ini, QSettings.IniFormat), autoplay=False)
    qtbot.addWidget(again)
    try:
        assert again.config.lr == 0.0042 and again.config.hidden == (16,)
        assert again.controls.lr_field.value() == 0.0042
    finally:
        again.close()
    assert not win.worker.is_running and not again.worker.is_running


def _big_csv(path, rows: int = 600_000) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 2))
    with path.open("w") as fh:
        np.savetxt(fh, np.column_stack([X, X[:, 0] > 0]), fmt="%.3f,%.3f,%d")


def test_a_large_file_loads_in_the_background_while_the_event_loop_runs(
    make_window, qtbot, tmp_path, monkeypatch
):
    """The reading waits until the GUI thread's timer has fired: were it read on the GUI
    thread, the timer could not fire and the wait would time out (no timing threshold)."""
    import threading

    from PySide6.QtCore import QTimer

    from bnviz.gui import loading

    ticked, waited = threading.Event(), []
    real_load = loading.load_data

    def load_after_a_tick(*args, **kwargs):
        waited.append(ticked.wait(timeout=20))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(loading, "load_data", load_after_a_tick)
    win = make_window()
    wait_step(qtbot, win, 5)
    path = tmp_path / "big.csv"
    _big_csv(path)
    timer = QTimer(win)
    timer.timeout.connect(ticked.set)
    timer.start(10)
    assert menus.open_data_file(win, str(path))
    assert win.loader.busy and win.config.dataset == "spirals"  # returned at once
    qtbot.waitUntil(lambda: win.data.n_features == 2 and win.config.dataset == str(path),
                    timeout=30000)  # fmt: skip
    timer.stop()
    assert waited == [True]  # the event loop ran while the file was being read
    assert not win.loading_bar.isVisible()
    qtbot.waitUntil(lambda: win.frame is not None and win.frame.snapshots[0].step > 0)


def test_loading_can_be_cancelled_and_the_run_goes_on(make_window, qtbot, tmp_path):
    win = make_window()
    wait_step(qtbot, win, 5)
    path = tmp_path / "big.csv"
    _big_csv(path)
    menus.open_data_file(win, str(path))
    assert win.loading_bar.isVisible() or win.loader.busy
    win.loading_bar.cancel.click()
    assert "cancelled" in win.status_message.text()
    assert not win.loading_bar.isVisible()
    step = win.frame.snapshots[0].step
    wait_step(qtbot, win, step + 10)
    assert win.config.dataset == "spirals"
    win.loader.wait()
    QApplication.processEvents()
    assert win.config.dataset == "spirals"  # the cancelled load's result was dropped


def test_a_settings_file_with_uneven_widths_is_what_trains(make_window, qtbot, tmp_path):
    """Defect 6: hidden [2000, 16] showed Width 1024 in the controls while 2000 trained."""
    path = tmp_path / "wide.json"
    path.write_text(json.dumps({"bnviz_settings": 1, "n_samples": 200, "hidden": [2000, 16]}))
    win = make_window()
    assert menus.open_settings(win, str(path))
    assert win.controls.widths.text() == "2000, 16"
    assert "hidden 2000, 16" in win.status_message.text()
    qtbot.waitUntil(lambda: trainer_value(win, "widths") == (2000, 16), timeout=10000)


def test_batch_of_one_trains_without_bn_and_is_refused_with_it(make_window, qtbot):
    """Defect 10: mini-batch 1 is plain SGD; with BN it would normalize over one example."""
    win = make_window(replace(SMALL, batchnorm=False, batch_size=1))
    wait_step(qtbot, win, 20)
    assert trainer_value(win, "hyper")["batch_size"] == 1
    win.controls.bn.setChecked(True)
    assert "variance over one example is 0" in win.status_message.text()
    assert trainer_value(win, "batchnorm_flags") == (False,)


def test_b_on_a_paused_run_says_it_is_paused_and_why(make_window, qtbot):
    from bnviz.train.stopping import StopRule

    win = make_window(replace(SMALL, compare=False))
    win._set_stop_rule(StopRule(max_epochs=1, patience=0))
    qtbot.waitUntil(lambda: not win.playing, timeout=30000)
    assert "budget of 1 epochs" in win.status_message.text()
    win.toggle_bn()
    text = win.status_message.text()
    assert text.startswith("batch norm") and "still paused: the budget of 1 epochs" in text
    win.toggle_play()  # playing again: B says nothing of a pause
    win.toggle_bn()
    assert "paused" not in win.status_message.text()


def test_menu_items_show_an_ampersand_as_written(make_window):
    """ "Loss & accuracy..." read "Loss _accuracy..." (Qt took "& " for a mnemonic)."""
    win = make_window(SMALL, autoplay=False)
    file = next(a.menu() for a in win.menuBar().actions() if a.text() == "&File")
    export = next(a.menu() for a in file.actions() if a.text() == "Export plot")
    shown = [a.iconText() for a in export.actions() if a.text()]
    assert "Loss & accuracy" in shown  # iconText drops the "..."
    assert menus.menu_text("a & b") == "a && b"


def test_a_frame_draws_its_panels_one_per_turn_and_only_on_the_training_tab(make_window, qtbot):
    win = make_window(autoplay=False)
    qtbot.waitUntil(lambda: win.frame is not None, timeout=10000)
    drawn: list[str] = []
    for name, panel in win.panels.items():
        render = panel.render
        panel.render = lambda frame, name=name, render=render: (drawn.append(name), render(frame))
    win._queued = list(win.panels)
    win._draw_next_panel()  # this turn draws the first panel only; the others wait their turns
    assert drawn == [next(iter(win.panels))]
    # the others in later turns (a frame drawn meanwhile may add to the list, never take a turn)
    qtbot.waitUntil(lambda: set(drawn) == set(win.panels) and not win._queued, timeout=5000)
    drawn.clear()
    win._queued = list(win.panels)
    win.tabs.setCurrentIndex(1)  # another tab: the frame's panels are not drawn
    win._draw_next_panel()
    qtbot.wait(50)
    assert drawn == [] and win._queued == []
