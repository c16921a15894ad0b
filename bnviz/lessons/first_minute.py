"""The first minute: how many steps the network with batch norm and its plain twin need to reach
the same validation accuracy (the course: BN speeds up learning).

:func:`steps_to_targets` trains one compare-mode run (same initial W, same mini-batches) and
notes, per accuracy target, the first evaluated step at which each network reached it;
``bnviz bench --first-minute`` quotes it per seed, and :func:`first_minute_evidence` turns it
into the lesson's claim measured over seeds (``bnviz lesson first-minute``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

from bnviz.lessons.catalog import find_lesson_info
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.evidence import Evidence, SeedResult, summarize
from bnviz.train.jobs import Cancel, Progress, run_jobs
from bnviz.train.trainer import Trainer

TARGETS = (0.8, 0.9)
EVAL_EVERY = 25  # steps between evaluations: the resolution of the figures
DEFAULT_TARGET = 0.9
DEFAULT_MAX_STEPS = 4000


def steps_to_targets(
    config: TrainConfig, steps: int, targets: tuple[float, ...] = TARGETS
) -> dict[str, dict[float, int | None]]:
    """For each network of a BN-vs-plain compare-mode run of ``config``: target -> first
    evaluated step reaching it (None if it never did within ``steps``)."""
    trainer = Trainer(replace(config, compare=True, compare_setting="batchnorm", compare_value=""))
    first: dict[str, dict[float, int | None]] = {
        r.name: dict.fromkeys(targets) for r in trainer.runs
    }
    while trainer.step_count < steps:
        trainer.run(EVAL_EVERY)
        trainer.evaluate(outputs=False)
        for m in trainer.metrics[-len(trainer.runs) :]:
            for t in targets:
                if first[m["run"]][t] is None and m["val_acc"] >= t:
                    first[m["run"]][t] = trainer.step_count
        if all(v is not None for run in first.values() for v in run.values()):
            break
    return first


def first_minute_job(config: dict, seed: int, target: float, max_steps: int) -> dict:
    """A worker job: :func:`steps_to_targets` of ``config`` with ``seed`` for one target."""
    found = steps_to_targets(replace(TrainConfig.from_dict(config), seed=seed), max_steps,
                             (target,))  # fmt: skip
    return {run: steps[target] for run, steps in found.items()}


def first_minute_evidence(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    target: float = DEFAULT_TARGET,
    max_steps: int = DEFAULT_MAX_STEPS,
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
) -> Evidence:
    """ "Plain needs more steps than BN", over seeds: the first evaluated step (every
    :data:`EVAL_EVERY`) at which each network's validation accuracy reaches ``target``; a
    network that never does within ``max_steps`` counts as ``max_steps`` (censored: the
    difference is then a lower bound, and ``extra["censored"]`` names it). t interval over
    seeds; fewer steps with BN supports the claim."""
    if not seeds:
        raise ConfigError("give at least one seed")
    if not 0 < target <= 1:
        raise ConfigError(f"the target accuracy must be in (0, 1], got {target}")
    if max_steps < EVAL_EVERY:
        raise ConfigError(f"max_steps must be >= {EVAL_EVERY}, got {max_steps}")
    config = replace(config, compare=True, compare_setting="batchnorm",
                     compare_value="").validated()  # fmt: skip
    seeds = [int(s) for s in seeds]
    got = run_jobs(
        first_minute_job, [(config.to_dict(), s, target, max_steps) for s in seeds],
        executor=executor, cancel=cancel, progress=progress,
        describe=lambda i: f"first-minute: seed {seeds[i]} (BN and plain to {target:.0%})",
    )  # fmt: skip
    rows, censored = [], []
    for s, g in zip(seeds, got, strict=True):
        for run in ("bn", "plain"):
            if g[run] is None:
                censored.append({"seed": s, "network": run})
        rows.append(SeedResult(s, float(g["bn"] or max_steps), float(g["plain"] or max_steps)))
    info = find_lesson_info("first-minute")
    assert info is not None
    measure = (f"training steps until the validation accuracy first reaches {target:.0%} "
               f"(evaluated every {EVAL_EVERY} steps; never within {max_steps} counts as "
               f"{max_steps}); the claim: BN needs fewer")  # fmt: skip
    setting = {**config.to_dict(), "target": target, "max_steps": max_steps}
    extra = {"censored": censored, "ratio_plain_over_bn": {
        str(r.seed): r.plain / r.bn for r in rows}}  # fmt: skip
    return summarize("first-minute", info.claim, measure, setting, -1, per_seed=rows,
                     extra=extra)  # fmt: skip
