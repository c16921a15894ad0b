"""Seeded BN-vs-plain experiments of the lessons that watch a run: the loss landscape and
covariate shift, measured over several seeds with an interval (:mod:`bnviz.train.evidence`).

Each seed trains the BN network and its plain twin in compare mode (same initial W, same
mini-batches) in a worker process, measuring both every ``every`` steps with the lesson's own
Qt-free measurement (:func:`bnviz.lessons.landscape.landscape`,
:func:`bnviz.lessons.covariate_shift.covariate_shift`), exactly what the live views plot. The
design's unit is one measurement of the twins at one step: the pairs ``(seed, step)``, bootstrapped
within each seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import numpy as np

from bnviz.lessons.catalog import find_lesson_info
from bnviz.lessons.covariate_shift import SHIFT_EVERY, covariate_shift
from bnviz.lessons.landscape import DEFAULT_ETA_FACTORS, LANDSCAPE_EVERY, landscape
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.evidence import Evidence, Unit, stratified_bootstrap, summarize
from bnviz.train.jobs import Cancel, Progress, run_jobs
from bnviz.train.trainer import Run, Trainer

DEFAULT_STEPS = 2000
#: What a measurement returns per network: named numbers, the first one the headline.
Measurement = dict[str, float]
Measure = Callable[[Trainer, Run, dict], Measurement]


def twin_config(config: TrainConfig, seed: int) -> TrainConfig:
    """``config`` as BN-vs-plain twins (compare mode) with ``seed``; validated."""
    return replace(config, seed=seed, compare=True, compare_setting="batchnorm",
                   compare_value="").validated()  # fmt: skip


def check_run(steps: int, every: int, seeds: Sequence[int]) -> None:
    """Refuse an experiment that would measure nothing (one line for the user)."""
    if not seeds:
        raise ConfigError("give at least one seed")
    if every < 1 or steps < every:
        raise ConfigError(f"steps ({steps}) must be >= every ({every}) >= 1: nothing to measure")


def twin_series(
    config: dict, seed: int, steps: int, every: int, measure: Measure, options: dict
) -> list[tuple[int, Measurement, Measurement]]:
    """Train ``config``'s twins with ``seed`` for ``steps`` steps; every ``every`` steps
    ``(step, bn's measurement, plain's)`` (a worker job). A step where either network has
    diverged is left out."""
    trainer = Trainer(twin_config(TrainConfig.from_dict(config), seed))
    runs = {r.name: r for r in trainer.runs}
    out = []
    while trainer.step_count + every <= steps:
        trainer.run(every)
        if any(r.diverged_step is not None for r in runs.values()):
            continue
        with np.errstate(all="ignore"):
            bn, plain = (measure(trainer, runs[n], options) for n in ("bn", "plain"))
        if all(np.isfinite(v) for m in (bn, plain) for v in m.values()):
            out.append((trainer.step_count, bn, plain))
    return out


def landscape_measure(trainer: Trainer, run: Run, options: dict) -> Measurement:
    """The landscape on the last mini-batch: the band's width ``max - min L(w - eta g)``
    (headline), the largest gradient change and the effective beta-smoothness."""
    X, y = trainer.last_batch
    lr = run.opt.hyper.lr
    got = landscape(run.net, X, y, [f * lr for f in options["factors"]])
    band = float(got.loss.max() - got.loss.min())
    return {"band": band, "grad_change": float(got.grad_change.max()),
            "beta_smoothness": got.beta_smoothness}  # fmt: skip


def shift_measure(trainer: Trainer, run: Run, options: dict) -> Measurement:
    """How one step moves the input of ``options["layer"]``: the 1-Wasserstein distance per
    unit (headline), the change of mean and sd, and Santurkar et al.'s relative gradient
    change."""
    X, y = trainer.last_batch
    net = run.net
    layer = min(max(options["layer"], 2), net.n_layers)
    s = covariate_shift(net, run.opt, X, y, trainer.probe_batch, layer, trainer.epoch)
    return {"w1": s.w1, "d_mean": s.d_mean, "d_std": s.d_std, "grad_relative": s.grad_relative}


def series_evidence(
    lesson: str,
    measure_text: str,
    direction: int,
    config: TrainConfig,
    seeds: Sequence[int],
    measure: Measure,
    options: dict,
    *,
    steps: int,
    every: int,
    executor: Executor | None,
    cancel: Cancel,
    progress: Progress,
) -> Evidence:
    """Run :func:`twin_series` for every seed and summarize the headline (the measurement's
    first number) over the ``(seed, step)`` pairs; the other numbers' means go in ``extra``."""
    check_run(steps, every, seeds)
    config = twin_config(config, config.seed)
    seeds = [int(s) for s in seeds]
    series = run_jobs(
        twin_series,
        [(config.to_dict(), s, steps, every, measure, options) for s in seeds],
        executor=executor, cancel=cancel, progress=progress,
        describe=lambda i: f"{lesson}: seed {seeds[i]} ({steps} steps of BN and plain)",
    )  # fmt: skip
    units: list[Unit] = []
    extra: dict[str, Any] = {"pairs_per_seed": {}, "means": {}}
    for seed, rows in zip(seeds, series, strict=True):
        extra["pairs_per_seed"][str(seed)] = len(rows)
        if not rows:
            raise ConfigError(f"seed {seed}: a network diverged before every measurement")
        head = next(iter(rows[0][1]))
        units += [Unit(seed, bn[head], plain[head]) for _, bn, plain in rows]
    names = list(series[0][0][1]) if series and series[0] else []
    for side, k in (("bn", 1), ("plain", 2)):
        extra["means"][side] = {
            n: float(np.mean([row[k][n] for rows in series for row in rows])) for n in names
        }
    # every other number with its own paired difference and interval: the headline is one
    # choice, and the others may tell another story (covariate shift's mean and sd)
    extra["differences"] = {
        n: stratified_bootstrap(
            [np.array([bn[n] - plain[n] for _, bn, plain in rows]) for rows in series]
        ).to_json()
        for n in names[1:]
    }
    # the share of measurements where BN's headline is the smaller: the view's "how often"
    extra["share_bn_smaller"] = float(np.mean([u.bn < u.plain for u in units]))
    info = find_lesson_info(lesson)
    assert info is not None
    setting = {**config.to_dict(), "steps": steps, "every": every, **_plain(options)}
    return summarize(lesson, info.claim, measure_text, setting, direction, units=units,
                     extra=extra)  # fmt: skip


