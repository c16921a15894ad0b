"""The sweep engine: trials in parallel through one ``concurrent.futures.Executor``.

A trial trains one sampled configuration for a fixed number of epochs in a worker (a spawned
process, a Dask worker, or in-process; :mod:`bnviz.search.trial`) and returns a picklable
:class:`TrialResult`; the parent writes each one to the study the moment it ends, so a killed
sweep loses only trials in flight (and, under pruning, those waiting at a rung). Qt-free: the
CLI and the GUI drive the same :class:`Sweep`.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import replace
from datetime import datetime, timezone

from bnviz.search.executors import (  # noqa: F401 (re-exported: the sweep API)
    DEFAULT_IN_FLIGHT,
    ExecutorHandle,
    NoWorkers,
    SerialExecutor,
    SweepError,
    WorkersLost,
    WorkerWatch,
    make_executor,
)
from bnviz.search.halving import PRUNE_FACTOR, promote, rung_epochs
from bnviz.search.plan import plan_configs
from bnviz.search.spaces import Space, SpaceError, narrow_spaces, parse_space
from bnviz.search.study import Study, TrialRecord, TrialResult, TrialState
from bnviz.search.trial import (  # noqa: F401 (re-exported: the sweep API)
    Paused,
    TrialSpec,
    apply_params,
    failed_result,
    run_segment,
    run_trial,
)
from bnviz.train.config import TrainConfig
from bnviz.train.params import BN_BATCH_OF_ONE, MAX_PRUNED_TRIALS

POLL_S = 0.1  # how often a running sweep looks at its cancel event
CHECKED_UP_FRONT = 1000  # trials validated before any starts; later ones as they are made


class TrialFailedWarning(RuntimeWarning):
    """A worker raised instead of returning; the trial is stored as failed, with the reason."""


Job = tuple[int, int, Paused | None]  # a trial's index, the epoch to train it to, its pause
Outcome = tuple[TrialResult, Paused | None]  # what a segment returns: the trial so far, its pause
# Trains a trial from where it paused (or its start) to an epoch: run_segment, or a test's fake.
Segment = Callable[[TrialSpec, int, Paused | None], Outcome]


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
    prune : successive halving (:mod:`bnviz.search.halving`): trials are compared at the rungs
        ``rung_epochs(epochs)`` and the weaker two thirds stop there, stored ``pruned``.
    segment : what trains a trial to an epoch in a worker (default :func:`run_segment`); a
        picklable module-level function.
    pair_bn : train every sampled point twice, with batch norm and without (``bn`` True then
        False in the trial's params, every other value and the seed shared): ``2 n`` trials.
        The course's claim that BN makes the search easier, measured pair by pair.

    :meth:`recheck` builds a round that repeats given trials instead of sampling.
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
        prune: bool = False,
        segment: Segment | None = None,
        pair_bn: bool = False,
    ) -> None:
        if epochs < 1:
            raise SweepError(f"epochs must be >= 1, got {epochs}")
        if prune and n * (2 if pair_bn else 1) > MAX_PRUNED_TRIALS:
            raise SweepError(
                f"a pruned round waits for all its trials at every rung: at most "
                f"{MAX_PRUNED_TRIALS:,} trials with --prune, got {n:,}"
            )
        batch = next((s for s in spaces if s.name == "batch_size" and s.low is not None), None)
        bn_possible = base.batchnorm or pair_bn or any(s.name == "bn" for s in spaces)
        if batch is not None and batch.low is not None and batch.low < 2 and bn_possible:
            raise SweepError(f"batch_size from {batch.low:g}: {BN_BATCH_OF_ONE}")
        if pair_bn and any(s.name == "bn" for s in spaces):
            raise SweepError("a paired round trains every point with and without BN: do not "
                             "also sample bn")  # fmt: skip
        try:
            self.spaces = narrow_spaces(spaces, box) if box else list(spaces)
            self._params: Sequence[dict] = plan_configs(self.spaces, n, seed=seed, method=method)
        except SpaceError as e:
            raise SweepError(str(e)) from None
        if pair_bn:
            self.spaces = [*self.spaces, parse_space("bn", "true,false:cat")]
            self._params = plan_configs(self.spaces[:-1], n, seed=seed, method=method).paired(
                "bn", (True, False)
            )
        self.pair_bn = pair_bn
        self.study, self.base, self.box = study, base.validated(), box
        self.n, self.method, self.seed, self.epochs = n, method, seed, epochs
        self.prune, self.segment = prune, segment
        self.round_id: int | None = None
        self._recheck_of: list[int] | None = None
        self._watch = WorkerWatch(SerialExecutor(), None, None)

    @classmethod
    def recheck(
        cls, study: Study, base: TrainConfig, k: int, *, epochs: int, seed: int = 0
    ) -> Sweep:
        """A round that re-runs the best ``k`` complete trials of ``study`` (fewer if it has
        fewer) with their sampled values under ``base``, today's fixed settings: hyperparameters
        get stale when the data, the noise or the budget change. Each new trial records the
        id of the one it repeats (``recheck_of``).

        Raises SweepError if the study has no complete trial with a finite loss.
        """
        best = study.ranked()[: max(0, k)]
        if not best:
            raise SweepError(f"{study.path.name} has no complete trial to re-check")
        spaces: dict[str, Space] = {}  # each parameter's space as the best trial's round had it
        rounds = {r["id"]: r for r in study.rounds()}
        for t in best:
            for s in rounds[t.round]["spaces"]:
                spaces.setdefault(s.name, s)
        sweep = cls(study, base, list(spaces.values()), n=len(best), method="random",
                    seed=seed, epochs=epochs)  # fmt: skip
        sweep.method = "recheck"
        sweep._params = [dict(t.params) for t in best]
        sweep._recheck_of = [t.id for t in best]
        return sweep

    @property
    def recheck_of(self) -> list[int] | None:
        """The ids of the trials a re-check round repeats, in trial order; None otherwise."""
        return None if self._recheck_of is None else list(self._recheck_of)

    @property
    def n_trials(self) -> int:
        """How many trials the round has (known without making them)."""
        return len(self._params)

    def spec(self, i: int) -> TrialSpec:
        """Trial ``i``'s spec, its config validated (SweepError if it is invalid)."""
        p = self._params[i]
        return TrialSpec(apply_params(self.base, p).to_dict(), dict(p), self.epochs, i)

    def specs(self) -> list[TrialSpec]:
        """One spec per trial, every config validated: a bad one raises SweepError here,
        before anything is submitted or stored. Makes them all: for a small round."""
        return [self.spec(i) for i in range(self.n_trials)]

    def check(self) -> None:
        """Validate the first :data:`CHECKED_UP_FRONT` trials (SweepError for a bad one)
        before anything is submitted; a space's every value was checked when it was parsed, so
        later trials combine values already known to be valid."""
        for i in range(min(self.n_trials, CHECKED_UP_FRONT)):
            self.spec(i)

    def run(
        self,
        executor: Executor,
        on_result: Callable[[TrialRecord], None] | None = None,
        cancel: threading.Event | None = None,
        *,
        on_status: Callable[[str], None] | None = None,
        timeout: float | None = None,
    ) -> list[TrialRecord]:
        """Run every trial; store and report each as it finishes; return them in that order.

        Trials are made as they are submitted, a few per worker at a time, so a round of any
        size starts at once. Cancelling (setting ``cancel``) drops the trials not yet started
        and returns within about :data:`POLL_S` without waiting for the running ones, whose
        results are ignored (under pruning, so are the trials waiting at a rung). A trial
        whose worker raised is stored as ``failed`` with the exception as its reason, and a
        :class:`TrialFailedWarning` naming its stored id; the sweep goes on.

        On a Dask cluster, ``on_status`` hears within seconds when every worker is gone (and
        when they are back; :class:`WorkerWatch`); with ``timeout`` the round stops
        (:class:`NoWorkers`) once it has had no worker that many seconds, keeping what was
        stored.
        """
        self.check()
        if self.round_id is None:
            if self.study.get_meta("config") is None:
                self.study.set_meta("config", self.base.to_dict())
            self.round_id = self.study.new_round(
                self.spaces, n=self.n_trials, method=self.method, seed=self.seed,
                fixed=self.base.to_dict(), box=self.box,
            )  # fmt: skip
        cancel = cancel or threading.Event()
        records: list[TrialRecord] = []
        self._watch = WorkerWatch(executor, on_status, timeout)

        def store(spec: TrialSpec, result: TrialResult) -> None:
            records.append(self._store(spec, result, on_result))

        if self.prune:
            self._run_rungs(executor, cancel, store)
        else:
            jobs = ((i, self.epochs, None) for i in range(self.n_trials))
            self._run_jobs(jobs, executor, cancel, lambda spec, outcome: store(spec, outcome[0]))
        return records

    def _run_rungs(
        self,
        executor: Executor,
        cancel: threading.Event,
        store: Callable[[TrialSpec, TrialResult], None],
    ) -> None:
        """Successive halving, rung by rung: every live trial trains to the rung in parallel;
        once all have reported, the parent keeps the best third and stores the rest as pruned;
        the survivors continue from their checkpoints to the next rung."""
        live: dict[int, Paused | None] = dict.fromkeys(range(self.n_trials))
        reached: dict[int, Outcome] = {}  # the trials paused at the current rung

        def arrived(spec: TrialSpec, outcome: Outcome) -> None:
            if outcome[1] is None:  # finished: diverged, failed, or at its budget
                store(spec, outcome[0])
            else:
                reached[spec.index] = outcome

        for until in rung_epochs(self.epochs, PRUNE_FACTOR):
            reached.clear()
            jobs = ((i, until, paused) for i, paused in live.items())
            self._run_jobs(jobs, executor, cancel, arrived)
            if cancel.is_set():
                return
            go_on, pruned = promote({i: o[0].val_loss for i, o in reached.items()}, PRUNE_FACTOR)
            for i in pruned:
                store(self.spec(i), replace(reached[i][0], state=TrialState.PRUNED))
            live = {i: reached[i][1] for i in go_on}

    def _run_jobs(
        self,
        jobs: Iterable[Job],
        executor: Executor,
        cancel: threading.Event,
        done: Callable[[TrialSpec, Outcome], None],
    ) -> None:
        """Run segments in parallel, at most ``in_flight`` submitted at a time; hand each
        outcome to ``done`` as it arrives (in the calling thread); a segment that raised, or a
        trial whose config is invalid, arrives as a failed trial."""
        pending: dict[Future, TrialSpec] = {}
        window = max(1, int(getattr(executor, "in_flight", DEFAULT_IN_FLIGHT)))
        try:
            for i, until, paused in jobs:
                while len(pending) >= window and not cancel.is_set():
                    self._collect(pending, POLL_S, done)
                if cancel.is_set():
                    break
                try:
                    spec = self.spec(i)
                except SweepError as e:  # past the trials checked up front
                    spec = TrialSpec(self.base.to_dict(), dict(self._params[i]), self.epochs, i)
                    done(spec, (failed_result(spec, str(e)), None))
                    continue
                try:
                    future = executor.submit(self.segment or run_segment, spec, until, paused)
                except BrokenExecutor as e:  # a worker died: the pool takes nothing more
                    raise WorkersLost(f"the worker processes stopped ({e}): round stopped, "
                                      "the trials that finished are stored") from None  # fmt: skip
                pending[future] = spec
                # collect between submits, so an in-process executor stores trial by trial
                self._collect(pending, 0, done)
            while pending and not cancel.is_set():
                self._collect(pending, POLL_S, done)
        finally:
            for f in pending:
                f.cancel()

    def _collect(
        self,
        pending: dict[Future, TrialSpec],
        timeout: float,
        done: Callable[[TrialSpec, Outcome], None],
    ) -> None:
        finished, _ = wait(list(pending), timeout=timeout, return_when=FIRST_COMPLETED)
        if not finished and pending:
            self._watch.check()
        for f in finished:
            spec = pending.pop(f)
            if f.cancelled():
                continue
            exc = f.exception()
            if exc is None:
                done(spec, f.result())
                continue
            reason = f"{type(exc).__name__}: {exc}"
            done(spec, (failed_result(spec, reason), None))

    def _store(
        self,
        spec: TrialSpec,
        result: TrialResult,
        on_result: Callable[[TrialRecord], None] | None,
    ) -> TrialRecord:
        assert self.round_id is not None, "run() opens the round before storing"
        if self._recheck_of is not None:
            result = replace(result, recheck_of=self._recheck_of[spec.index])
        trial_id = self.study.add_trial(self.round_id, result)
        if result.state is TrialState.FAILED:  # said with the id the study shows
            warnings.warn(
                f"trial {trial_id} {spec.params} failed: {result.error}",
                TrialFailedWarning,
                stacklevel=3,
            )
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        record = TrialRecord(id=trial_id, round=self.round_id, finished_at=now, **vars(result))
        if on_result is not None:
            on_result(record)
        return record


def _json_float(x: float | None) -> float | None:
    """NaN and inf are not JSON: they become null."""
    return x if x is not None and math.isfinite(x) else None


def sweep_json(study: Study) -> dict:
    """The ``bnviz sweep --json`` object: every trial of every round, and the best trial's id.

    ``state`` is ``complete``, ``diverged``, ``failed`` or ``pruned``; ``error`` is a failed
    trial's reason (else null); ``curve`` the ``[step, val_loss]`` of every evaluation
    (ascending steps, the last loss the trial's ``val_loss``; NaN as null); ``recheck_of`` the
    id of the trial a re-check repeats (else null); ``kind`` ``sampled`` (by a round) or
    ``babysat`` (a live run saved from the explorer). ``diverged`` keeps the meaning it had
    before trial states, "no result": true for diverged and for failed trials, so a script
    that skips them still does.
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
            "curve": [[step, _json_float(loss)] for step, loss in t.curve],
            "recheck_of": t.recheck_of,
            "kind": t.kind,
        }
        for t in study.trials()
    ]
    return {"study": str(study.path), "trials": trials, "best": best.id if best else None}
