"""Repeated seeds (issue 20, ``--repeats K``): groups, their seeds, their statistics, and the
best by mean."""

from __future__ import annotations

import json
import math

import pytest

from bnviz.cli import main
from bnviz.search.groups import best_id, group_stats, spread
from bnviz.search.spaces import parse_space
from bnviz.search.study import Study, TrialRecord
from bnviz.search.sweep import SerialExecutor, Sweep, SweepError, sweep_json
from bnviz.train.config import TrainConfig

TINY = TrainConfig(n_samples=100, hidden=(8,), batch_size=16, optimizer="momentum", seed=5)
LR = [parse_space("lr", "1e-2:1e-1:log")]


def record(i: int, group: int | None, loss: float | None, state: str = "complete") -> TrialRecord:
    return TrialRecord(
        params={"lr": 0.1}, val_loss=loss, val_acc=None, best_val_loss=loss, best_val_acc=None,
        diverged=state == "diverged", diverged_step=3 if state == "diverged" else None,
        seconds=1.0, steps=10, state=state, id=i, round=1, finished_at="", group=group,
    )  # fmt: skip


def test_group_statistics_use_n_minus_1_and_the_best_is_the_best_mean():
    trials = [
        record(1, 1, 1.0), record(2, 1, 2.0), record(3, 1, 3.0),  # mean 2, sd 1
        record(4, 4, 0.5), record(5, 4, math.nan, "diverged"), record(6, 4, 0.4),
        record(7, 7, 1.9), record(8, 7, 1.9), record(9, 7, 1.9),  # mean 1.9, sd 0
    ]  # fmt: skip
    stats = {g.group: g for g in group_stats(trials)}
    assert (stats[1].n, stats[1].val_loss_mean, stats[1].val_loss_sd) == (3, 2.0, 1.0)
    assert stats[4].n == 2 and not stats[4].whole  # a seed diverged: never the best
    assert stats[7].val_loss_sd == 0.0 and stats[7].trials == (7, 8, 9)
    assert best_id(trials) == 7  # not 5's group (0.45 over the seeds that did not diverge)
    assert best_id([*trials, record(10, None, 1.5)]) == 10  # an ungrouped trial competes too


def test_a_round_of_repeats_trains_each_configuration_with_k_seeds(tmp_path):
    with Study(tmp_path / "r.sqlite") as study:
        sweep = Sweep(study, TINY, LR, n=3, epochs=2, seed=1, repeats=3)
        assert len(sweep.specs()) == 9
        sweep.run(SerialExecutor())
        trials = study.trials()
        d = sweep_json(study)
    groups: dict[int, list[TrialRecord]] = {}
    for t in trials:
        groups.setdefault(t.group, []).append(t)
    assert len(groups) == 3
    for gid, members in groups.items():
        assert gid == min(t.id for t in members)  # the id of the group's first trial
        assert len({json.dumps(t.params) for t in members}) == 1  # the same values
        assert sorted(t.seed for t in members) == [5, 6, 7]  # seed, seed + 1, seed + 2
        assert len({t.val_loss for t in members}) == 3  # the seeds do differ
    assert [g["group"] for g in d["groups"]] == sorted(groups)
    means = {g["group"]: g["val_loss_mean"] for g in d["groups"]}
    assert d["best"] == min(means, key=means.get)
    for g in d["groups"]:
        losses = [t.val_loss for t in groups[g["group"]]]
        assert g["n"] == 3 and g["val_loss_mean"] == pytest.approx(sum(losses) / 3)
        m = sum(losses) / 3
        assert g["val_loss_sd"] == pytest.approx(math.sqrt(sum((v - m) ** 2 for v in losses) / 2))
    assert {t["seed"] for t in d["trials"]} == {5, 6, 7}


def test_repeats_refuse_pruning(tmp_path, capsys):
    with Study(tmp_path / "r.sqlite") as study, pytest.raises(SweepError, match="no pruning"):
        Sweep(study, TINY, LR, n=3, epochs=9, prune=True, repeats=2)
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--repeats", "2", "--prune", "--study", str(tmp_path / "x.sqlite")])
    assert e.value.code == 2 and "--repeats trains every configuration" in capsys.readouterr().err


