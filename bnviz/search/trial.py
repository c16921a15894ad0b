"""One trial of a sweep: what a worker is sent (:class:`TrialSpec`) and what it does with it.

A trial trains one sampled configuration in a worker (a spawned process, a Dask worker, or
in-process) and returns a picklable :class:`TrialResult`; it never touches the study. Under
successive halving a trial runs in segments, rung by rung: a segment that stops before the
trial's budget also returns a :class:`Paused` checkpoint, and the next segment, in whichever
worker gets it, continues from there bit for bit (no step is trained twice).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from bnviz.search.executors import SweepError
from bnviz.search.study import TrialResult, TrialState
from bnviz.train.config import SAMPLED, ConfigError, TrainConfig


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs to run one trial; picklable, holds no data arrays.

    ``config`` is a :meth:`TrainConfig.to_dict` with the sampled values applied (the data set
    is rebuilt from it in the worker, deterministically by seed); ``params`` are the sampled
    values by flag name (``lr``, ``beta``, ``batch_size``...); ``index`` is the trial's place
    in the round's sample.
    """

    config: dict
    params: dict
    epochs: int
    index: int


@dataclass(frozen=True)
class Paused:
    """A trial stopped after ``epochs`` epochs, to be continued: its trainer's checkpoint
    (:meth:`bnviz.train.trainer.Trainer.checkpoint`) and the seconds it has trained so far."""

    checkpoint: bytes
    epochs: int
    seconds: float


def apply_params(base: TrainConfig, params: dict) -> TrainConfig:
    """``base`` with sampled values applied; raises SweepError for unknown or invalid ones.

    ``width`` sets every hidden layer's width and ``layers`` the number of hidden layers (at
    the current width), so ``{"width": 32, "layers": 3}`` gives ``hidden=(32, 32, 32)``.
    """
    unknown = sorted(set(params) - set(SAMPLED))
    if unknown:
        raise SweepError(f"cannot sample {', '.join(unknown)}; known: {', '.join(SAMPLED)}")
    d = base.to_dict()
    for name, value in params.items():
        field = SAMPLED[name][0]
        if field != "hidden":
            d[field] = value
    width = params.get("width", d["hidden"][0] if d["hidden"] else TrainConfig.hidden[0])
    layers = params.get("layers", len(d["hidden"]))
    if "width" in params or "layers" in params:
        d["hidden"] = [width] * int(layers)
    try:
        return TrainConfig.from_dict(d)
    except ConfigError as e:
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        raise SweepError(f"trial {shown}: {e}") from None


def run_trial(spec: TrialSpec) -> TrialResult:
    """Train ``spec.config`` for ``spec.epochs`` epochs, evaluating once per epoch."""
    return run_segment(spec)[0]


def run_segment(
    spec: TrialSpec, until: int | None = None, paused: Paused | None = None
) -> tuple[TrialResult, Paused | None]:
    """Train a trial from ``paused`` (or its start) to epoch ``until`` (default: its budget).

    Runs in a worker, so it only returns. The result describes the whole trial so far (curve
    from step 1, cumulative steps and seconds): ``complete`` unless it diverged. A run whose
    loss or parameters stop being finite ends there and comes back ``diverged`` with its step:
    a diverged trial is a result. ``val_loss``/``val_acc`` are the last evaluation's (NaN when
    diverged), ``best_*`` the best finite ones (None if none). The :class:`Paused` checkpoint
    comes back only when the trial can go on: it did not diverge and ``until`` is short of
    ``spec.epochs``.
    """
    from bnviz.train.trainer import Trainer  # heavy; not needed to build specs in the parent

    until = spec.epochs if until is None else until
    done = 0 if paused is None else paused.epochs
    if not done < until <= spec.epochs:
        raise ValueError(f"cannot train epochs {done}..{until} of a {spec.epochs}-epoch trial")
    t0 = time.perf_counter()
    if paused is None:
        trainer = Trainer(TrainConfig.from_dict(spec.config))  # limits BLAS to one thread
    else:
        trainer = Trainer.resume(paused.checkpoint)
    n_train = len(trainer.data.X_train)
    steps_per_epoch = max(1, n_train // min(trainer.config.batch_size, n_train))
    for _ in range(done, until):
        for _ in range(steps_per_epoch):
            trainer.step()
            if trainer.all_diverged:
                break
        trainer.evaluate(outputs=False)
        if trainer.all_diverged:
            break
    name = trainer.runs[0].name
    evals = [m for m in trainer.metrics if m["run"] == name]
    curve = tuple((int(m["step"]), float(m["val_loss"])) for m in evals)
    finite = [(m["val_loss"], m["val_acc"]) for m in evals if math.isfinite(m["val_loss"])]
    step = trainer.runs[0].diverged_step
    seconds = (0.0 if paused is None else paused.seconds) + time.perf_counter() - t0
    result = TrialResult(
        params=dict(spec.params),
        val_loss=curve[-1][1] if curve else None,
        val_acc=evals[-1]["val_acc"] if evals else None,
        best_val_loss=min(f[0] for f in finite) if finite else None,
        best_val_acc=max(f[1] for f in finite) if finite else None,
        diverged=step is not None,
        diverged_step=step,
        seconds=seconds,
        steps=trainer.step_count,
        curve=curve,
    )
    if step is not None or until == spec.epochs:
        return result, None
    return result, Paused(trainer.checkpoint(), until, seconds)


def failed_result(spec: TrialSpec, error: str, seconds: float = 0.0) -> TrialResult:
    """What is stored for a trial whose worker raised: ``failed``, its reason, no results."""
    return TrialResult(
        spec.params, None, None, None, None, False, None, seconds, 0, (),
        state=TrialState.FAILED, error=error,
    )  # fmt: skip
