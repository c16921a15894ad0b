"""``bnviz sweep --json``'s ``"importance"`` object (issue 20): per parameter its |rank
correlation| with the bootstrap interval, n, the course's rank, and fANOVA with Optuna; groups
of repeats count once at their mean."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from bnviz.cli import main
from bnviz.search.importance import MIN_TRIALS, importance_interval, noise_band, spearman
from bnviz.search.importance_report import study_importance
from bnviz.search.spaces import parse_space
from bnviz.search.study import TrialRecord
from bnviz.train.config import TrainConfig

MOMENTUM = TrainConfig(optimizer="momentum").to_dict()
CONTRACT = {"method", "value", "ci95", "n", "course_rank"}


def _trial(i: int, params: dict, loss: float, diverged: bool = False) -> TrialRecord:
    return TrialRecord(
        params=params, val_loss=None if diverged else loss, val_acc=None, best_val_loss=loss,
        best_val_acc=None, diverged=diverged, diverged_step=3 if diverged else None,
        seconds=1.0, steps=10, id=i, round=1, finished_at="now",
    )  # fmt: skip


def _study(n: int) -> tuple[list[TrialRecord], list[dict]]:
    """lr sets the loss (a log-scale slope), beta and the activation are noise."""
    spaces = [parse_space("lr", "1e-4:1:log"), parse_space("beta", "0.9:0.999:1m"),
              parse_space("activation", "relu,tanh:cat")]  # fmt: skip
    rng = np.random.default_rng(5)
    trials = []
    for i in range(n):
        lr = 10 ** rng.uniform(-4, 0)
        loss = -math.log10(lr) + 0.3 * rng.standard_normal()
        params = {"lr": lr, "beta": 1 - 10 ** rng.uniform(-3, -1),
                  "activation": ["relu", "tanh"][i % 2]}  # fmt: skip
        trials.append(_trial(i + 1, params, loss, diverged=lr > 0.8))
    return trials, [{"id": 1, "spaces": spaces, "fixed": MOMENTUM}]


def test_each_parameter_gets_the_contract_keys_and_the_explorers_numbers():
    trials, rounds = _study(60)
    imp = study_importance(trials, rounds, fanova=False)
    assert list(imp) == ["lr", "beta", "activation"]
    assert all(CONTRACT <= set(e) for e in imp.values())
    assert imp["lr"]["course_rank"] == 1 and imp["beta"]["course_rank"] == 2
    assert imp["activation"]["course_rank"] is None
    assert imp["activation"]["status"] == "categorical" and imp["activation"]["value"] is None
    assert imp["activation"]["n"] == 60
    # the explorer's functions on the same columns (diverged trials ranked worst: inf)
    x = np.log10([t.params["lr"] for t in trials])
    y = np.array([math.inf if t.diverged else t.val_loss for t in trials])
    assert imp["lr"]["value"] == pytest.approx(abs(spearman(x, y)))
    assert imp["lr"]["ci95"] == pytest.approx(list(importance_interval(x, y)))
    assert imp["lr"]["status"] == "ok" and imp["lr"]["n"] == 60 and imp["lr"]["value"] > 0.7
    lo, hi = imp["beta"]["ci95"]
    assert lo <= imp["beta"]["value"] <= hi and lo < noise_band(60)  # noise reaches the band
    assert "fanova" not in imp["lr"] and imp["lr"]["min_trials"] == MIN_TRIALS
    assert json.dumps(imp, allow_nan=False)


def test_below_the_minimum_it_says_too_few_trials():
    trials, rounds = _study(MIN_TRIALS - 1)
    imp = study_importance(trials, rounds, fanova=False)
    assert imp["lr"]["status"] == "too few trials" and imp["lr"]["value"] is None
    assert imp["lr"]["ci95"] == [None, None] and imp["lr"]["n"] == MIN_TRIALS - 1


def test_a_parameter_no_trial_could_feel_says_why():
    trials, rounds = _study(20)
    sgd = [{**rounds[0], "fixed": TrainConfig(optimizer="sgd").to_dict()}]
    imp = study_importance(trials, sgd, fanova=False)
    assert imp["beta"]["status"] == "unfelt" and imp["beta"]["value"] is None
    assert imp["beta"]["why"] and imp["lr"]["status"] == "ok"


def test_groups_of_repeats_count_once_with_their_mean_loss():
    trials, rounds = _study(30)
    repeated = []  # every configuration trained 3 times, losses 0.1 apart around the single run
    for t in trials:
        for k, d in enumerate((-0.1, 0.0, 0.1)):
            loss = None if t.val_loss is None else t.val_loss + d
            repeated.append(replace(t, id=t.id * 10 + k, group=t.id * 10, val_loss=loss))
    imp = study_importance(repeated, rounds, fanova=False)
    single = study_importance(trials, rounds, fanova=False)
    assert imp["lr"]["n"] == 30  # groups, not 90 trials
    assert imp["lr"]["value"] == pytest.approx(single["lr"]["value"])
    assert "groups of repeats" in imp["lr"]["interval"]
    assert "groups" not in single["lr"]["interval"]


def test_fanova_gives_the_parameter_that_sets_the_loss_the_largest_share():
    pytest.importorskip("optuna")
    pytest.importorskip("sklearn")
    trials, rounds = _study(60)
    imp = study_importance(trials, rounds)
    shares = {n: e["fanova"]["value"] for n, e in imp.items()}
    assert max(shares, key=lambda n: shares[n] or 0.0) == "lr" and shares["lr"] > 0.5
    assert imp["lr"]["fanova"]["method"].startswith("fANOVA")
    few = study_importance(*_study(MIN_TRIALS - 1))
    assert few["lr"]["fanova"]["value"] is None and "too few" in few["lr"]["fanova"]["why"]


def test_sweep_json_gains_the_importance_object(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    flags = ["--samples", "100", "--hidden", "8", "--epochs", "1", "--workers", "1", "--quiet",
             "--study", path, "--trials", "4", "--lr", "1e-3:1:log", "--json"]  # fmt: skip
    assert main(["sweep", *flags]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out)[:3] == ["study", "trials", "best"] and list(out)[-1] == "importance"
    lr = out["importance"]["lr"]
    assert CONTRACT <= set(lr) and lr["course_rank"] == 1
    assert lr["status"] == "too few trials" and lr["n"] == 4
    assert lr["value"] is None and lr["ci95"] == [None, None]
