"""``bnviz sweep`` in-process: the --json layout, appended rounds, report-only, bad input."""

from __future__ import annotations

import json
import math

import pytest

from bnviz.cli import main

SMALL = ["--samples", "100", "--hidden", "8", "--epochs", "1", "--workers", "1", "--quiet"]
TRIAL_KEYS = {"id", "round", "params", "val_loss", "val_acc", "diverged", "seconds"}
# every key of the first release, which --json keeps; then the trial's state and failure reason
FIRST_RELEASE_KEYS = TRIAL_KEYS | {"best_val_loss", "best_val_acc", "diverged_step", "steps"}
STATE_KEYS = {"state", "error"}
# the learning curve, the trial a re-check repeats, sampled or babysat; Hyperband's bracket,
# the epochs trained, why a pruned trial stopped; its group of repeats, its training seed
LATER_KEYS = {"curve", "recheck_of", "kind", "bracket", "epochs", "pruned_at", "group", "seed"}


def sweep(capsys, *flags: str) -> dict:
    assert main(["sweep", *SMALL, *flags, "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)  # the whole of stdout is one JSON object


def test_json_layout_and_a_second_round(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    first = sweep(capsys, "--study", path, "--trials", "3", "--batch-size", "16:64:pow2")
    assert first["study"] == path
    assert len(first["trials"]) == 3
    for t in first["trials"]:
        assert set(t) == FIRST_RELEASE_KEYS | STATE_KEYS | LATER_KEYS
        assert t["recheck_of"] is None
        assert [step for step, _ in t["curve"]] == [t["steps"]]  # one epoch: one evaluation
        assert t["curve"][-1][1] == t["val_loss"]
        assert t["state"] == "complete" and t["error"] is None
        assert set(t["params"]) == {"batch_size"}  # dashes become underscores
        assert t["params"]["batch_size"] in (16, 32, 64)
        assert t["round"] == 1 and t["diverged"] is False and math.isfinite(t["val_loss"])
    best = min(first["trials"], key=lambda t: t["val_loss"])
    assert first["best"] == best["id"]
    second = sweep(capsys, "--study", path, "--trials", "2", "--lr", "1e-3:1e-1:log")
    assert [t["round"] for t in second["trials"]] == [1, 1, 1, 2, 2]
    assert all(set(t["params"]) == {"lr"} for t in second["trials"][3:])


def test_default_spaces_are_lr_and_beta(tmp_path, capsys):
    d = sweep(capsys, "--study", str(tmp_path / "s.sqlite"), "--trials", "2")
    assert all(set(t["params"]) == {"lr", "beta"} for t in d["trials"])


def test_trials_0_only_reports(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    before = sweep(capsys, "--study", path, "--trials", "2")
    assert sweep(capsys, "--study", path, "--trials", "0") == before


def test_the_table_lists_the_best_trials(tmp_path, capsys):
    path = str(tmp_path / "s.sqlite")
    assert main(["sweep", *SMALL, "--study", path, "--trials", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "3 trials in 1 round" in lines[0]
    assert "lr" in lines[1] and "beta" in lines[1] and "val loss" in lines[1]
    assert len(lines) == 5


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--lr", "1:1e-3:log"], "min must be < max"),
        (["--lr", "0:1:log"], "log scale needs 0 < min"),
        (["--beta", "0.9:1:1m"], "1m"),
        (["--batch-size", "10:64:pow2"], "powers of two"),
        (["--trials", "-1"], "--trials"),
        (["--width", "0:4:int"], "width: must be a whole number 1..4096"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        main(["sweep", *SMALL, "--study", str(tmp_path / "s.sqlite"), *flags])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("bnviz sweep: error:")


def test_a_file_that_is_not_a_study_is_refused(tmp_path, capsys):
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database " * 100)
    with pytest.raises(SystemExit) as e:
        main(["sweep", *SMALL, "--study", str(path), "--trials", "1"])
    assert e.value.code == 2
    assert "not a bnviz study" in capsys.readouterr().err


def test_a_round_whose_trials_all_fail_says_so_and_exits_1(tmp_path, capsys, monkeypatch):
    import bnviz.search.sweep as sweep_mod

    def broken(spec, until=None, paused=None):
        raise RuntimeError("worker fell over")

    monkeypatch.setattr(sweep_mod, "run_segment", broken)
    rc = main(
        [
            "sweep",
            "--trials",
            "3",
            "--epochs",
            "1",
            "--workers",
            "1",
            "--samples",
            "100",
            "--study",
            str(tmp_path / "f.sqlite"),
        ]
    )
    captured = capsys.readouterr()
    assert rc == 1
    assert captured.err.count("worker fell over") == 3
    assert "every trial of this round failed" in captured.err
    assert "(0 diverged, 3 failed of 3 trials)" in captured.out
    assert captured.out.count("failed: RuntimeError: worker fell over") == 3


@pytest.mark.parametrize(
    "flag", [["--compare"], ["--compare-setting", "lr"], ["--compare-value", "1"]]
)
def test_sweep_has_no_compare_flags(tmp_path, flag):
    """A sweep trains single networks: compare flags would do nothing, so there are none."""
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--study", str(tmp_path / "s.sqlite"), *flag])
    assert e.value.code == 2
