"""``bnviz bench --gui`` in its quick mode: one JSON object with the documented keys, and the
training flags reaching the window's training process (the targets are the benchmark's
business, not the tests')."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from bnviz.bench.bigdata import write_spirals_csv
from bnviz.bench.gui_bench import BENCH_CONFIG, run_gui_bench
from bnviz.cli import main

KEYS = ("redraws_per_s", "latency_ms_p50", "latency_ms_p99", "train_ratio", "first_paint_s")


def check_figures(gui: dict) -> None:
    for key in (*KEYS, "load_s"):
        assert isinstance(gui[key], (int, float)), key
        assert gui[key] >= 0, key
    for key in ("redraws_per_s", "train_ratio", "first_paint_s", "load_s"):
        assert gui[key] > 0, key
    assert gui["latency_ms_p99"] >= gui["latency_ms_p50"]


@pytest.mark.slow
def test_quick_gui_bench_prints_the_figures(capsys):
    assert run_gui_bench(SimpleNamespace(json=True, quick=True)) == 0
    gui = json.loads(capsys.readouterr().out)["gui"]
    check_figures(gui)
    assert gui["config"] == BENCH_CONFIG.to_dict()  # no flags: the bench's own setup
    assert gui["trained"] == {"data": "spirals", "sizes": [[2, 64, 64, 3], [2, 64, 64, 3]]}


@pytest.mark.slow
def test_training_flags_reach_the_trainer_of_the_window(tmp_path, capsys):
    csv = write_spirals_csv(tmp_path / "arms.csv", rows=600, seed=1)
    argv = ["bench", "--gui", "--quick", "--json", "--dataset", str(csv), "--hidden", "12,7"]
    assert main(argv) == 0
    gui = json.loads(capsys.readouterr().out)["gui"]
    check_figures(gui)
    # the file's run, one network (the app's defaults: no compare), 2 inputs, 3 labels
    assert gui["trained"] == {"data": "arms.csv", "sizes": [[2, 12, 7, 3]]}
    assert gui["config"]["hidden"] == [12, 7] and gui["config"]["dataset"] == str(csv)


def test_a_missing_data_file_exits_2_before_measuring(tmp_path, capsys):
    assert main(["bench", "--gui", "--json", "--dataset", str(tmp_path / "no.csv")]) == 2
    captured = capsys.readouterr()
    assert "no.csv: file not found" in captured.err and captured.out == ""


def test_session_flags_are_checked_before_any_window(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--session"])
    assert e.value.code == 2 and "a GUI benchmark: add --gui" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["bench", "--gui", "--session", "--hidden", "8"])
    assert e.value.code == 2 and "--dataset FILE only" in capsys.readouterr().err


def test_a_missing_session_file_exits_2(tmp_path, capsys):
    argv = ["bench", "--gui", "--session", "--json", "--dataset", str(tmp_path / "no.npz")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "no.npz: file not found" in captured.err and captured.out == ""


def test_a_stacks_file_in_a_missing_folder_exits_2_before_any_window(tmp_path, capsys, monkeypatch):
    from bnviz.bench.session_watch import STACKS_ENV

    monkeypatch.setenv(STACKS_ENV, str(tmp_path / "no" / "stacks.json"))
    small = tmp_path / "digits.npz"
    small.write_bytes(b"")  # never read: the refusal comes first
    assert main(["bench", "--gui", "--session", "--dataset", str(small)]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == f"bnviz bench --gui --session: {STACKS_ENV}={tmp_path}/no/stacks.json: no such folder"
    )


@pytest.mark.slow
def test_quick_session_reports_every_action(tmp_path, capsys, monkeypatch):
    from bnviz.bench.bigdata import write_mnist_like
    from bnviz.bench.session_bench import TARGETS
    from bnviz.bench.session_watch import BLOCK_FELT_MS, STACKS_ENV
    from bnviz.gui.lessons import lesson_classes

    stacks = tmp_path / "stacks.json"
    monkeypatch.setenv(STACKS_ENV, str(stacks))  # the session's process inherits it
    small = write_mnist_like(tmp_path / "digits.npz", n_train=600, n_test=100)
    argv = ["bench", "--gui", "--session", "--quick", "--json", "--dataset", str(small)]
    assert main(argv) == 0
    gui = json.loads(capsys.readouterr().out)["gui"]
    lessons = [f"lesson:{name}" for name in lesson_classes()]
    assert list(gui["actions"]) == ["start", "train", "press_b", *lessons, "training_tab",
                                    "open_file", "hyperparameters_tab", "search_round",
                                    "export_plot", "classroom_on", "classroom_off"]  # fmt: skip
    assert all(ms >= 0 for ms in gui["actions"].values())
    assert gui["actions"]["start"] >= gui["construct_ms"] > 0  # the construction is a block
    assert gui["classroom_turned_on"] and gui["latency_ms_p99_any_moment"] >= 0
    blocked = gui["actions_blocked_ms"]
    assert list(blocked) == list(gui["actions"])
    for name, ms in gui["actions"].items():  # the sum of an action's felt blocks holds its longest
        assert blocked[name] >= ms if ms > BLOCK_FELT_MS else blocked[name] >= 0
    excess, target = gui["actions_excess_ms"], TARGETS["latency_ms_p99_any_moment"][1]
    assert list(excess) == list(gui["actions"])
    for name, ms in gui["actions"].items():  # start's longest may be the construction, not a tick
        assert excess[name] >= 0 and (name == "start" or excess[name] >= ms - target - 0.1)
    sampled = json.loads(stacks.read_text())  # blocked stacks, per action, commonest first
    assert set(sampled) <= set(gui["actions"])
    for seen in sampled.values():
        counts = [s["samples"] for s in seen]
        assert counts == sorted(counts, reverse=True) and all(s["stack"] for s in seen)
