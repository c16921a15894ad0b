"""The sweep engine: trials in parallel through one ``concurrent.futures.Executor``.

A trial trains one sampled configuration for a fixed number of epochs in a worker (a spawned
process, a Dask worker, or in-process) and returns a picklable :class:`TrialResult`; the parent
writes each one to the study the moment it arrives, so a killed sweep loses only trials in
flight. Qt-free: the CLI and the GUI drive the same :class:`Sweep`.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from datetime import datetime, timezone

from bnviz.search.executors import (  # noqa: F401 (re-exported: the sweep API)
    ExecutorHandle,
    SerialExecutor,
    SweepError,
    make_executor,
)
from bnviz.search.spaces import Space, SpaceError, narrow_spaces, sample_configs
from bnviz.search.study import Study, TrialRecord, TrialResult, TrialState
from bnviz.train.config import SAMPLED, ConfigError, TrainConfig

POLL_S = 0.1  # how often a running sweep looks at its cancel event


class TrialFailedWarning(RuntimeWarning):
    """A worker raised instead of returning; the trial is stored as failed, with the reason."""


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
    """Train ``spec.config`` for ``spec.epochs`` epochs; evaluate once per epoch.

    Runs in a worker, so it only returns (never touches the study). A run whose loss or
    parameters stop being finite ends there and comes back ``diverged`` with its step: a
    diverged trial is a result. ``val_loss``/``val_acc`` are the last evaluation's (NaN when
    diverged), ``best_*`` the best finite ones (None if none).
    """
    from bnviz.train.trainer import Trainer  # heavy; not needed to build specs in the parent

    t0 = time.perf_counter()
    trainer = Trainer(TrainConfig.from_dict(spec.config))  # limits BLAS to one thread
    n_train = len(trainer.data.X_train)
    steps_per_epoch = max(1, n_train // min(trainer.config.batch_size, n_train))
    curve: list[float] = []
    accs: list[float] = []
    for _ in range(spec.epochs):
        for _ in range(steps_per_epoch):
            trainer.step()
            if trainer.all_diverged:
                break
        trainer.evaluate(outputs=False)
        m = trainer.metrics[-1]
        curve.append(m["val_loss"])
        accs.append(m["val_acc"])
        if trainer.all_diverged:
            break
    finite = [(loss, acc) for loss, acc in zip(curve, accs) if math.isfinite(loss)]
    step = trainer.runs[0].diverged_step
    return TrialResult(
        params=dict(spec.params),
        val_loss=curve[-1] if curve else None,
        val_acc=accs[-1] if accs else None,
        best_val_loss=min(f[0] for f in finite) if finite else None,
        best_val_acc=max(f[1] for f in finite) if finite else None,
        diverged=step is not None,
        diverged_step=step,
        seconds=time.perf_counter() - t0,
        steps=trainer.step_count,
        curve=tuple(curve),
    )


def failed_result(spec: TrialSpec, error: str, seconds: float = 0.0) -> TrialResult:
    """What is stored for a trial whose worker raised: ``failed``, its reason, no results."""
    return TrialResult(
        spec.params, None, None, None, None, False, None, seconds, 0, (),
        state=TrialState.FAILED, error=error,
    )  # fmt: skip


# -- executors ----------------------------------------------------------------------------------


class Sweep:
    """One round of a study: sample configs, run them on an executor, store every result.

    Parameters
    ----------
    study : the study file; the round is created in it when :meth:`run` starts.
    base : the fixed settings; its ``seed`` is every trial's training seed, so results depend
        only on the sampled values, on any executor.
    spaces : what is sampled, by flag name (``lr``, ``beta``, ``batch_size``, ``width``...).
    n, method, seed : how many configs, ``"random"`` or ``"grid"``, and the sampling seed.
    epochs : each trial's budget.
    box : coarse to fine: ``{name: (lo, hi)}`` in axis coordinates; ``spaces`` are narrowed to
        it (idempotent, so already-narrowed spaces may be passed) and it is recorded.
    """

    def __init__(
        self,
        study: Study,
        base: TrainConfig,
        spaces: list[Space],
        *,
        n: int,
        method: str = "random",
        seed: int = 0,
        epochs: int = 5,
        box: dict | None = None,
    ) -> None:
        if epochs < 1:
            raise SweepError(f"epochs must be >= 1, got {epochs}")
        try:
            self.spaces = narrow_spaces(spaces, box) if box else list(spaces)
            self._params = sample_configs(self.spaces, n, seed=seed, method=method)
        except SpaceError as e:
            raise SweepError(str(e)) from None
        self.study, self.base, self.box = study, base.validated(), box
        self.n, self.method, self.seed, self.epochs = n, method, seed, epochs
        self.round_id: int | None = None

    def specs(self) -> list[TrialSpec]:
        """One spec per trial, every config validated: a bad one raises SweepError here,
        before anything is submitted or stored."""
        return [
            TrialSpec(apply_params(self.base, p).to_dict(), dict(p), self.epochs, i)
            for i, p in enumerate(self._params)
        ]

    def run(
        self,
        executor: Executor,
        on_result: Callable[[TrialRecord], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[TrialRecord]:
        """Run every trial; store and report each as it finishes; return them in that order.

        Cancelling (setting ``cancel``) drops the trials not yet started and returns within
        about :data:`POLL_S` without waiting for the running ones, whose results are ignored.
        A trial whose worker raised is stored as ``failed`` with the exception as its reason,
        and a :class:`TrialFailedWarning`; the sweep goes on.
        """
        specs = self.specs()
        if self.round_id is None:
            if self.study.get_meta("config") is None:
                self.study.set_meta("config", self.base.to_dict())
            self.round_id = self.study.new_round(
                self.spaces, n=self.n, method=self.method, seed=self.seed,
                fixed=self.base.to_dict(), box=self.box,
            )  # fmt: skip
        cancel = cancel or threading.Event()
        pending: dict[Future, TrialSpec] = {}
        records: list[TrialRecord] = []
        try:
            for spec in specs:
                if cancel.is_set():
                    break
                pending[executor.submit(run_trial, spec)] = spec
                # collect between submits, so an in-process executor stores trial by trial
                self._collect(pending, 0, records, on_result)
            while pending and not cancel.is_set():
                self._collect(pending, POLL_S, records, on_result)
        finally:
            for f in pending:
                f.cancel()
        return records

    def _collect(
        self,
        pending: dict[Future, TrialSpec],
        timeout: float,
        records: list[TrialRecord],
        on_result: Callable[[TrialRecord], None] | None,
    ) -> None:
        assert self.round_id is not None, "run() opens the round before collecting"
        done, _ = wait(list(pending), timeout=timeout, return_when=FIRST_COMPLETED)
        for f in done:
            spec = pending.pop(f)
            if f.cancelled():
                continue
            exc = f.exception()
            if exc is None:
                result = f.result()
            else:
                reason = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"trial {spec.index} {spec.params} failed: {reason}",
                    TrialFailedWarning,
                    stacklevel=2,
                )
                result = failed_result(spec, reason)
            trial_id = self.study.add_trial(self.round_id, result)
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            record = TrialRecord(id=trial_id, round=self.round_id, finished_at=now, **vars(result))
            records.append(record)
            if on_result is not None:
                on_result(record)


def _json_float(x: float | None) -> float | None:
    """NaN and inf are not JSON: they become null."""
    return x if x is not None and math.isfinite(x) else None


def sweep_json(study: Study) -> dict:
    """The ``bnviz sweep --json`` object: every trial of every round, and the best trial's id.

    ``state`` is ``complete``, ``diverged``, ``failed`` or ``pruned``; ``error`` is a failed
    trial's reason (else null). ``diverged`` keeps the meaning it had before trial states, "no
    result": true for diverged and for failed trials, so a script that skips them still does.
    """
    best = study.best()
    trials = [
        {
            "id": t.id,
            "round": t.round,
            "params": t.params,
            "val_loss": _json_float(t.val_loss),
            "val_acc": _json_float(t.val_acc),
            "diverged": t.state in (TrialState.DIVERGED, TrialState.FAILED),
            "seconds": _json_float(t.seconds),
            "best_val_loss": _json_float(t.best_val_loss),
            "best_val_acc": _json_float(t.best_val_acc),
            "diverged_step": t.diverged_step,
            "steps": t.steps,
            "state": t.state.value,
            "error": t.error,
        }
        for t in study.trials()
    ]
    return {"study": str(study.path), "trials": trials, "best": best.id if best else None}
