"""Mini-batch noise over seeds: is BN's regularization effect there, and how sure are we?

The course: BN's per-mini-batch mean and variance are noisy, and that noise regularizes
slightly. Regularization shows as a smaller gap between validation and training loss. For every
seed and mini-batch size the experiment of :mod:`bnviz.lessons.batch_noise` trains the network
with BN and without (its job :func:`~bnviz.lessons.batch_noise.train_noise_job`, same seed, same
epochs); the unit is one ``(seed, mini-batch size)`` pair, bootstrapped within each seed.

A caution the numbers carry in ``extra``: a network that has not learned has no gap to speak
of, so a small gap means something only next to the training accuracy; each pair's accuracies
are reported, and pairs where either network diverged are left out.
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
        if bn.diverged or plain.diverged or not math.isfinite(bn.gap + plain.gap):
            left_out.append({"seed": seed, "batch_size": bn.batch_size})
            continue
        units.append(Unit(seed, bn.gap, plain.gap))
        pairs.append({"seed": seed, "batch_size": bn.batch_size,
                      "bn": _numbers(bn), "plain": _numbers(plain)})  # fmt: skip
    if not units:
        raise ConfigError("every training diverged: no gap to compare")
    info = find_lesson_info("mini-batch-noise")
    assert info is not None
    measure = (f"validation minus training loss (eval mode) after {epochs} epochs, per seed and "
               f"mini-batch size b in {', '.join(map(str, sizes))} (smaller gap = more "
               "regularized; the claim: BN's is smaller)")  # fmt: skip
    setting = {**config.to_dict(), "epochs": epochs, "sizes": list(sizes)}
    extra = {"pairs": pairs, "left_out": left_out}
    return summarize("mini-batch-noise", info.claim, measure, setting, -1, units=units,
                     extra=extra)  # fmt: skip


def _numbers(r: NoiseResult) -> dict[str, float]:
    return {"gap": r.gap, "train_loss": r.train_loss, "val_loss": r.val_loss,
            "train_acc": r.train_acc, "val_acc": r.val_acc, "mu_spread": r.mu_spread}  # fmt: skip
