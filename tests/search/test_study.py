"""Study files: round trips, reopening, surviving a killed writer, refusing foreign files."""

from __future__ import annotations

import math
import pickle
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bnviz.search.spaces import DEFAULT_SPACES, parse_space
from bnviz.search.study import (
    ERROR_CHARS,
    Study,
    StudyError,
    TrialResult,
    TrialState,
    default_study_dir,
)

NAN, INF = float("nan"), float("inf")


def result(lr: float, loss: float | None, acc: float | None = 0.5, **kw) -> TrialResult:
    fields = dict(
        params={"lr": lr, "beta": 0.95},
        val_loss=loss,
        val_acc=acc,
        best_val_loss=loss,
        best_val_acc=acc,
        diverged=False,
        diverged_step=None,
        seconds=1.5,
        steps=100,
        curve=((50, 2.0), (100, 1.0 if loss is None else loss)),
    )
    fields.update(kw)
    return TrialResult(**fields)


def same(a: float | None, b: float | None) -> bool:
    return a is b or (
        a is not None and b is not None and (a == b or math.isnan(a) == math.isnan(b))
    )


def test_round_trip_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "s.sqlite"
    spaces = [*DEFAULT_SPACES.values(), parse_space("activation", "relu,tanh:cat")]
    added = [
        result(0.01, 0.3, 0.9),
        result(
            0.5, NAN, None, diverged=True, diverged_step=7, curve=((3, 2.0), (6, NAN), (7, INF))
        ),  # fmt: skip
        result(0.001, INF, 0.1, best_val_loss=-INF),
        result(0.02, None, None, best_val_acc=None),
    ]
    with Study(path) as study:
        study.set_meta("fixed", {"dataset": "digits", "epochs": 5, "bn": True})
        r1 = study.new_round(spaces, n=4, method="random", seed=3, fixed={"epochs": 5})
        ids = [study.add_trial(r1, r) for r in added[:3]]
        r2 = study.new_round(spaces[:1], n=1, method="grid", seed=4, box={"lr": (-3.0, -1.0)})
        study.add_trial(r2, added[3])
        assert (r1, r2) == (1, 2) and ids == [1, 2, 3]
    with Study(path) as study:
        assert study.get_meta("fixed") == {"dataset": "digits", "epochs": 5, "bn": True}
        assert study.get_meta("missing", 42) == 42
        rounds = study.rounds()
        assert [r["id"] for r in rounds] == [1, 2]
        assert rounds[0]["spaces"] == spaces and rounds[1]["spaces"] == spaces[:1]
        assert rounds[0]["fixed"] == {"epochs": 5} and rounds[0]["box"] is None
        assert rounds[1]["box"] == {"lr": (-3.0, -1.0)} and rounds[1]["method"] == "grid"
        assert (rounds[0]["n"], rounds[0]["seed"]) == (4, 3)
        got = study.trials()
        assert [t.round for t in got] == [1, 1, 1, 2] and len(study.trials(1)) == 3
        for t, r in zip(got, added):
            assert t.params == r.params and t.diverged == r.diverged
            assert t.diverged_step == r.diverged_step and t.steps == r.steps
            for f in ("val_loss", "val_acc", "best_val_loss", "best_val_acc", "seconds"):
                assert same(getattr(t, f), getattr(r, f)), f
            assert [step for step, _ in t.curve] == [step for step, _ in r.curve]
            assert all(same(a[1], b[1]) for a, b in zip(t.curve, r.curve, strict=True))
            assert t.finished_at
        # NaN and None stay apart: one diverged to NaN, the other never evaluated.
        assert math.isnan(got[1].val_loss) and got[3].val_loss is None
        assert got[2].val_loss == INF and got[2].best_val_loss == -INF


def test_best(tmp_path: Path) -> None:
    with Study(tmp_path / "s.sqlite") as study:
        assert study.best() is None
        r = study.new_round([DEFAULT_SPACES["lr"]], n=5, method="random", seed=0)
        study.add_trial(r, result(0.5, 0.01, 0.99, diverged=True, diverged_step=3))
        study.add_trial(r, result(0.1, NAN, 0.2))
        study.add_trial(r, result(0.01, 0.4, 0.95))
        study.add_trial(r, result(0.02, 0.3, 0.90))
        study.add_trial(r, result(0.03, 0.3, 0.80))
        assert study.best().params["lr"] == 0.02  # lowest loss, earliest of the tie
        assert study.best("val_acc").params["lr"] == 0.01  # diverged 0.99 is skipped
        with pytest.raises(ValueError, match="unknown metric"):
            study.best("loss")


