"""Probes: Qt-free measurements of the live networks that a view asks for by name.

A probe is a function ``fn(ctx, **args) -> result`` of a :class:`ProbeContext` (the trainer's
networks, the last mini-batch, the probe batch, the step, the data set; read, never changed),
registered under a name with the :class:`Rate` it runs at::

    @probe("dead_units", steps=10)  # at most once every 10 training steps
    def dead_units(ctx: ProbeContext, layer: int = 1) -> tuple[tuple[str, float], ...]:
        X, _ = ctx.last_batch  # per network: the ReLU units of ``layer`` dead on the batch
        out = []
        for r in ctx.runs:
            a = r.net.trace(X, mode="train")[0][layer - 1].a
            out.append((r.name, float((a <= 0).all(axis=0).mean())))
        return tuple(out)

A view that is shown returns ``request("dead_units", layer=2)`` from its ``probe_requests()``;
the window adds it to every snapshot request and the result arrives in
``Frame.probes[request]`` whenever the rate says it is due. A hidden view asks for nothing, so
it costs nothing. The result must be picklable and is treated as immutable (tuples, frozen
dataclasses, read-only arrays from :func:`bnviz.train.snapshot.frozen`).

A probe that raises is reported (an :class:`~bnviz.train.protocol.ErrorRaised`, once per
message) and training goes on. A lesson adds a probe in its ``bnviz/lessons`` module and a view
in ``bnviz/gui/lessons``; the protocol and the session loop stay as they are (the training
process imports the probe's module when first asked). The registry and the requests are
:mod:`bnviz.train.registry`'s, shared with the actions (:mod:`bnviz.train.actions`), which may
change the networks.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bnviz.data import Dataset
from bnviz.nn.network import MLP
from bnviz.train.config import TrainConfig
from bnviz.train.protocol import ProbeRequest
from bnviz.train.registry import Registry, describe_error
from bnviz.train.snapshot import GridResult, frozen
from bnviz.train.trainer import Run, Trainer, save_models

GRID_INTERVAL_S = 0.25  # decision regions: 4 times a second is enough to watch them move
GRID_POINTS = 72
GRID_MARGIN = 0.4  # standardized units beyond the data on every side

F = TypeVar("F", bound=Callable[..., Any])


class ProbeError(LookupError):
    """An unknown probe name (a typo, or a module that does not register it)."""


@dataclass(frozen=True)
class Rate:
    """How often a requested probe runs: when at least ``steps`` training steps and at least
    ``seconds`` have passed since it last ran (either may be None). With neither it runs on
    request: every time it is asked for."""

    steps: int | None = None
    seconds: float | None = None

    def due(self, last: tuple[int, float] | None, step: int, now: float) -> bool:
        """Whether to run now, at ``step`` and time ``now``; ``last`` is (step, time) of the
        last run, None if it has not run yet (then it runs at once)."""
        if last is None:
            return True
        last_step, last_time = last
        if self.steps is not None and step - last_step < self.steps:
            return False
        return self.seconds is None or now - last_time >= self.seconds


@dataclass(frozen=True)
class Probe:
    """A registered probe: ``fn(ctx, **args)`` under ``name``, run at ``rate``."""

    name: str
    fn: Callable[..., object]
    rate: Rate


REGISTRY: Registry[Probe, ProbeRequest] = Registry("probe", ProbeError, ProbeRequest)
PROBES: dict[str, Probe] = REGISTRY.entries


def register(
    name: str, fn: Callable[..., object], *, steps: int | None = None, seconds: float | None = None
) -> Probe:
    """Register ``fn`` as probe ``name`` (see :class:`Rate` for ``steps`` and ``seconds``).

    Registering the same function again (its module imported twice) is harmless; another
    function under a taken name is an error."""
    if steps is not None and steps < 1:
        raise ValueError("steps must be >= 1")
    if seconds is not None and not seconds >= 0:
        raise ValueError("seconds must be >= 0")
    return REGISTRY.add(Probe(name, fn, Rate(steps, seconds)))


def probe(name: str, *, steps: int | None = None, seconds: float | None = None) -> Callable[[F], F]:
    """Decorator form of :func:`register`."""

    def decorate(fn: F) -> F:
        register(name, fn, steps=steps, seconds=seconds)
        return fn

    return decorate


def request(name: str, **args: Hashable) -> ProbeRequest:
    """What a view sends to ask for probe ``name`` with keyword ``args`` (hashable values)."""
    return REGISTRY.request(name, **args)


def resolve(req: ProbeRequest) -> Probe:
    """The probe ``req`` asks for, importing the module that registers it when needed."""
    return REGISTRY.resolve(req)


class ProbeContext:
    """What a probe reads: the trainer between two steps, through read-only accessors.

    The networks are the live ones: a probe may run them forward (``trace``, ``logits``,
    ``loss_and_grads``), never change their parameters, buffers or mode for good."""

    __slots__ = ("_trainer",)

    def __init__(self, trainer: Trainer) -> None:
        self._trainer = trainer

    @property
    def runs(self) -> tuple[Run, ...]:
        """Every network with its optimizer and state: one, or BN then plain in compare mode."""
        return tuple(self._trainer.runs)

    @property
    def nets(self) -> dict[str, MLP]:
        """Run name -> network."""
        return {r.name: r.net for r in self._trainer.runs}

    @property
    def last_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the last mini-batch, (B, D) and (B,), read-only."""
        return self._trainer.last_batch

    @property
    def probe_batch(self) -> np.ndarray:
        """The fixed (PROBE_SIZE, D) examples the snapshots' histograms use, read-only."""
        return self._trainer.probe_batch

    @property
    def step(self) -> int:
        return self._trainer.step_count

    @property
    def epoch(self) -> int:
        return self._trainer.epoch

    @property
    def data(self) -> Dataset:
        return self._trainer.data

    @property
    def config(self) -> TrainConfig:
        """The run's settings, live changes included."""
        return self._trainer.config

    @property
    def dtype(self) -> np.dtype:
        """The networks' floating-point type: feed them arrays of it."""
        return np.dtype(self._trainer.dtype)

    def checkpoint(self) -> bytes:
        """Copies of the live networks, their optimizers and the mini-batch stream
        (:meth:`Trainer.checkpoint`): for an experiment that must leave the originals alone."""
        return self._trainer.checkpoint()

    @property
    def metrics(self) -> tuple[dict[str, Any], ...]:
        """One record per evaluation and network (:data:`~bnviz.train.trainer.METRIC_FIELDS`)."""
        return tuple(dict(m) for m in self._trainer.metrics)


