"""The window says what the command line says: a hostile data file, settings file or study
opened from the window gives the same one line in its status, never only on stderr."""

from __future__ import annotations

import sqlite3

from bnviz.gui import menus
from tests.hostile_corpus import deep_json, header_only_npz, settings_file


def test_a_huge_npz_header_is_said_in_the_window(small_window, qtbot, tmp_path):
    win = small_window
    path = header_only_npz(tmp_path / "huge.npz", {"X": (100_000, 64_424), "y": (100_000,)})
    menus.open_data_file(win, str(path))  # read in the background; the message follows
    qtbot.waitUntil(lambda: "huge.npz" in win.status_message.text(), timeout=10_000)
    assert "48.0 GB, over the memory budget" in win.status_message.text()


def test_deep_and_future_settings_are_said_in_the_window(small_window, tmp_path):
    win = small_window
    before = win.controls.config()
    assert not menus.open_settings(win, str(settings_file(tmp_path / "deep.json",
                                                          deep_json(100_000))))  # fmt: skip
    assert "deep.json: nested 100001 levels deep" in win.status_message.text()
    future = settings_file(tmp_path / "new.json", {"bnviz_settings": 9})
    assert not menus.open_settings(win, str(future))
    assert "written by a newer bnviz (version 9)" in win.status_message.text()
    assert win.controls.config() == before  # nothing lost


def test_a_study_with_bnviz_id_and_no_tables_is_said_in_the_explorer(small_window, tmp_path):
    win = small_window
    path = tmp_path / "odd.sqlite"
    c = sqlite3.connect(path)
    c.execute("PRAGMA application_id=0x626E767A")
    c.execute("CREATE TABLE notes (a)")
    c.commit()
    c.close()
    assert not win.explorer.open_study(path)
    said = "odd.sqlite has bnviz's application id but no meta, rounds, trials table"
    assert said in win.status_message.text() and said in win.explorer.controls.status.text()
    assert not win.explorer.open_study("/dev/null")
    assert "/dev/null: is a device" in win.status_message.text()


def test_the_controls_take_their_bounds_from_the_registry(small_window):
    from bnviz.train.config import PARAMS
    from bnviz.train.params import MAX_EXPLORER_TRIALS, RUN_PARAMS

    win = small_window
    batch = PARAMS["batch_size"]  # the spin box stops at its soft top, under the cap
    assert win.controls.batch.maximum() == batch.top == 4096 and batch.cap == 1_000_000
    ex = win.explorer.controls
    assert ex.trials.maximum() == MAX_EXPLORER_TRIALS  # what its views draw; the CLI: 1e6
    assert ex.epochs.maximum() == RUN_PARAMS["epochs"].high
    assert ex.workers.maximum() == RUN_PARAMS["workers"].high
    win.controls.lr_field.setText("1e5")
    win.controls.lr_field.editingFinished.emit()
    assert "learning rate must be <= 10,000, got 100,000" in win.status_message.text()
    win.controls.noise.setText("1e6")
    win.controls.noise.editingFinished.emit()
    assert "noise must be <= 100, got 1,000,000" in win.status_message.text()


def test_a_cluster_without_workers_is_said_in_the_explorer(small_window, qtbot):
    """The sweep's status (bnviz.search.executors.WorkerWatch, tested with a real cluster in
    tests/test_hostile_dask.py) reaches the explorer's status line and the window's."""
    ex = small_window.explorer
    said = "the Dask cluster has no workers left: waiting for workers (--timeout SECONDS stops)"
    ex.runner.status.emit(said)  # as the sweep's thread does
    qtbot.waitUntil(lambda: said in ex.controls.status.text(), timeout=5000)
    assert said in small_window.status_message.text()


def test_a_read_only_study_is_said_before_a_round_starts(small_window, tmp_path, monkeypatch):
    """Read-only for real is tested in tests/test_hostile_study.py; here the window's path."""
    from bnviz.search import study as study_mod

    ex = small_window.explorer
    assert ex.open_study(tmp_path / "ro.sqlite")
    monkeypatch.setattr(study_mod, "read_only_reason", lambda path: "the file cannot be written")
    assert not ex.start_round(n=2)
    assert "ro.sqlite is read-only: the file cannot be written" in ex.controls.status.text()
    assert not ex.busy and ex.study.trials() == []