def test_states_round_trip(tmp_path: Path) -> None:
    added = [
        result(0.01, 0.3),
        result(0.5, NAN, diverged=True, diverged_step=7),
        result(0.1, None, None, curve=(), steps=0, state="failed", error="OSError: disk\nfull"),
        result(0.02, 0.6, state=TrialState.PRUNED, steps=30),
    ]
    with Study(tmp_path / "s.sqlite") as study:
        r = study.new_round([DEFAULT_SPACES["lr"]], n=4, method="random", seed=0)
        for a in added:
            study.add_trial(r, a)
    with Study(tmp_path / "s.sqlite") as study:
        got = study.trials()
    assert [t.state for t in got] == ["complete", "diverged", "failed", "pruned"]
    assert [t.error for t in got] == [None, None, "OSError: disk full", None]
    assert [t.diverged for t in got] == [False, True, False, False]
    assert got[3].val_loss == 0.6 and got[3].steps == 30  # a pruned trial keeps its result


def test_state_follows_diverged_and_is_checked() -> None:
    assert result(0.01, 0.3).state is TrialState.COMPLETE
    assert result(0.01, NAN, diverged=True, diverged_step=3).state is TrialState.DIVERGED
    assert result(0.01, 0.3, state="pruned").state is TrialState.PRUNED
    with pytest.raises(ValueError, match="a failed trial has diverged=True"):
        result(0.01, None, diverged=True, state="failed", error="x")
    with pytest.raises(ValueError, match="a complete trial has diverged=True"):
        result(0.01, 0.3, diverged=True, state="complete")
    with pytest.raises(ValueError, match="needs its reason"):
        result(0.01, None, state="failed")
    with pytest.raises(ValueError, match="a pruned trial has no error"):
        result(0.01, 0.3, state="pruned", error="why")
    with pytest.raises(ValueError, match="not a valid TrialState"):
        result(0.01, 0.3, state="killed")
    long = result(0.01, None, state="failed", error="E: " + "x" * 1000)
    assert len(long.error) == ERROR_CHARS and long.error.endswith("...")


def test_only_complete_trials_are_best(tmp_path: Path) -> None:
    with Study(tmp_path / "s.sqlite") as study:
        r = study.new_round([DEFAULT_SPACES["lr"]], n=3, method="random", seed=0)
        study.add_trial(r, result(0.5, 0.01, 0.99, state="pruned"))  # partial, looks great
        study.add_trial(r, result(0.1, 0.6, 0.5))
        study.add_trial(r, result(0.2, 0.001, 1.0, state="failed", error="x"))  # cannot happen
        assert study.best().params["lr"] == 0.1
        assert study.best("val_acc").params["lr"] == 0.1


def test_an_unknown_state_in_the_file_is_a_study_error(tmp_path: Path) -> None:
    with Study(tmp_path / "s.sqlite") as study:
        r = study.new_round([DEFAULT_SPACES["lr"]], n=1, method="random", seed=0)
        study.add_trial(r, result(0.1, 0.6))
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    conn.execute("UPDATE trials SET state = 'killed'")
    conn.commit()
    conn.close()
    with Study(tmp_path / "s.sqlite") as study, pytest.raises(StudyError, match="trial 1"):
        study.trials()


def test_trial_result_is_picklable() -> None:
    r = result(0.01, 0.3)
    assert pickle.loads(pickle.dumps(r)) == r


def test_add_trial_to_missing_round(tmp_path: Path) -> None:
    with Study(tmp_path / "s.sqlite") as study, pytest.raises(StudyError, match="no round 9"):
        study.add_trial(9, result(0.01, 0.3))


KILLED_WRITER = """
import os, signal, sys
from bnviz.search.spaces import DEFAULT_SPACES
from bnviz.search.study import Study, TrialResult
study = Study(sys.argv[1])
r = study.new_round(list(DEFAULT_SPACES.values()), n=4, method="random", seed=0)
for i in range(3):
    study.add_trial(r, TrialResult({"lr": 10.0 ** -i}, 0.1 * i, 0.9, 0.1, 0.9, False, None,
                                   1.0, 10, ((5, 1.0), (10, 0.5))))
# A 4th trial is in flight: half-written inside an open transaction when the process dies.
conn = study._conn
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO trials(round, params, diverged, steps, curve, finished_at) "
             "VALUES (1, '{}', 0, 0, '[]', 'never')")
os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
"""


def test_killed_writer_loses_only_the_trial_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0, proc.stderr  # it really died
    assert "Traceback" not in proc.stderr, proc.stderr
    with Study(path) as study:
        trials = study.trials()
        assert [t.params["lr"] for t in trials] == [1.0, 0.1, 0.01]
        assert all(t.finished_at != "never" for t in trials)
        assert len(study.rounds()) == 1


def test_corrupt_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.sqlite"
    bad.write_bytes(b"this is not sqlite at all\n" * 200)
    with pytest.raises(StudyError, match="x.sqlite is not a bnviz study: file is not a database"):
        Study(bad)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StudyError, match="other.sqlite is not a bnviz study"):
        Study(other)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Study(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StudyError, match="upgrade bnviz"):
        Study(path)


def test_default_study_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_DATA_HOME is the Linux convention")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    d = default_study_dir()
    assert d == tmp_path / "data" / "bnviz" / "studies" and d.is_dir()