class ProbeRunner:
    """Runs the requested probes that are due, for one training process.

    Remembers when each request last ran (forgetting the ones no longer asked for, so a view
    shown again gets its probe at once) and which error it last reported (a probe that keeps
    raising the same error is reported once)."""

    def __init__(self) -> None:
        self._last: dict[ProbeRequest, tuple[int, float]] = {}
        self._reported: dict[ProbeRequest, str] = {}

    def reset(self) -> None:
        """A new run: every probe is due again and may report its errors again."""
        self._last.clear()
        self._reported.clear()

    def rerun(self) -> None:
        """The networks changed between two steps (an action): every probe asked for is due
        at once, so what the views show is never older than the change."""
        self._last.clear()

    def collect(
        self, requests: Iterable[ProbeRequest], ctx: ProbeContext, now: float
    ) -> tuple[dict[ProbeRequest, object], list[str]]:
        """``(results, errors)``: the results of the due ``requests``, and the messages of
        probes that raised (each message once until the probe succeeds or the run resets)."""
        wanted = dict.fromkeys(requests)
        for req in [r for r in self._last if r not in wanted]:
            del self._last[req]
        results: dict[ProbeRequest, object] = {}
        errors: list[str] = []
        for req in wanted:
            try:
                p = resolve(req)
                if not p.rate.due(self._last.get(req), ctx.step, now):
                    continue
                self._last[req] = (ctx.step, now)  # a raising probe also waits for its rate
                results[req] = p.fn(ctx, **req.kwargs)
                self._reported.pop(req, None)
            except Exception as e:  # a probe's bug must not end the session
                message = describe_error(req, e)
                if self._reported.get(req) != message:
                    self._reported[req] = message
                    errors.append(message)
        return results, errors

    def run(self, req: ProbeRequest, ctx: ProbeContext) -> object:
        """Run ``req`` now, whatever its rate; raises what the probe raises."""
        return resolve(req).fn(ctx, **req.kwargs)


# -- the app's own probes ------------------------------------------------------------------------
@probe("decision_grid", seconds=GRID_INTERVAL_S)
def decision_grid(
    ctx: ProbeContext, points: int = GRID_POINTS, margin: float = GRID_MARGIN
) -> tuple[GridResult, ...]:
    """Eval-mode logits of every live network on a ``points`` x ``points`` grid over the 2-D
    data (training and validation, ``margin`` beyond it): the decision regions, at any softmax
    temperature (:meth:`GridResult.proba`). Empty for data with more than two features."""
    data = ctx.data
    if data.n_features != 2:
        return ()
    low, high = data.extent  # scanning a million rows at 4 Hz took a third of the training time
    lo, hi = low - margin, high + margin
    xs = np.linspace(lo[0], hi[0], points).astype(ctx.dtype)
    ys = np.linspace(lo[1], hi[1], points).astype(ctx.dtype)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    out = []
    for r in ctx.runs:
        if r.diverged_step is not None:
            continue
        with np.errstate(all="ignore"):
            logits = r.net.logits(pts).reshape(len(ys), len(xs), -1)
        out.append(GridResult(r.name, frozen(xs), frozen(ys), frozen(logits)))
    return tuple(out)


@probe("metrics")
def metrics(ctx: ProbeContext) -> tuple[dict[str, Any], ...]:
    """Every metrics record so far (the app's CSV export)."""
    return ctx.metrics


@probe("save_models")
def save(ctx: ProbeContext, path: str) -> tuple[str, ...]:
    """Save the networks to ``path`` (compare mode: NAME-bn.npz and NAME-plain.npz); returns
    the files written."""
    return tuple(save_models(ctx.runs, Path(path)))
