"""Hostile study files and paths, rounds of any size, worker counts: one StudyError line and
nothing left behind; the first trial of a million stored at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bnviz.search.executors import SerialExecutor, worker_count
from bnviz.search.plan import plan_configs
from bnviz.search.spaces import DEFAULT_SPACES
from bnviz.search.study import APPLICATION_ID, SCHEMA_VERSION, Study, StudyError, TrialResult
from bnviz.search.sweep import Sweep, TrialSpec
from bnviz.train.config import TrainConfig
from tests.hostile_corpus import journal_state


def _bare_file(path: Path, table: str | None) -> Path:
    c = sqlite3.connect(path)
    c.execute(f"PRAGMA application_id={APPLICATION_ID}")
    c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    if table:
        c.execute(f"CREATE TABLE {table} (a)")
    c.commit()
    c.close()
    return path


def test_bnviz_id_without_tables_is_initialised_or_refused(tmp_path):
    with Study(_bare_file(tmp_path / "empty.sqlite", None)) as s:  # nothing in it: made a study
        assert s.trials() == [] and s.rounds() == []
    with pytest.raises(StudyError, match="other.sqlite has bnviz's application id but no meta"):
        Study(_bare_file(tmp_path / "other.sqlite", "notes"))


@contextmanager
def read_only(path: Path):
    """``path`` made unwritable for this process: chmod for a user, the immutable attribute
    for root (whom permissions do not stop); skips where neither works."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a file read-only as root here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_study_or_folder_is_said_before_any_worker(tmp_path):
    path = tmp_path / "ro" / "s.sqlite"
    Study(path).close()
    with read_only(path), Study(path) as study:
        assert study.trials() == []  # still readable
        with pytest.raises(StudyError, match="s.sqlite is read-only: the file cannot be written"):
            study.check_writable()
    with read_only(path.parent):
        # SQLite may still read a study whose folder is read-only; no round may start on it
        with Study(path) as study, pytest.raises(StudyError, match="s.sqlite is read-only: "
                                                 "its folder .* cannot be written"):  # fmt: skip
            study.check_writable()
        with pytest.raises(StudyError, match="new.sqlite is read-only: its folder"):
            Study(path.parent / "new.sqlite")
    assert not any(p.name.startswith("new.sqlite") for p in path.parent.iterdir())


def test_long_names_long_paths_and_devices_leave_nothing_behind(tmp_path):
    with pytest.raises(StudyError, match=r"study name too long \(255 bytes; at most 247"):
        Study(tmp_path / ("s" * 255))
    deep = tmp_path.joinpath(*["d" * 190] * 21, "s.sqlite")
    assert len(str(deep)) > 4000
    with pytest.raises(StudyError, match="path too long for a study") as e:
        Study(deep)
    assert len(str(e.value)) < 300  # the path is shown cut, on one line
    assert list(tmp_path.iterdir()) == []  # no 0-byte file, no folders
    journal = journal_state()
    with pytest.raises(StudyError, match="/dev/null: is a device or another special file"):
        Study("/dev/null")
    assert journal_state() == journal  # no /dev/null-journal made or touched
    with pytest.raises(StudyError, match="is a folder"):
        Study(tmp_path)


def test_a_damaged_row_is_a_study_error_not_a_traceback(tmp_path):
    path = tmp_path / "s.sqlite"
    with Study(path) as s:
        r = s.new_round(list(DEFAULT_SPACES.values()), n=1, method="random", seed=0)
        s.add_trial(r, TrialResult({"lr": 0.1}, 1.0, 0.5, 1.0, 0.5, False, None, 1.0, 5))
    c = sqlite3.connect(path)
    c.execute("UPDATE trials SET params = ?", ("[" * 100_000,))
    c.execute("UPDATE rounds SET spaces = '[{\"name\": 5}]'")
    c.commit()
    c.close()
    with Study(path) as s:
        with pytest.raises(StudyError, match="s.sqlite: trial 1 is unreadable"):
            s.trials()
        with pytest.raises(StudyError, match="s.sqlite: a round is unreadable"):
            s.rounds()


def test_worker_processes_are_capped_by_trials_and_cores():
    assert worker_count(10_000, 2, cores=2) == 2
    assert worker_count(10_000, 10**6, cores=2) == 8  # 4 per core
    assert worker_count(None, 10**6, cores=2) == 2  # one per core by default
    assert worker_count(3, None, cores=64) == 3
    assert worker_count(0, 0, cores=1) == 1


def test_a_plan_of_a_million_makes_trials_only_when_asked():
    plan = plan_configs(list(DEFAULT_SPACES.values()), 1_000_000, seed=0)
    assert len(plan) == 1_000_000
    assert plan[999_999] == list(plan[999_999:])[0] and plan[-1] == plan[999_999]
    grid = plan_configs(list(DEFAULT_SPACES.values()), 1_000_000, seed=0, method="grid")
    assert len(grid) == 1_000_000 and grid[1] != grid[0] and grid[1000]["lr"] != grid[0]["lr"]
    with pytest.raises(IndexError):
        plan[1_000_000]


def quick_segment(spec: TrialSpec, until: int, paused: object) -> tuple[TrialResult, None]:
    return TrialResult(spec.params, 1.0, 0.5, 1.0, 0.5, False, None, 0.0, 1, ((1, 1.0),)), None


def test_a_round_of_a_million_stores_its_first_trial_at_once(tmp_path):
    study = Study(tmp_path / "s.sqlite")
    sweep = Sweep(study, TrainConfig(optimizer="momentum"), list(DEFAULT_SPACES.values()),
                  n=1_000_000, epochs=1, segment=quick_segment)  # fmt: skip
    cancel = threading.Event()
    stored = []

    def first(record: object) -> None:
        stored.append(record)
        if len(stored) == 3:
            cancel.set()

    sweep.run(SerialExecutor(), first, cancel)
    assert [t.id for t in study.trials()] == [1, 2, 3]
    assert study.rounds()[0]["n"] == 1_000_000


def test_a_study_locked_by_another_process_is_one_line(tmp_path, monkeypatch):
    from bnviz.search import study as study_mod

    monkeypatch.setattr(study_mod, "BUSY_TIMEOUT_S", 0.1)  # not 30 s of waiting in a test
    path = tmp_path / "s.sqlite"
    Study(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with Study(path) as study:
            with pytest.raises(StudyError, match=r"s.sqlite cannot be written \(database is "
                               "locked\\)"):  # fmt: skip
                study.check_writable()
            with pytest.raises(StudyError, match="s.sqlite cannot be written"):
                study.set_meta("note", 1)
    finally:
        other.execute("ROLLBACK")
        other.close()


class DyingPool(SerialExecutor):
    """Runs two trials, then breaks as a process pool does when a worker is killed."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        from concurrent.futures.process import BrokenProcessPool

        self.submitted += 1
        if self.submitted > 2:
            raise BrokenProcessPool("A child process terminated abruptly")
        return super().submit(fn, *args, **kwargs)


def test_a_killed_worker_stops_the_round_keeping_what_finished(tmp_path):
    from bnviz.search.sweep import WorkersLost

    study = Study(tmp_path / "s.sqlite")
    sweep = Sweep(study, TrainConfig(optimizer="momentum"), list(DEFAULT_SPACES.values()),
                  n=100, epochs=1, segment=quick_segment)  # fmt: skip
    with pytest.raises(WorkersLost, match="the worker processes stopped .*terminated abruptly"):
        sweep.run(DyingPool())
    assert len(study.trials()) == 2
