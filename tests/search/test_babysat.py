"""A babysat run stored as a trial of kind 'babysat' (schema 4), and older files upgraded."""

from __future__ import annotations

import math
import sqlite3

import pytest

from bnviz.search.babysat import babysat_params, save_babysat
from bnviz.search.study import SCHEMA_VERSION, Study, TrialResult
from bnviz.search.sweep import SweepError, sweep_json
from bnviz.train.config import TrainConfig

CONFIG = TrainConfig(lr=0.02, momentum=0.95, batch_size=32, hidden=(16, 16), seed=5)


def test_a_babysat_run_is_stored_with_its_curve_settings_and_kind(tmp_path):
    with Study(tmp_path / "s.sqlite") as s:
        params = babysat_params(CONFIG, ["lr", "beta", "nonsense"])
        assert params == {"lr": 0.02, "beta": 0.95}
        t = save_babysat(s, CONFIG, params, [(10, 0.9), (20, 0.5)], val_acc=0.8, steps=25)
        assert (t.kind, t.state.value, t.val_loss, t.best_val_loss) == ("babysat", "complete",
                                                                        0.5, 0.5)  # fmt: skip
        assert t.curve == ((10, 0.9), (20, 0.5)) and t.steps == 25 and t.val_acc == 0.8
        r = s.rounds()[-1]
        assert r["method"] == "babysat" and r["n"] == 1 and r["seed"] == 5
        assert TrainConfig.from_dict(r["fixed"]) == CONFIG  # its settings kept with it
        assert {sp.kind for sp in r["spaces"]} == {"fixed"}
        d = sweep_json(s)
        assert d["trials"][0]["kind"] == "babysat"
        assert d["best"] == t.id  # it competes with the caviar trials


def test_a_diverged_babysat_run_and_one_never_evaluated(tmp_path):
    with Study(tmp_path / "s.sqlite") as s:
        t = save_babysat(s, CONFIG, {"lr": 0.02}, [(10, 2.0), (20, math.inf)], val_acc=0.1,
                         steps=21, diverged_step=21)  # fmt: skip
        assert t.state.value == "diverged" and math.isnan(t.val_loss) and t.best_val_loss == 2.0
        with pytest.raises(SweepError, match="no validation loss yet"):
            save_babysat(s, CONFIG, {"lr": 0.02}, [], val_acc=None, steps=3)
        with pytest.raises(ValueError, match="unknown trial kind"):
            TrialResult({}, 1.0, None, None, None, False, None, 0.0, 1, kind="panda")


def test_a_schema_3_study_is_upgraded_in_place_its_trials_sampled(tmp_path):
    path = tmp_path / "v3.sqlite"
    with Study(path) as s:
        rid = s.new_round([], n=1, method="random", seed=0)
        s.add_trial(rid, TrialResult({"lr": 0.1}, 0.4, 0.9, 0.4, 0.9, False, None, 1.0, 10))
    conn = sqlite3.connect(path)  # back to schema 3: no kind column (nor schema 5's)
    for column in ("kind", "bracket", "pruned_at", "group_id", "seed"):
        conn.execute(f"ALTER TABLE trials DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with Study(path) as s:
        assert [t.kind for t in s.trials()] == ["sampled"]
        assert s.trials()[0].val_loss == 0.4
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    conn.close()
