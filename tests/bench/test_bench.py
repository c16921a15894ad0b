"""``bnviz bench``: the JSON contract of the quick run (no timing assertions: speed targets are
measured by the benchmark itself, not by tests)."""

from __future__ import annotations

import json

import pytest

from bnviz.bench import bench
from bnviz.cli import main


def test_quick_json_has_six_workload_entries(capsys):
    assert main(["bench", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    entries = report["workloads"]
    assert [(e["name"], e["bn"]) for e in entries] == [
        (w, bn) for w in ("W1", "W2", "W3") for bn in (False, True)
    ]
    for e in entries:
        assert e["steps_per_s"] > 0
        assert e["torch_steps_per_s"] is None or e["torch_steps_per_s"] > 0
    if not bench.torch_available():
        assert report["settings"]["torch"] == "torch not installed"
        assert all(e["torch_steps_per_s"] is None for e in entries)


def test_no_torch_flag_gives_nulls_and_says_so(capsys):
    assert main(["bench", "--quick", "--json", "--no-torch", "--workloads", "W1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["torch"] == "torch not installed"
    assert [e["torch_steps_per_s"] for e in report["workloads"]] == [None, None]


def test_quick_table_and_snapshot_entry(capsys):
    assert main(["bench", "--quick", "--no-torch", "--workloads", "W1", "--snapshots"]) == 0
    out = capsys.readouterr().out
    assert "W1" in out and "Snapshots every 1/30 s" in out


def test_bad_workload_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--workloads", "W9"])
    assert e.value.code == 2 and "W9" in capsys.readouterr().err


def test_gui_flag_without_gui_bench_exits_2(capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "bnviz.bench.gui_bench", None)  # as if it were not installed
    assert main(["bench", "--gui"]) == 2
    assert "not available" in capsys.readouterr().out


def test_blas_env_sets_or_clears_the_thread_variables(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert bench.blas_env(0).get("OPENBLAS_NUM_THREADS") is None
    assert bench.blas_env(3)["OPENBLAS_NUM_THREADS"] == "3"


def test_sweep_speedup_measures_both_ways():
    from bnviz.bench.sweep_bench import measure_sweep_speedup

    r = measure_sweep_speedup(trials=4, epochs=1, workers=2, repeats=1)
    assert r["serial_s"] > 0 and r["pool_trials_s"] > 0 and r["pool_startup_s"] > 0
    # the report rounds times to 1 ms and the speed-up to 0.01: allow for both roundings
    ratio = r["serial_s"] / r["pool_trials_s"]
    slack = 0.005 + ratio * (0.0005 / r["serial_s"] + 0.0005 / r["pool_trials_s"]) + 1e-9
    assert abs(r["speedup_trials"] - ratio) <= slack
    assert r["speedup_wall"] < r["speedup_trials"]  # the pool's start-up is never free


def test_first_minute_default_plain_needs_twice_the_steps_of_bn(capsys):
    """The claim README makes of the default setting (deterministic for a seed)."""
    assert main(["bench", "--first-minute", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["activation"] == "sigmoid" and report["config"]["optimizer"] == "sgd"
    for row in report["rows"]:
        assert row["bn"] is not None and row["plain"] is not None
        assert row["plain"] >= 2 * row["bn"], row


def test_training_flags_are_for_the_gui_bench_only(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--quick", "--hidden", "8"])
    assert e.value.code == 2 and "choose the run of --gui only" in capsys.readouterr().err


def test_the_workloads_take_adam_or_momentum(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--quick", "--optimizer", "sgd"])
    assert e.value.code == 2 and "adam or momentum" in capsys.readouterr().err


def test_a_bad_training_flag_of_the_gui_bench_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--gui", "--lr", "-1"])
    assert e.value.code == 2 and "--lr" in capsys.readouterr().err


def test_parcoords_reports_the_redraw_of_1000_trials(capsys, monkeypatch):
    """The JSON of ``bench --parcoords`` (the figure itself is the benchmark's, not asserted)."""
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["bench", "--parcoords", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["trials"] == 1000 and report["axes"] == 5 and report["repeats"] == 3
    assert report["redraw_ms_max"] >= report["redraw_ms_p50"] > 0
    assert report["brush_ms_p50"] > 0 and report["target_ms"] == 100.0
