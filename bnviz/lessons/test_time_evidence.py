"""BN at test time over seeds: one example at a time, with the running averages.

The course: at test time there is no mini-batch, so BN normalizes with running averages of
mu and sigma^2 kept during training. The honest BN-vs-plain question about test time is whether
a BN network, fed one example at a time, predicts as well as its plain twin (which never needed
a batch): each seed trains the twins (compare mode: same initial W, same mini-batches) and
classifies every validation example alone, BN with its running averages
(:func:`bnviz.lessons.bn_at_test_time.eval_modes`' ``running`` mode, which depends on no other
example). ``extra`` holds why the averages exist: the same BN network normalizing each example
with its *own* statistics (variance 0, so every example gets the same output: about chance),
and with each mini-batch's statistics (as in training).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

import numpy as np

from bnviz.lessons.bn_at_test_time import eval_modes
from bnviz.lessons.catalog import find_lesson_info
from bnviz.lessons.seeded import twin_config
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.evidence import Evidence, SeedResult, summarize
from bnviz.train.jobs import Cancel, Progress, run_jobs
from bnviz.train.trainer import Trainer

DEFAULT_STEPS = 3000


def test_time_job(config: dict, seed: int, steps: int) -> dict[str, float]:
    """Train the twins of ``config`` with ``seed`` for ``steps`` steps and evaluate them on the
    validation set one example at a time (a worker job). NaN for a diverged network."""
    trainer = Trainer(twin_config(TrainConfig.from_dict(config), seed))
    trainer.run(steps)
    X, y = trainer.data.X_val, np.asarray(trainer.data.y_val)
    out: dict[str, float] = {}
    for r in trainer.runs:
        if r.diverged_step is not None:
            out[r.name] = float("nan")
            continue
        modes = eval_modes(r.net, X, y, r.config.batch_size)
        out[r.name] = modes["running"].acc
        if r.name == "bn":
            out["bn_own_statistics"] = modes["single"].acc
            out["bn_batch_statistics"] = modes["batch"].acc
    out["chance"] = float(np.max(np.bincount(y)) / len(y))
    return out


def test_time_evidence(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    steps: int = DEFAULT_STEPS,
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
) -> Evidence:
    """Validation accuracy, every example classified alone after ``steps`` steps: the BN
    network with its running averages vs the plain twin, a t interval over seeds. The own-
    statistics accuracy (about chance) and the mini-batch-statistics one are in ``extra``."""
    if not seeds:
        raise ConfigError("give at least one seed")
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    config = twin_config(config, config.seed)
    seeds = [int(s) for s in seeds]
    got = run_jobs(
        test_time_job, [(config.to_dict(), s, steps) for s in seeds], executor=executor,
        cancel=cancel, progress=progress,
        describe=lambda i: f"bn-at-test-time: seed {seeds[i]} ({steps} steps of BN and plain)",
    )  # fmt: skip
    rows = [SeedResult(s, g["bn"], g["plain"]) for s, g in zip(seeds, got, strict=True)]
    extra = {
        key: {str(s): g.get(key, float("nan")) for s, g in zip(seeds, got, strict=True)}
        for key in ("bn_own_statistics", "bn_batch_statistics", "chance")
    }
    info = find_lesson_info("bn-at-test-time")
    assert info is not None
    measure = (f"validation accuracy after {steps} steps, each example classified alone: BN "
               "with its running averages vs the plain twin (the claim: the running averages "
               "make one-example prediction work; higher is better). extra: the same BN network "
               "with each example's own statistics (about chance) and with mini-batch "
               "statistics")  # fmt: skip
    setting = {**config.to_dict(), "steps": steps}
    return summarize("bn-at-test-time", info.claim, measure, setting, 1, per_seed=rows,
                     extra=extra)  # fmt: skip


# Not tests, whatever their names say (a test module importing them must not collect them).
test_time_job.__test__ = False  # type: ignore[attr-defined]
test_time_evidence.__test__ = False  # type: ignore[attr-defined]
