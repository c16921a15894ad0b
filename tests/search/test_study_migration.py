"""A study written by the first release (schema 1, no trial states) opens, keeps every trial
and result, reads as complete/diverged/failed, and takes new rounds."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from pathlib import Path

import pytest

from bnviz.cli import main
from bnviz.search import study as study_mod
from bnviz.search.spaces import DEFAULT_SPACES
from bnviz.search.study import (
    LEGACY_FAILED_REASON,
    SCHEMA_VERSION,
    Study,
    StudyError,
    TrialResult,
    TrialState,
)
from bnviz.search.sweep import SerialExecutor, Sweep, sweep_json
from bnviz.train.config import TrainConfig
from tests.search.schema1 import (
    CONFIG,
    ROUNDS,
    STATES,
    TRIALS,
    insert_trial_as_first_release,
    write_schema1_study,
)


@pytest.fixture
def old(tmp_path: Path) -> Path:
    path = tmp_path / "first-release.sqlite"
    write_schema1_study(path)
    return path


def raw(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def columns(path: Path) -> list[tuple]:
    return raw(path, "PRAGMA table_info(trials)")


def same(a: float | None, b: float | str | None) -> bool:
    """A stored value read back equals what the first release wrote ('NaN' was NaN)."""
    if a is None or b is None:
        return a is b
    return math.isnan(a) if b == "NaN" else a == b


def test_the_fixture_is_a_schema_1_file(old: Path) -> None:
    assert raw(old, "PRAGMA user_version") == [(1,)]
    assert "state" not in {c[1] for c in columns(old)}


def test_a_first_release_study_keeps_every_trial_and_result(old: Path) -> None:
    with Study(old) as study:
        trials = study.trials()
        rounds = study.rounds()
        assert study.get_meta("config") == CONFIG
    assert [r["id"] for r in rounds] == [1, 2] and rounds[1]["box"] == {"lr": (-3.0, -1.0)}
    assert [s.to_dict() for s in rounds[0]["spaces"]] == json.loads(ROUNDS[0][0])
    assert [r["fixed"] for r in rounds] == [CONFIG, CONFIG]
    assert [t.id for t in trials] == list(range(1, len(TRIALS) + 1))
    for t, row in zip(trials, TRIALS):
        assert t.round == row["round"]
        assert t.params == json.loads(row["params"])
        assert t.diverged_step == row["diverged_step"] and t.steps == row["steps"]
        assert t.finished_at == row["finished_at"]
        for f in ("val_loss", "val_acc", "best_val_loss", "best_val_acc", "seconds"):
            assert same(getattr(t, f), row[f]), (t.id, f)
        # the losses as stored (NaN included), with their steps spread over the trial's
        assert json.dumps([loss for _, loss in t.curve]) == row["curve"]
        n = len(t.curve)
        assert [step for step, _ in t.curve] == [round(t.steps * k / n) for k in range(1, n + 1)]


def test_a_first_release_study_reads_as_complete_diverged_and_failed(old: Path) -> None:
    with Study(old) as study:
        trials = study.trials()
        best = study.best()
        best_acc = study.best("val_acc")
    assert [t.state for t in trials] == STATES
    assert all(isinstance(t.state, TrialState) for t in trials)
    failed = trials[STATES.index("failed")]
    assert failed.error == LEGACY_FAILED_REASON
    assert not failed.diverged  # it did not diverge: its worker raised
    diverged = trials[STATES.index("diverged")]
    assert diverged.diverged and diverged.diverged_step == 17 and diverged.error is None
    assert [t.error for t in trials if t.state == "complete"] == [None, None, None]
    assert (best.id, best_acc.id) == (4, 5)


def test_the_migration_is_in_place_once_and_gives_the_new_layout(old: Path, tmp_path: Path):
    Study(old).close()
    assert raw(old, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and SCHEMA_VERSION == 5
    assert raw(old, "SELECT DISTINCT recheck_of FROM trials") == [(None,)]  # no trial repeats
    assert raw(old, "SELECT DISTINCT kind FROM trials") == [("sampled",)]  # all from rounds
    # no Hyperband bracket, and no recorded ranking for a trial pruned back then
    assert raw(old, "SELECT DISTINCT bracket, pruned_at, group_id, seed FROM trials") == [
        (None, None, None, None)
    ]
    # the states are in the file itself, for anyone who reads it with SQL
    assert raw(old, "SELECT state, error FROM trials ORDER BY id") == [
        (s, LEGACY_FAILED_REASON if s == "failed" else None) for s in STATES
    ]
    # the first release's columns are untouched (its "diverged" meant "no result")
    assert raw(old, "SELECT diverged, diverged_step, steps FROM trials ORDER BY id") == [
        (t["diverged"], t["diverged_step"], t["steps"]) for t in TRIALS
    ]
    Study(tmp_path / "new.sqlite").close()
    assert columns(old) == columns(tmp_path / "new.sqlite")  # one layout, however made
    before = old.read_bytes()
    Study(old).close()  # a second opening changes nothing
    assert old.read_bytes() == before


def test_a_first_release_study_takes_new_rounds(old: Path) -> None:
    base = TrainConfig.from_dict(CONFIG)
    with Study(old) as study:
        sweep = Sweep(study, base, [DEFAULT_SPACES["lr"]], n=2, seed=5, epochs=1)
        records = sweep.run(SerialExecutor())
        assert sweep.round_id == 3 and [r.state for r in records] == ["complete", "complete"]
        r = study.new_round([DEFAULT_SPACES["lr"]], n=2, method="random", seed=6)
        no_result = (None, None, None, None, False, None, 0.0, 0)
        failed = TrialResult({"lr": 0.1}, *no_result, state="failed", error="RuntimeError: died")
        pruned = TrialResult({"lr": 0.2}, 0.01, 0.99, 0.01, 0.99, False, None, 0.5, 30,
                             ((30, 0.01),), state=TrialState.PRUNED)  # fmt: skip
        study.add_trial(r, failed)
        study.add_trial(r, pruned)
    with Study(old) as study:
        trials = study.trials()
        best = study.best()
    assert [t.round for t in trials] == [1, 1, 1, 2, 2, 3, 3, 4, 4]
    assert [t.state for t in trials] == STATES + ["complete", "complete", "failed", "pruned"]
    assert trials[-2].error == "RuntimeError: died" and trials[-1].error is None
    assert trials[-1].val_loss == 0.01
    assert best is not None and best.state == "complete"  # the pruned 0.01 is not best
    assert best.val_loss == min(t.val_loss for t in trials if t.state == "complete")


def test_a_failed_migration_leaves_the_file_as_it_was(old: Path, monkeypatch) -> None:
    broken = {
        **study_mod._MIGRATIONS,
        2: (*study_mod._MIGRATIONS[2], "UPDATE no_such_table SET x = 1"),
    }
    monkeypatch.setattr(study_mod, "_MIGRATIONS", broken)
    said = f"has study schema 1 and cannot be upgraded to {SCHEMA_VERSION}"
    with pytest.raises(StudyError, match=said):
        Study(old)
    assert raw(old, "PRAGMA user_version") == [(1,)]
    assert "state" not in {c[1] for c in columns(old)}  # the ALTER TABLEs were rolled back
    monkeypatch.undo()
    with Study(old) as study:
        assert [t.state for t in study.trials()] == STATES


def test_rows_a_first_release_process_still_writes_read_with_a_state(old: Path) -> None:
    Study(old).close()  # migrated, while an old process still has the file open
    insert_trial_as_first_release(old, diverged=1, diverged_step=None, steps=0,
                                  val_loss=None, val_acc=None, curve="[]")  # fmt: skip
    insert_trial_as_first_release(old, diverged=1, diverged_step=4, steps=4)
    insert_trial_as_first_release(old)
    assert raw(old, "SELECT state FROM trials WHERE id > 5") == [(None,)] * 3
    with Study(old) as study:
        tail = study.trials()[len(TRIALS) :]
    assert [(t.state, t.error) for t in tail] == [
        ("failed", LEGACY_FAILED_REASON),
        ("diverged", None),
        ("complete", None),
    ]


def test_openers_racing_on_a_first_release_study_all_succeed(old: Path) -> None:
    errors: list[BaseException] = []
    states: list[list] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        start.wait()
        try:
            with Study(old) as study:
                states.append([t.state for t in study.trials()])
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and states == [STATES] * 4
    assert len(columns(old)) == 13 + 8  # the eight columns were added once


def test_a_study_newer_than_this_bnviz_is_refused(old: Path) -> None:
    Study(old).close()
    conn = sqlite3.connect(old)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StudyError, match=rf"schema {SCHEMA_VERSION + 1}; .* upgrade bnviz"):
        Study(old)


def test_sweep_json_and_table_of_a_first_release_study(old: Path, capsys) -> None:
    assert main(["sweep", "--study", str(old), "--trials", "0", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    with Study(old) as study:
        # --json is sweep_json plus the importance object (issue 20), added last
        assert list(d)[-1] == "importance"
        assert {k: v for k, v in d.items() if k != "importance"} == json.loads(
            json.dumps(sweep_json(study))
        )
    assert [t["state"] for t in d["trials"]] == STATES
    assert [t["diverged"] for t in d["trials"]] == [bool(t["diverged"]) for t in TRIALS]
    assert [t["error"] for t in d["trials"]] == [
        LEGACY_FAILED_REASON if s == "failed" else None for s in STATES
    ]
    assert d["best"] == 4
    assert main(["sweep", "--study", str(old), "--trials", "0"]) == 0
    out = capsys.readouterr().out
    assert "(1 diverged, 1 failed of 5 trials)" in out
    assert f"trial 3 failed: {LEGACY_FAILED_REASON}" in out