def test_the_cli_reports_groups_in_json(tmp_path, capsys):
    study = str(tmp_path / "c.sqlite")
    assert main(["sweep", "--repeats", "2", "--trials", "2", "--epochs", "1", "--samples",
                 "100", "--hidden", "8", "--study", study, "--quiet", "--json",
                 "--workers", "1"]) == 0  # fmt: skip
    d = json.loads(capsys.readouterr().out)
    assert len(d["trials"]) == 4 and len(d["groups"]) == 2
    assert all(set(g) >= {"group", "n", "val_loss_mean", "val_loss_sd"} for g in d["groups"])
    assert d["best"] in {g["group"] for g in d["groups"]}


def test_by_group_plots_a_whole_group_at_its_mean_and_a_broken_one_as_its_failure():
    from bnviz.search.groups import by_group

    trials = [
        record(1, 1, 1.0), record(2, 1, 3.0),
        record(3, 3, 0.5), record(4, 3, math.nan, "diverged"),
        record(5, None, 0.7),
    ]  # fmt: skip
    shown, stats = by_group(trials)
    assert [t.id for t in shown] == [1, 4, 5]
    assert shown[0].val_loss == 2.0 and shown[1].state == "diverged"
    assert stats[1].val_loss_sd == pytest.approx(math.sqrt(2))


def test_a_recheck_of_a_study_with_repeats_reruns_the_best_groups_by_mean(tmp_path):
    from bnviz.search.recheck import recheck_pairs

    with Study(tmp_path / "r.sqlite") as study:
        Sweep(study, TINY, LR, n=3, epochs=1, seed=1, repeats=2).run(SerialExecutor())
        before = study.trials()
        means = {g.group: g.val_loss_mean for g in group_stats(before)}
        sweep = Sweep.recheck(study, TINY, 2, epochs=2, seed=9)
        assert sweep.repeats == 2 and len(sweep.specs()) == 4
        sweep.run(SerialExecutor())
        after = study.trials()
    best_two = sorted(means, key=means.get)[:2]
    new = [t for t in after if t.round == 2]
    assert sorted({t.recheck_of for t in new}) == sorted(best_two)  # groups, by their mean
    assert all(t.group is not None for t in new)
    pairs = recheck_pairs(after, 2)
    assert len(pairs) == 2
    for p in pairs:
        assert p.then_loss == pytest.approx(means[p.then_id])
        now = [t.val_loss for t in new if t.group == p.now_id]
        assert len(now) == 2 and p.now_loss == pytest.approx(sum(now) / 2)


def test_the_cli_rechecks_groups_by_their_means(tmp_path, capsys):
    study = str(tmp_path / "g.sqlite")
    small = ["--samples", "100", "--hidden", "8", "--study", study, "--quiet", "--workers", "1"]
    assert main(["sweep", "--repeats", "2", "--trials", "3", "--epochs", "1", *small]) == 0
    capsys.readouterr()
    assert main(["sweep", "--recheck", "2", "--epochs", "2", *small]) == 0
    out = capsys.readouterr().out
    assert "re-checked (mean val loss over the seeds, then -> now):" in out
    assert len([line for line in out.splitlines() if " repeats group " in line]) == 2


def test_spread_is_each_whole_groups_sd_over_seeds_at_its_plotted_id():
    trials = [record(1, 1, 0.2), record(2, 1, 0.4), record(3, 3, 0.5),
              record(4, 3, None, "diverged"), record(5, None, 0.3), record(6, 6, 0.7)]  # fmt: skip
    got = spread(trials, "val_loss")
    assert list(got) == [1]  # group 3 lost a seed; group 6 has one result; 5 is no group
    assert got[1] == pytest.approx(math.sqrt(0.02))  # sd of 0.2, 0.4 with n - 1
    assert got[1] == pytest.approx(group_stats(trials)[0].val_loss_sd)


def test_repeats_with_pair_bn_are_refused_and_say_where_seeds_go(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--repeats", "2", "--pair-bn", "--study", str(tmp_path / "x.sqlite")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "bn-makes-the-search-easier --seeds K" in err
    last = err.strip().splitlines()[-1]  # one line after the usage says all of it
    assert "--repeats with --pair-bn" in last and "--seeds K" in last