def _plain(options: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def landscape_evidence(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    steps: int = DEFAULT_STEPS,
    every: int = LANDSCAPE_EVERY,
    factors: Sequence[float] = DEFAULT_ETA_FACTORS,
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
) -> Evidence:
    """ "BN makes the loss smoother", over seeds: the width of the band of losses
    ``L(w - eta g)`` reached along the gradient (eta = ``factors`` x the learning rate), BN's
    vs plain's at the same step of the same run. Narrower with BN supports the claim."""
    text = (f"width of the band of losses max - min L(w - eta g) along the mini-batch gradient, "
            f"eta = {', '.join(f'{f:g}' for f in factors)} x the learning rate, every {every} "
            f"steps up to {steps} (smaller = smoother; the claim: BN's is smaller)")  # fmt: skip
    return series_evidence(
        "loss-landscape", text, -1, config, seeds, landscape_measure,
        {"factors": tuple(float(f) for f in factors)}, steps=steps, every=every,
        executor=executor, cancel=cancel, progress=progress,
    )  # fmt: skip


def covariate_shift_evidence(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    steps: int = DEFAULT_STEPS,
    every: int = SHIFT_EVERY,
    layer: int = 2,
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
) -> Evidence:
    """ "BN reduces covariate shift", over seeds: how far one optimizer step moves the input of
    ``layer`` (1-Wasserstein distance per unit on a fixed probe batch), BN's vs plain's at the
    same step of the same run. Smaller with BN supports the claim."""
    text = (f"1-Wasserstein distance between the input of layer {layer} (a of layer "
            f"{layer - 1}) before and after one optimizer step, mean over units, on a fixed probe "
            f"batch, every {every} steps up to {steps} (the claim: BN's is smaller)")  # fmt: skip
    return series_evidence(
        "covariate-shift", text, -1, config, seeds, shift_measure, {"layer": layer},
        steps=steps, every=every, executor=executor, cancel=cancel, progress=progress,
    )  # fmt: skip
