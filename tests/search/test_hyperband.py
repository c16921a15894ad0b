"""Hyperband (issue 20): the plan is Table 1 of Li et al. 2018, a real round reaches each rung
with the planned counts, and every pruned trial's ``pruned_at`` is re-derived from the curves
(under Hyperband and plain successive halving)."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from bnviz.cli import main
from bnviz.search.halving import cut, pruned_text
from bnviz.search.hyperband import plan, plan_json, s_max
from bnviz.search.spaces import parse_space
from bnviz.search.study import Study, TrialRecord, TrialState
from bnviz.search.sweep import SerialExecutor, Sweep, sweep_json
from bnviz.train.config import TrainConfig

# Li et al., "Hyperband", JMLR 18 (2018), Table 1: R = 81, eta = 3; (n_i, r_i) per bracket s.
TABLE_1 = {
    4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    3: [(34, 3), (11, 9), (3, 27), (1, 81)],
    2: [(15, 9), (5, 27), (1, 81)],
    1: [(8, 27), (2, 81)],
    0: [(5, 81)],
}
TINY = TrainConfig(
    n_samples=100, hidden=(8,), batch_size=16, optimizer="momentum", activation="relu"
)
SAFE_LR = [parse_space("lr", "1e-3:1e-1:log")]  # nothing diverges on TINY in this range


def test_the_plan_for_81_epochs_and_eta_3_is_table_1():
    got = {b.s: list(b.rungs) for b in plan(81, 3)}
    assert got == TABLE_1 and [b.s for b in plan(81, 3)] == [4, 3, 2, 1, 0]


def test_plan_json_on_the_command_line_is_table_1(capsys):
    assert main(["sweep", "--hyperband", "--epochs", "81", "--eta", "3", "--plan", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"brackets": [{"s": s, "rungs": [list(r) for r in rungs]}
                                for s, rungs in TABLE_1.items()]}  # fmt: skip
    assert out == plan_json(plan(81))


@pytest.mark.parametrize("epochs, eta", [(1, 3), (2, 3), (3, 3), (20, 3), (80, 3), (100, 4)])
def test_every_plan_follows_the_paper_s_formulas(epochs, eta):
    top = s_max(epochs, eta)
    assert eta**top <= epochs < eta ** (top + 1)
    for b in plan(epochs, eta):
        n = math.ceil((top + 1) / (b.s + 1) * eta**b.s - 1e-9)
        assert b.n == n and len(b.rungs) == b.s + 1
        assert [n_i for n_i, _ in b.rungs] == [n // eta**i for i in range(b.s + 1)]
        rs = [r for _, r in b.rungs]
        assert rs[-1] == epochs and rs[0] >= 1 and rs == sorted(set(rs))


def test_a_bad_budget_is_refused():
    with pytest.raises(ValueError, match="eta >= 2"):
        plan(9, 1)


def test_cut_says_why_each_trial_stopped():
    go_on, why = cut({4: 0.5, 0: 0.9, 2: 0.5, 1: 0.1, 3: math.nan}, 2, 3)
    assert go_on == [1, 2]
    assert why == {
        4: {"epochs": 3, "value": 0.5, "rank": 3, "of": 5, "kept": 2},
        0: {"epochs": 3, "value": 0.9, "rank": 4, "of": 5, "kept": 2},
        3: {"epochs": 3, "value": why[3]["value"], "rank": 5, "of": 5, "kept": 2},
    }
    text = pruned_text({"epochs": 3, "value": 0.8213, "rank": 7, "of": 9, "kept": 3})
    assert text == "stopped at 3 epochs: loss 0.821 ranked 7 of 9, the best 3 went on"


def rederive(trials: list[TrialRecord]) -> None:
    """Check every pruned trial's pruned_at against the curves of its round and bracket: the
    trials there whose curve has a finite loss at the rung reached it; those whose curve goes
    further went on."""
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert pruned and all(t.pruned_at is not None for t in pruned)
    for t in pruned:
        p = t.pruned_at
        e = p["epochs"]
        assert len(t.curve) == e and p["value"] == t.curve[-1][1] == t.val_loss
        peers = [u for u in trials if (u.round, u.bracket) == (t.round, t.bracket)]
        there = [u.curve[e - 1][1] for u in peers
                 if len(u.curve) >= e and math.isfinite(u.curve[e - 1][1])]  # fmt: skip
        went_on = [u for u in peers if len(u.curve) > e]
        assert p["of"] == len(there) and p["kept"] == len(went_on) < p["rank"]
        better = sum(v < p["value"] for v in there)
        assert better + 1 <= p["rank"] <= better + sum(v == p["value"] for v in there)


def test_a_real_hyperband_round_climbs_the_planned_rungs(tmp_path):
    with Study(tmp_path / "hb.sqlite") as study:
        sweep = Sweep(study, TINY, SAFE_LR, n=1, epochs=9, hyperband=True, seed=3)
        sweep.run(SerialExecutor())
        trials = study.trials()
        assert len(trials) == sum(b.n for b in plan(9)) == 17
        for b in plan(9):
            mine = [t for t in trials if t.bracket == b.s]
            assert [sum(len(t.curve) >= r for t in mine) for _, r in b.rungs] == [
                n for n, _ in b.rungs
            ]
            assert Counter(t.state for t in mine)[TrialState.COMPLETE] == b.rungs[-1][0]
        rederive(trials)
        d = sweep_json(study)
    by_id = {t["id"]: t for t in d["trials"]}
    for t in trials:
        j = by_id[t.id]
        assert j["bracket"] == t.bracket and j["epochs"] == len(t.curve)
        assert j["pruned_at"] == t.pruned_at


def test_successive_halving_records_why_too_and_it_survives_reopening(tmp_path):
    path = tmp_path / "sh.sqlite"
    with Study(path) as study:
        Sweep(study, TINY, SAFE_LR, n=9, epochs=9, prune=True).run(SerialExecutor())
    with Study(path) as study:
        trials = study.trials()
    assert {t.bracket for t in trials} == {None}
    rederive(trials)
    assert all(t.pruned_at is None for t in trials if t.state is not TrialState.PRUNED)


def test_the_cli_runs_hyperband_and_refuses_what_contradicts_it(tmp_path, capsys):
    study = str(tmp_path / "s.sqlite")
    args = ["sweep", "--hyperband", "--epochs", "3", "--samples", "100", "--hidden", "8",
            "--study", study, "--quiet", "--json", "--workers", "1"]  # fmt: skip
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert Counter(t["bracket"] for t in d["trials"]) == {1: 3, 0: 2}
    assert all(set(t) >= {"bracket", "epochs", "pruned_at"} for t in d["trials"])
    for flags, said in ((["--prune"], "no --prune"), (["--trials", "4"], "no --trials")):
        with pytest.raises(SystemExit) as e:
            main([*args, *flags])
        assert e.value.code == 2 and said in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--plan", "--study", study])
    assert e.value.code == 2 and "add --hyperband" in capsys.readouterr().err


def test_the_ladders_of_a_hyperband_round_are_its_plan(tmp_path):
    from bnviz.search.ladder import ladders, latest_pruned_round

    with Study(tmp_path / "hb.sqlite") as study:
        Sweep(study, TINY, SAFE_LR, n=1, epochs=9, hyperband=True, seed=3).run(SerialExecutor())
        trials = study.trials()
    assert latest_pruned_round(trials) == 1
    got = ladders(trials, 1)
    assert [lad.s for lad in got] == [b.s for b in plan(9)]
    for lad, b in zip(got, plan(9)):
        assert [(len(r.ranked), r.epochs) for r in lad.rungs] == list(b.rungs)
        assert [r.kept for r in lad.rungs] == [n for n, _ in b.rungs[1:]] + [0]
        for r in lad.rungs:
            assert list(r.losses) == sorted(r.losses)
