"""``bnviz lesson``: the list, one-line errors, the --json object, flags over the preset."""

from __future__ import annotations

import json

import pytest

from bnviz.cli import main
from bnviz.lessons.catalog import LESSONS
from bnviz.lessons.presets import load_preset
from bnviz.train.config import TrainConfig

ISSUE_KEYS = {"lesson", "claim", "measure", "setting", "seeds", "per_seed", "bn", "plain",
              "difference", "verdict"}  # fmt: skip
TINY = ["--workers", "1", "--hidden", "8,8", "--samples", "120"]


def _json(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_list_names_every_lesson_with_its_title(capsys):
    assert main(["lesson", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [tuple(line.split("  ", 1)) for line in lines] == [(i.name, i.title) for i in LESSONS]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["lesson", "nope"], "no lesson named 'nope'; choose inside-a-bn-unit, bn-at-test-time"),
        (["lesson"], "name a lesson"),
        (["lesson", "loss-landscape", "--epochs", "3"], "--epochs does not apply"),
        (["lesson", "loss-landscape", "--preset", "nope"], "--preset: no preset named 'nope'"),
        (["lesson", "loss-landscape", "--lr", "0"], "learning rate must be > 0"),
        (["lesson", "loss-landscape", "--steps", "50"], "nothing to measure"),
        (["lesson", "inside-a-bn-unit", "--seeds", "5"], "no --seeds"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    with pytest.raises(SystemExit) as e:
        main([*argv, "--workers", "1"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err


def test_loss_landscape_json_has_the_issues_shape_on_the_lessons_preset(capsys):
    out = _json(capsys, ["lesson", "loss-landscape", "--seeds", "2", "--json", "--steps", "200",
                         *TINY])  # fmt: skip
    assert ISSUE_KEYS <= set(out) and out["lesson"] == "loss-landscape"
    assert out["seeds"] == [0, 1] and [r["seed"] for r in out["per_seed"]] == [0, 1]
    assert out["bn"]["mean"] == pytest.approx(sum(r["bn"] for r in out["per_seed"]) / 2)
    assert len(out["difference"]["ci95"]) == 2
    assert out["verdict"] in ("supports", "refutes", "inconclusive")
    preset = load_preset("loss-landscape").config
    # the flags override the preset; the rest is the preset's (digits, sigmoid, SGD at 0.1)
    assert out["setting"]["hidden"] == [8, 8] and out["setting"]["n_samples"] == 120
    assert (out["setting"]["dataset"], out["setting"]["lr"]) == (preset.dataset, preset.lr)


def test_another_preset_and_seed_are_taken(capsys):
    out = _json(capsys, ["lesson", "covariate-shift", "--seeds", "2", "--json", "--steps", "100",
                         "--preset", "inside-a-bn-unit", "--seed", "5", *TINY])  # fmt: skip
    assert out["seeds"] == [5, 6] and ISSUE_KEYS <= set(out)
    assert out["setting"]["dataset"] == load_preset("inside-a-bn-unit").config.dataset


def test_the_table_says_the_verdict_and_progress_goes_to_stderr(capsys):
    assert main(["lesson", "first-minute", "--steps", "50", *TINY]) == 0
    captured = capsys.readouterr()
    assert "verdict: " in captured.out and "95% interval" in captured.out
    assert "first-minute: seed 2" in captured.err and "verdict" not in captured.err


def test_lessons_without_a_pair_print_their_own_measures(capsys):
    unit = _json(capsys, ["lesson", "inside-a-bn-unit", "--json", "--steps", "20", *TINY])
    assert unit["ok"] is True and len(unit["checks"]) == 4 * 2  # 4 identities x 2 layers
    signals = _json(capsys, ["lesson", "babysitting-signals", "--json", "--steps", "20", *TINY])
    assert [r["layer"] for r in signals["layers"]] == [1, 2, 3]
    assert all(r["ratio"] == pytest.approx(r["update_norm"] / r["weight_norm"])
               for r in signals["layers"])  # fmt: skip


def test_a_settings_file_replaces_the_preset(tmp_path, capsys):
    path = tmp_path / "mine.json"
    TrainConfig(hidden=(6,), n_samples=120, lr=0.3).save(path)
    out = _json(capsys, ["lesson", "first-minute", "--json", "--seeds", "2", "--steps", "50",
                         "--settings", str(path), "--workers", "1"])  # fmt: skip
    assert (out["setting"]["hidden"], out["setting"]["lr"]) == ([6], 0.3)
    with pytest.raises(SystemExit) as e:
        main(["lesson", "first-minute", "--settings", str(path), "--preset", "loss-landscape"])
    assert e.value.code == 2 and "choose one" in capsys.readouterr().err
