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
from bnviz.search.groups import best_id as best_of_groups
from bnviz.search.groups import group_stats
from bnviz.search.groups import ranked as ranked_by_mean
from bnviz.search.halving import PRUNE_FACTOR, cut, rung_epochs
from bnviz.search.hyperband import DEFAULT_ETA, plan
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


# a trial (its spec, or its index: made when submitted), the epoch to train it to, its pause
Job = tuple[TrialSpec | int, int, Paused | None]
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
    repeats : train every sampled configuration with this many seeds (``base.seed``,
        ``base.seed + 1``, ...): a group of trials, stored with the id of its first stored trial
        as ``group``; a result measured over seeds, not one seed's anecdote.
    hyperband, eta : Hyperband (:mod:`bnviz.search.hyperband`) with budget R = ``epochs``:
        ``n`` is ignored, the plan says how many trials each bracket starts; every bracket is
        successive halving with its own rungs, all brackets' rungs run side by side.

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
        hyperband: bool = False,
        eta: int = DEFAULT_ETA,
        repeats: int = 1,
    ) -> None:
        if epochs < 1:
            raise SweepError(f"epochs must be >= 1, got {epochs}")
        batch = next((s for s in spaces if s.name == "batch_size" and s.low is not None), None)
        bn_possible = base.batchnorm or pair_bn or any(s.name == "bn" for s in spaces)
        if batch is not None and batch.low is not None and batch.low < 2 and bn_possible:
            raise SweepError(f"batch_size from {batch.low:g}: {BN_BATCH_OF_ONE}")
        if pair_bn and any(s.name == "bn" for s in spaces):
            raise SweepError("a paired round trains every point with and without BN: do not "
                             "also sample bn")  # fmt: skip
        if repeats < 1:
            raise SweepError(f"repeats must be >= 1, got {repeats}")
        if repeats > 1 and (prune or hyperband or pair_bn):
            raise SweepError("repeats train every configuration to the end with several seeds: "
                             "no pruning or BN pairs besides")  # fmt: skip
        if hyperband and (prune or pair_bn):
            raise SweepError("Hyperband prunes in brackets of its own: no successive halving "
                             "or BN pairs besides")  # fmt: skip
        try:
            self.brackets = plan(epochs, eta) if hyperband else []
        except ValueError as e:
            raise SweepError(str(e)) from None
        if hyperband:
            n = sum(b.n for b in self.brackets)
        if (prune or hyperband) and n * (2 if pair_bn else 1) > MAX_PRUNED_TRIALS:
            raise SweepError(
                f"a pruned round waits for all its trials at every rung: at most "
                f"{MAX_PRUNED_TRIALS:,} trials with pruning, got {n:,}"
            )
        try:
            self.spaces = narrow_spaces(spaces, box) if box else list(spaces)
            # made when each trial is asked for: a round of any size starts at once
            plan_ = plan_configs(self.spaces, n, seed=seed, method=method)
        except SpaceError as e:
            raise SweepError(str(e)) from None
        self._params: Sequence[dict] = plan_
        if repeats > 1:  # a group: the same values, seeds base.seed, base.seed + 1, ...
            self._params = plan_.repeated(repeats)
        self.repeats = repeats
        if pair_bn:
            self.spaces = [*self.spaces, parse_space("bn", "true,false:cat")]
            self._params = plan_.paired("bn", (True, False))
        self.pair_bn = pair_bn
        self.study, self.base, self.box = study, base.validated(), box
        self.n, self.method, self.seed, self.epochs = n, method, seed, epochs
        self.prune, self.segment = prune, segment
        self.hyperband, self.eta = hyperband, eta
        self.round_id: int | None = None
        self._recheck_of: list[int] | None = None
        self._group_ids: dict[int, int] = {}  # group (index // repeats) -> its stored id
        self._watch = WorkerWatch(SerialExecutor(), None, None)

    @classmethod
    def recheck(
        cls, study: Study, base: TrainConfig, k: int, *, epochs: int, seed: int = 0
    ) -> Sweep:
        """A round that re-runs the best ``k`` complete trials of ``study`` (fewer if it has
        fewer) with their sampled values under ``base``, today's fixed settings: hyperparameters
        get stale when the data, the noise or the budget change. Each new trial records the
        id of the one it repeats (``recheck_of``). In a study with repeats the best are
        groups, by their mean (:func:`bnviz.search.groups.ranked`), and each is re-run with as
        many seeds as it had, every new trial pointing at the group's first trial.

        Raises SweepError if the study has no complete trial with a finite loss.
        """
        trials = study.trials()
        best = ranked_by_mean(trials)[: max(0, k)]
        sizes = {g.group: len(g.trials) for g in group_stats(trials)}
        repeats = max((sizes.get(t.group, 1) if t.group is not None else 1 for t in best),
                      default=1)  # fmt: skip
        if not best:
            raise SweepError(f"{study.path.name} has no complete trial to re-check")
        spaces: dict[str, Space] = {}  # each parameter's space as the best trial's round had it
        rounds = {r["id"]: r for r in study.rounds()}
        for t in best:
            for s in rounds[t.round]["spaces"]:
                spaces.setdefault(s.name, s)
        sweep = cls(study, base, list(spaces.values()), n=len(best), method="random",
                    seed=seed, epochs=epochs, repeats=repeats)  # fmt: skip
        sweep.method = "recheck"
        sweep._params = [dict(t.params) for t in best for _ in range(repeats)]
        sweep._recheck_of = [t.id for t in best for _ in range(repeats)]
        return sweep

    def _bracket_of(self, index: int) -> int:
        """The Hyperband bracket of the trial at ``index`` (brackets take the sample in turn)."""
        start = 0
        for b in self.brackets:
            start += b.n
            if index < start:
                return b.s
        raise IndexError(f"trial {index} is in no bracket")

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
        config = apply_params(self.base, p).to_dict()
        config["seed"] = self.base.seed + i % self.repeats  # repeats: seed, seed + 1, ...
        return TrialSpec(config, dict(p), self.epochs, i)

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
        size starts at once (pruned rounds, bounded by MAX_PRUNED_TRIALS, make theirs first).
        Cancelling (setting ``cancel``) drops the trials not yet started and returns within
        about :data:`POLL_S` without waiting for the running ones, whose results are ignored
        (under pruning, so are the trials waiting at a rung). A trial whose worker raised is
        stored as ``failed`` with the exception as its reason, and a
        :class:`TrialFailedWarning` naming its stored id; the sweep goes on.

        On a Dask cluster, ``on_status`` hears within seconds when every worker is gone (and
        when they are back; :class:`WorkerWatch`); with ``timeout`` the round stops
        (:class:`NoWorkers`) once it has had no worker that many seconds, keeping what was
        stored. A local worker killed mid-round stops it (:class:`WorkersLost`), likewise.
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
        specs = self.specs() if self.hyperband or self.prune else []

        def store(spec: TrialSpec, result: TrialResult) -> None:
            records.append(self._store(spec, result, on_result))

        if self.hyperband:
            ladders, start = [], 0
            for b in self.brackets:
                mine = specs[start : start + b.n]
                start += b.n
                keeps = [n for n, _ in b.rungs[1:]]
                ladders.append(_Ladder(b.s, mine, [r for _, r in b.rungs], keeps))
            self._run_ladders(ladders, executor, cancel, store)
        elif self.prune:
            rungs = list(rung_epochs(self.epochs, PRUNE_FACTOR))
            self._run_ladders([_Ladder(None, specs, rungs, None)], executor, cancel, store)
        else:
            jobs = ((i, self.epochs, None) for i in range(self.n_trials))
            self._run_jobs(jobs, executor, cancel, lambda spec, outcome: store(spec, outcome[0]))
        return records

    def _run_ladders(
        self,
        ladders: list[_Ladder],
        executor: Executor,
        cancel: threading.Event,
        store: Callable[[TrialSpec, TrialResult], None],
    ) -> None:
        """Successive halving, rung by rung, in one or more brackets side by side (one for
        ``prune``, Hyperband's several): every live trial of every bracket trains to its
        bracket's next rung in parallel; once all have reported, each bracket keeps its best
        and stores the rest as pruned, with why (``pruned_at``); the survivors continue from
        their checkpoints to the next rung."""
        reached: dict[int, Outcome] = {}  # the trials paused at the current level's rungs

        def arrived(spec: TrialSpec, outcome: Outcome) -> None:
            if outcome[1] is None:  # finished: diverged, failed, or at its budget
                store(spec, outcome[0])
            else:
                reached[spec.index] = outcome

        level = 0
        while any(level < len(ladder.rungs) and ladder.live for ladder in ladders):
            reached.clear()
            jobs: list[Job] = [
                (ladder.specs[i], ladder.rungs[level], paused)
                for ladder in ladders
                if level < len(ladder.rungs)
                for i, paused in ladder.live.items()
            ]
            self._run_jobs(jobs, executor, cancel, arrived)
            if cancel.is_set():
                return
            for ladder in ladders:
                if level >= len(ladder.rungs) - 1:
                    ladder.live = {}
                    continue
                here = {i: reached[i] for i in ladder.live if i in reached}
                losses = {i: o[0].val_loss for i, o in here.items()}
                keep = ladder.keep(level, len(here))
                go_on, why = cut(losses, keep, ladder.rungs[level])
                for i in sorted(why):
                    pruned = replace(here[i][0], state=TrialState.PRUNED, pruned_at=why[i])
                    store(ladder.specs[i], pruned)
                ladder.live = {i: here[i][1] for i in go_on}
            level += 1

    def _run_jobs(
        self,
        jobs: Iterable[Job],
        executor: Executor,
        cancel: threading.Event,
        done: Callable[[TrialSpec, Outcome], None],
    ) -> None:
        """Run segments in parallel, at most ``in_flight`` submitted at a time; hand each
        outcome to ``done`` as it arrives (in the calling thread); a segment that raised, or a
        trial (given by its index, made here) whose config is invalid, arrives as failed."""
        pending: dict[Future, TrialSpec] = {}
        window = max(1, int(getattr(executor, "in_flight", DEFAULT_IN_FLIGHT)))
        try:
            for item, until, paused in jobs:
                while len(pending) >= window and not cancel.is_set():
                    self._collect(pending, POLL_S, done)
                if cancel.is_set():
                    break
                if isinstance(item, TrialSpec):
                    spec = item
                else:
                    try:
                        spec = self.spec(item)
                    except SweepError as e:  # past the trials checked up front
                        params = dict(self._params[item])
                        spec = TrialSpec(self.base.to_dict(), params, self.epochs, item)
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
        if self.hyperband:
            result = replace(result, bracket=self._bracket_of(spec.index))
        result = replace(result, seed=spec.config.get("seed"))
        group = spec.index // self.repeats if self.repeats > 1 else None
        if group is not None:
            result = replace(result, group=self._group_ids.get(group))
        trial_id = self.study.add_trial(
            self.round_id, result, own_group=group is not None and result.group is None
        )
        if group is not None and result.group is None:
            self._group_ids[group] = trial_id
            result = replace(result, group=trial_id)
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


