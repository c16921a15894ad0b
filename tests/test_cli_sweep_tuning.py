"""``bnviz sweep --prune``, ``--recheck K`` and ``--export-optuna`` in-process."""

from __future__ import annotations

import json
import sys

import pytest

from bnviz.cli import main

SMALL = ["--samples", "100", "--hidden", "8", "--workers", "1", "--quiet"]
SAFE_LR = ["--lr", "1e-3:1e-1:log"]  # nothing diverges in this range


def sweep(capsys, *flags: str) -> dict:
    assert main(["sweep", *SMALL, *flags, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_prune_stops_two_thirds_at_each_rung_and_keeps_their_curves(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    d = sweep(capsys, "--study", path, "--trials", "9", "--epochs", "9", "--prune", *SAFE_LR)
    trials = d["trials"]
    assert sorted(t["state"] for t in trials) == ["complete"] + ["pruned"] * 8
    # evaluated every epoch up to where each stopped (epoch 1, 3 or 9)
    assert sorted(len(t["curve"]) for t in trials) == [1] * 6 + [3] * 2 + [9]
    per_epoch = trials[0]["curve"][0][0]  # steps in an epoch (80 examples, batch size 32)
    for t in trials:
        steps = [step for step, _ in t["curve"]]
        assert steps == [per_epoch * (k + 1) for k in range(len(steps))]
        assert steps[-1] == t["steps"]
        assert t["curve"][-1][1] == t["val_loss"]
    assert d["best"] == next(t["id"] for t in trials if t["state"] == "complete")


def test_recheck_repeats_the_best_trials_values_under_todays_settings(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    first = sweep(capsys, "--study", path, "--trials", "4", "--epochs", "2", *SAFE_LR)
    ranked = sorted(first["trials"], key=lambda t: (t["val_loss"], t["id"]))
    d = sweep(capsys, "--study", path, "--recheck", "2", "--epochs", "3", "--seed", "9")
    new = d["trials"][4:]
    assert [t["round"] for t in new] == [2, 2]
    assert [t["recheck_of"] for t in new] == [ranked[0]["id"], ranked[1]["id"]]
    assert [t["params"] for t in new] == [ranked[0]["params"], ranked[1]["params"]]
    assert all(t["recheck_of"] is None for t in d["trials"][:4])
    assert all(len(t["curve"]) == 3 for t in new)  # today's --epochs
    # today's --seed: the same values train to other losses
    assert [t["val_loss"] for t in new] != [ranked[0]["val_loss"], ranked[1]["val_loss"]]
    # without --json, each re-check is shown beside the trial it repeats
    assert main(["sweep", *SMALL, "--study", path, "--recheck", "1", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    best = min(d["trials"], key=lambda t: (t["val_loss"], t["id"]))  # a re-check may lead now
    assert f"trial 7 repeats {best['id']}: {best['val_loss']:.4f} -> " in out
    # more than the study has: the ones it has, said on stderr
    assert main(["sweep", *SMALL, "--study", path, "--recheck", "50", "--epochs", "1"]) == 0
    assert "only 7 complete trials to re-check" in capsys.readouterr().err


def test_recheck_of_an_empty_study_and_contradicting_flags_exit_2(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    for flags, message in [
        (["--recheck", "2"], "has no complete trial to re-check"),
        (["--recheck", "2", "--trials", "3"], "leave out --trials"),
        (["--recheck", "2", "--beta", "0.9"], "leave out --beta"),
        (["--recheck", "2", "--prune"], "no --prune"),
        (["--recheck", "0"], "--recheck"),
    ]:
        with pytest.raises(SystemExit) as e:
            main(["sweep", *SMALL, "--study", path, *flags])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def test_export_optuna_without_optuna_says_how_to_get_it_and_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna raises ImportError
    path = str(tmp_path / "s.sqlite")
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--study", path, "--export-optuna", f"sqlite:///{tmp_path}/o.db"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert 'pip install "bnviz[optuna]"' in err and err.count("\n") == 1


def test_export_optuna_writes_the_study_and_only_exports(tmp_path, capsys):
    optuna = pytest.importorskip("optuna")
    path = str(tmp_path / "runs.sqlite")
    d = sweep(capsys, "--study", path, "--trials", "3", "--epochs", "2")
    storage = f"sqlite:///{tmp_path}/optuna.db"
    assert main(["sweep", "--study", path, "--export-optuna", storage, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == d  # no new round: --export-optuna alone only exports
    assert f"exported 3 trials to the Optuna study 'runs' in {storage}" in captured.err
    loaded = optuna.load_study(study_name="runs", storage=storage)
    assert [t.value for t in loaded.trials] == [t["val_loss"] for t in d["trials"]]
    with pytest.raises(SystemExit) as e:  # a second export would duplicate every trial
        main(["sweep", "--study", path, "--export-optuna", storage])
    assert e.value.code == 2
    assert "already has a study named 'runs'" in capsys.readouterr().err
