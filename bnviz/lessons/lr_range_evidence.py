"""The range-test lesson's claim over seeds: with BN a network trains at much higher learning
rates (``bnviz lesson learning-rate-range-test``).

Per seed, one range test of the twins (same start, same mini-batches,
:func:`bnviz.lessons.lr_range.range_test`); the measure is log10 of the learning rate at which
each test stopped (how far up the range the network went before its smoothed loss passed 4x its
best). The claim says BN's is larger. ``extra`` keeps each seed's stop, lr and suggestions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

from bnviz.lessons.catalog import find_lesson_info
from bnviz.lessons.lr_range import check_range, range_test
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.evidence import Evidence, SeedResult, summarize
from bnviz.train.jobs import Cancel, Progress, run_jobs

LESSON = "learning-rate-range-test"
# The lesson's own range: wide enough that both twins of its setting blow up inside it.
LESSON_START, LESSON_END, LESSON_NUM_IT = 1e-5, 1000.0, 300


def range_job(config: dict, seed: int, start: float, end: float, num_it: int) -> dict:
    """A worker job: the twins' range test with ``seed``; per run its stop and suggestions."""
    c = replace(TrainConfig.from_dict(config), seed=seed)
    return {
        ("bn" if curve.batchnorm else "plain"): {
            "last_lr": curve.last_lr, "steps": len(curve.lrs), "stop": curve.stop,
            "suggestions": curve.suggestions,
        }
        for curve in range_test(c, start=start, end=end, num_it=num_it)
    }  # fmt: skip


def lr_range_evidence(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    start: float = LESSON_START,
    end: float = LESSON_END,
    num_it: int = LESSON_NUM_IT,
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
) -> Evidence:
    """How far up the learning-rate range each twin's test went, BN vs plain, over seeds (t
    interval of log10 lr; a larger one with BN supports the claim)."""
    if not seeds:
        raise ConfigError("give at least one seed")
    check_range(start, end, num_it)
    config = replace(config, compare=True, compare_setting="batchnorm", compare_value="",
                     lr_decay=0.0).validated()  # fmt: skip
    seeds = [int(s) for s in seeds]
    got = run_jobs(
        range_job, [(config.to_dict(), s, start, end, num_it) for s in seeds],
        executor=executor, cancel=cancel, progress=progress,
        describe=lambda i: f"{LESSON}: seed {seeds[i]} (BN and plain, {num_it} steps)",
    )  # fmt: skip
    rows = [SeedResult(s, math.log10(g["bn"]["last_lr"]), math.log10(g["plain"]["last_lr"]))
            for s, g in zip(seeds, got, strict=True)]  # fmt: skip
    info = find_lesson_info(LESSON)
    assert info is not None
    measure = (f"log10 of the learning rate at which the range test stopped (its smoothed loss "
               f"passed 4x its best, or NaN; lr from {start:g} to {end:g} over {num_it} "
               "mini-batches); the claim: larger with BN")  # fmt: skip
    setting = {**config.to_dict(), "start": start, "end": end, "num_it": num_it}
    ratios = {str(r.seed): 10 ** (r.bn - r.plain) for r in rows}
    extra = {"runs": {str(s): g for s, g in zip(seeds, got, strict=True)},
             "ratio_bn_over_plain": ratios}  # fmt: skip
    return summarize(LESSON, info.claim, measure, setting, +1, per_seed=rows, extra=extra)
