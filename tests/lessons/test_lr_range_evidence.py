"""``bnviz lesson learning-rate-range-test``: how far each twin's range test went, over seeds,
with the evidence module's t interval; and the calibration lesson's own measures."""

from __future__ import annotations

import json
import math

import pytest

from bnviz.cli import main
from bnviz.lessons.calibration import calibration_measures
from bnviz.lessons.lr_range_evidence import lr_range_evidence, range_job
from bnviz.train.config import ConfigError, TrainConfig

SMALL = TrainConfig(dataset="blobs", n_samples=300, hidden=(16, 16), activation="relu",
                    optimizer="sgd", batch_size=32)  # fmt: skip


def test_per_seed_measure_is_log10_of_where_each_test_stopped():
    ev = lr_range_evidence(SMALL, [0, 1], start=1e-3, end=1e4, num_it=60)
    assert ev.lesson == "learning-rate-range-test" and ev.direction == 1
    for r in ev.per_seed:
        config = {k: v for k, v in ev.setting.items() if k not in ("start", "end", "num_it")}
        job = range_job(config, r.seed, 1e-3, 1e4, 60)  # the same test again
        assert r.bn == pytest.approx(math.log10(job["bn"]["last_lr"]))
        assert r.plain == pytest.approx(math.log10(job["plain"]["last_lr"]))
    assert ev.bn.mean == pytest.approx(sum(r.bn for r in ev.per_seed) / 2)
    assert ev.interval.startswith("t over 2 seeds") and ev.verdict in (
        "supports", "refutes", "inconclusive")  # fmt: skip
    with pytest.raises(ConfigError, match="start < end"):
        lr_range_evidence(SMALL, [0], start=1.0, end=0.1)


def test_the_command_runs_the_range_lesson_and_the_calibration_measures(capsys):
    tiny = ["--dataset", "blobs", "--samples", "300", "--hidden", "16", "--workers", "1"]
    assert main(["lesson", "learning-rate-range-test", "--json", "--seeds", "2", "--steps",
                 "40", *tiny]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in out["per_seed"]] == [0, 1] and out["setting"]["num_it"] == 40
    assert set(out["extra"]["runs"]["0"]) == {"bn", "plain"}
    assert main(["lesson", "are-the-probabilities-right", "--json", "--steps", "30", *tiny]) == 0
    cal = json.loads(capsys.readouterr().out)
    assert [n["run"] for n in cal["networks"]] == ["bn", "plain"]  # the preset compares
    assert all(n["temperature"] > 0 and 0 <= n["ece"] <= 1 for n in cal["networks"])


def test_calibration_measures_refuse_zero_steps():
    with pytest.raises(ConfigError, match="steps"):
        calibration_measures(SMALL, steps=0)
