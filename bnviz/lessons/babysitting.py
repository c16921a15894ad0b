"""The signals people babysit a run by ("panda"), per layer: how large the gradient is, and how
large one update is next to the weights it changes.

``||update_l|| / ||W_l||`` (for plain SGD ``||alpha dW_l|| / ||W_l||``) is the usual rule of
thumb: around 1e-3 is healthy; much larger and the learning rate is likely too high (the
weights are rewritten every few steps), much smaller and it is likely too low (they barely
move). Seen per layer and live, it says so before the loss does.

The gradient is the one the trainer computed at its last step (the network's gradient
buffer, read only); the update is what the network's own optimizer makes of it, computed on a
copy of the optimizer's state (momentum, Adam's moments), so nothing live changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from bnviz.nn.network import MLP
from bnviz.nn.optim import Optimizer
from bnviz.train.probes import ProbeContext, probe

HEALTHY_RATIO = 1e-3
#: Outside [HEALTHY_RATIO / SPREAD, HEALTHY_RATIO * SPREAD] the view says which way to move.
SPREAD = 10.0
SIGNALS_EVERY = 10  # cheap (a copy of the optimizer state, one update on a copy of w)


@dataclass(frozen=True)
class LayerSignal:
    """One weight layer's signals: the gradient norm ``||dW||``, the weights' norm ``||W||``,
    the update's norm ``||update||`` and ``ratio`` = ||update|| / ||W|| (W only; b, gamma and
    beta are left out, as in the rule of thumb)."""

    layer: int
    grad_norm: float
    weight_norm: float
    update_norm: float
    ratio: float


def verdict(ratio: float) -> str:
    """What the rule of thumb says of an update-to-weight ratio."""
    if not np.isfinite(ratio):
        return "not finite"
    if ratio > HEALTHY_RATIO * SPREAD:
        return "large: the learning rate may be too high"
    if ratio < HEALTHY_RATIO / SPREAD:
        return "small: the learning rate may be too low"
    return "healthy"


def layer_signals(net: MLP, opt: Optimizer, epoch: int = 0) -> tuple[LayerSignal, ...]:
    """Each weight layer's signals for the gradient now in ``net.flat_grads`` (the last
    step's) and the update ``opt`` would make of it. Neither the network nor the optimizer
    changes."""
    w = net.flat_params.astype(np.float64)
    moved = net.flat_params.copy()
    with np.errstate(all="ignore"):
        copy.deepcopy(opt).step(moved, net.flat_grads.copy(), epoch)
    update = moved.astype(np.float64) - w
    out = []
    for layer in range(1, net.n_layers + 1):
        sl = net.layout.slice(f"W{layer}")
        g = float(np.linalg.norm(net.flat_grads[sl].astype(np.float64)))
        wn = float(np.linalg.norm(w[sl]))
        un = float(np.linalg.norm(update[sl]))
        out.append(LayerSignal(layer, g, wn, un, un / wn if wn > 0 else float("inf")))
    return tuple(out)


@dataclass(frozen=True)
class SignalsPoint:
    """One network's signals at one step (what the probe returns per network)."""

    run: str
    step: int
    layers: tuple[LayerSignal, ...]


@probe("babysit_signals", steps=SIGNALS_EVERY)
def babysit_signals_probe(ctx: ProbeContext) -> tuple[SignalsPoint, ...]:
    """Every live network's per-layer signals at the last step (none before the first)."""
    if ctx.step == 0:
        return ()
    return tuple(
        SignalsPoint(r.name, ctx.step, layer_signals(r.net, r.opt, ctx.epoch))
        for r in ctx.runs
        if r.diverged_step is None
    )