class _Ladder:
    """One bracket's trials climbing its rungs (``rungs``: epochs, ascending, the last the
    budget); ``keeps[i]`` trials go on from rung ``i`` (None: successive halving's best third,
    at least one). ``live``: the trials still climbing, with where each paused."""

    def __init__(
        self, s: int | None, specs: list[TrialSpec], rungs: list[int], keeps: list[int] | None
    ) -> None:
        self.s, self.rungs, self.keeps = s, rungs, keeps
        self.specs = {spec.index: spec for spec in specs}
        self.live: dict[int, Paused | None] = dict.fromkeys(self.specs)

    def keep(self, level: int, reached: int) -> int:
        if self.keeps is None:
            return max(1, reached // PRUNE_FACTOR) if reached else 0
        return self.keeps[level]


def _json_float(x: float | None) -> float | None:
    """NaN and inf are not JSON: they become null."""
    return x if x is not None and math.isfinite(x) else None


def epochs_trained(t: TrialRecord) -> int | None:
    """The epochs a sampled trial trained: one evaluation each, so its curve's length (the
    diverging epoch counts); None for a babysat run, which evaluates on its own schedule."""
    return len(t.curve) if t.kind == "sampled" else None


def _pruned_json(p: dict | None) -> dict | None:
    return None if p is None else {**p, "value": _json_float(p.get("value"))}


def sweep_json(study: Study) -> dict:
    """The ``bnviz sweep --json`` object: every trial of every round, and the best trial's id.

    ``state`` is ``complete``, ``diverged``, ``failed`` or ``pruned``; ``error`` is a failed
    trial's reason (else null); ``curve`` the ``[step, val_loss]`` of every evaluation
    (ascending steps, the last loss the trial's ``val_loss``; NaN as null); ``recheck_of`` the
    id of the trial a re-check repeats (else null); ``kind`` ``sampled`` (by a round) or
    ``babysat`` (a live run saved from the explorer); ``bracket`` the Hyperband bracket s (else
    null); ``epochs`` the epochs it trained (:func:`epochs_trained`); ``pruned_at`` why a pruned
    trial stopped (``{"epochs", "value", "rank", "of", "kept"}``, else null); ``group`` the id
    of its group of repeats (else null), ``seed`` its training seed. A study with groups also
    gets ``groups`` (:meth:`GroupStats.to_json`) and its ``best`` is the best mean's group.
    ``diverged`` keeps
    the meaning it had
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
            "bracket": t.bracket,
            "epochs": epochs_trained(t),
            "pruned_at": _pruned_json(t.pruned_at),
            "group": t.group,
            "seed": t.seed,
        }
        for t in study.trials()
    ]
    out = {"study": str(study.path), "trials": trials, "best": best.id if best else None}
    records = study.trials()
    stats = group_stats(records)
    if stats:  # --repeats: groups by their mean, and the best is the best mean
        out["groups"] = [g.to_json() for g in stats]
        out["best"] = best_of_groups(records)
    return out
