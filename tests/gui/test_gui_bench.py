"""``bnviz bench --gui`` in its quick mode: one JSON object with the documented keys (the targets
are the benchmark's business, not the tests')."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from bnviz.bench.gui_bench import run_gui_bench

KEYS = ("redraws_per_s", "latency_ms_p50", "latency_ms_p99", "train_ratio", "first_paint_s")


@pytest.mark.slow
def test_quick_gui_bench_prints_the_figures(qtbot, capsys):
    assert run_gui_bench(SimpleNamespace(json=True, quick=True)) == 0
    report = json.loads(capsys.readouterr().out)
    gui = report["gui"]
    for key in KEYS:
        assert isinstance(gui[key], (int, float)), key
        assert gui[key] >= 0, key
    for key in ("redraws_per_s", "train_ratio", "first_paint_s"):
        assert gui[key] > 0, key
    assert gui["latency_ms_p99"] >= gui["latency_ms_p50"]
