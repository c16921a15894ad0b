"""Mini-batch noise over seeds: is BN's regularization effect there, and how sure are we?

The course: BN's per-mini-batch mean and variance are noisy, and that noise regularizes
slightly. Regularization shows as a smaller gap between validation and training loss. For every
seed and mini-batch size the experiment of :mod:`bnviz.lessons.batch_noise` trains the network
with BN and without (its job :func:`~bnviz.lessons.batch_noise.train_noise_job`, same seed, same
epochs); the unit is one ``(seed, mini-batch size)`` pair, bootstrapped within each seed.

The careful part: a network that has not learned has no gap to speak of (a plain network stuck
at 30% training accuracy has a tiny gap and is not "regularized"), so a pair counts only when
both networks fit their training set, training accuracy >= :data:`FIT_ACC`; the others (and
diverged ones) are listed in ``extra["left_out"]`` with the reason, and every pair's losses and
accuracies are in ``extra["pairs"]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

from bnviz.lessons.batch_noise import (
    DEFAULT_BATCH_SIZES,
    DEFAULT_EPOCHS,
    NoiseResult,
    check_batch_sizes,
    train_noise_job,
)
from bnviz.lessons.catalog import find_lesson_info
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.evidence import Evidence, Unit, summarize
from bnviz.train.jobs import Cancel, Progress, run_jobs
from bnviz.train.trainer import load_data

#: A pair of trainings counts only if both reach this training accuracy (eval mode).
FIT_ACC = 0.9


def batch_noise_evidence(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    sizes: Sequence[int] | None = None,
    epochs: int = DEFAULT_EPOCHS,
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
) -> Evidence:
    """ "BN regularizes slightly", over seeds: the gap between validation and training loss
    (eval mode) after ``epochs`` epochs, BN's vs plain's, per ``(seed, mini-batch size)``.
    ``sizes`` defaults to those of :data:`DEFAULT_BATCH_SIZES` the training set holds. Smaller
    with BN supports the claim."""
    if not seeds:
        raise ConfigError("give at least one seed")
    if epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {epochs}")
    config = replace(config, compare=False).validated()
    n_train = len(load_data(config).X_train)
    if sizes is None:
        sizes = [b for b in DEFAULT_BATCH_SIZES if b <= n_train] or [min(2, n_train)]
    sizes = check_batch_sizes(sizes, n_train)
    seeds = [int(s) for s in seeds]
    jobs = [(replace(config, seed=s), b, bn, epochs) for s in seeds for b in sizes
            for bn in (True, False)]  # fmt: skip
    results: list[NoiseResult] = run_jobs(
        train_noise_job, jobs, executor=executor, cancel=cancel, progress=progress,
        describe=lambda i: (f"mini-batch-noise: seed {jobs[i][0].seed}, b={jobs[i][1]}, "
                            f"{'BN' if jobs[i][2] else 'plain'}"),
    )  # fmt: skip
    units, pairs, left_out = [], [], []
    for k in range(0, len(results), 2):
        seed, bn, plain = jobs[k][0].seed, results[k], results[k + 1]
        pair = {"seed": seed, "batch_size": bn.batch_size}
        if bn.diverged or plain.diverged or not math.isfinite(bn.gap + plain.gap):
            left_out.append({**pair, "why": "diverged"})
            continue
        unfit = [n for n, r in (("BN", bn), ("plain", plain)) if r.train_acc < FIT_ACC]
        pairs.append({**pair, "bn": _numbers(bn), "plain": _numbers(plain)})
        if unfit:
            left_out.append({**pair, "why": f"{' and '.join(unfit)} below {FIT_ACC:.0%} train acc"})
            continue
        units.append(Unit(seed, bn.gap, plain.gap))
    if not units:
        raise ConfigError(
            f"no pair where both networks reached {FIT_ACC:.0%} training accuracy: no gap to "
            "compare (more epochs, or another learning rate)"
        )
    info = find_lesson_info("mini-batch-noise")
    assert info is not None
    measure = (f"validation minus training loss (eval mode) after {epochs} epochs, per seed and "
               f"mini-batch size b in {', '.join(map(str, sizes))}, pairs where both networks "
               f"reach {FIT_ACC:.0%} training accuracy (smaller gap = more regularized; the "
               "claim: BN's is smaller)")  # fmt: skip
    setting = {**config.to_dict(), "epochs": epochs, "sizes": list(sizes)}
    extra = {"pairs": pairs, "left_out": left_out}
    return summarize("mini-batch-noise", info.claim, measure, setting, -1, units=units,
                     extra=extra)  # fmt: skip


def _numbers(r: NoiseResult) -> dict[str, float]:
    return {"gap": r.gap, "train_loss": r.train_loss, "val_loss": r.val_loss,
            "train_acc": r.train_acc, "val_acc": r.val_acc, "mu_spread": r.mu_spread}  # fmt: skip
