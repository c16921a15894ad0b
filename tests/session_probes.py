"""Probes and actions registered by the tests, Qt-free, so a spawned training process imports
them cheaply when a test asks for one (:func:`bnviz.train.probes.resolve`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bnviz.train.actions import ActionContext, action
from bnviz.train.probes import ProbeContext, probe


@probe("test_step_count")
def step_count(ctx: ProbeContext) -> int:
    return ctx.step


@probe("test_hyper")
def hyper(ctx: ProbeContext) -> dict[str, Any]:
    """The live optimizer settings of the first network, and the batch size."""
    h = ctx.runs[0].opt.hyper
    return {"lr": h.lr, "momentum": h.beta, "beta2": h.beta2, "batch_size": ctx.config.batch_size}


@probe("test_batchnorm_flags")
def batchnorm_flags(ctx: ProbeContext) -> tuple[bool, ...]:
    return tuple(r.net.batchnorm for r in ctx.runs)


@probe("test_last_batch_output")
def last_batch_output(ctx: ProbeContext) -> tuple[np.ndarray, ...]:
    """Train-mode logits of every network on the last mini-batch (checks the BN flip)."""
    X, _ = ctx.last_batch
    return tuple(r.net.trace(X, mode="train")[1] for r in ctx.runs)


@probe("test_every_5_steps", steps=5)
def every_5_steps(ctx: ProbeContext, offset: int = 0) -> int:
    return ctx.step + offset


@probe("test_once_a_minute", seconds=60.0)
def once_a_minute(ctx: ProbeContext) -> int:
    return ctx.step


@probe("test_raises")
def raises(ctx: ProbeContext) -> None:
    raise ValueError("broken on purpose")


@probe("test_unpicklable")
def unpicklable(ctx: ProbeContext) -> object:
    return lambda: ctx.step


@probe("test_widths")
def widths(ctx: ProbeContext) -> tuple[int, ...]:
    """The hidden widths of the first network the trainer actually built."""
    return tuple(int(n) for n in ctx.runs[0].net.sizes[1:-1])


@probe("test_first_weight")
def first_weight(ctx: ProbeContext) -> float:
    return float(ctx.runs[0].net.params["W1"][0, 0])


@action("test_add_to_first_weight")
def add_to_first_weight(ctx: ActionContext, value: float) -> float:
    """Add ``value`` to W1[0, 0] of the first network; returns the old weight."""
    W = ctx.runs[0].net.params["W1"]
    old = float(W[0, 0])
    W[0, 0] += value
    return old


@action("test_action_raises")
def action_raises(ctx: ActionContext) -> None:
    raise ValueError("refused on purpose")


@probe("test_step_count_every_second", seconds=1.0)
def step_count_every_second(ctx: ProbeContext) -> int:
    """The step count, at most once a second (a lesson's timed probe)."""
    return ctx.step
