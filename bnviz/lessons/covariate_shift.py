"""Covariate shift, measured: how much a layer's input moves in one training step.

The course's first reason for batch norm: later layers see inputs whose distribution shifts less
while earlier layers learn ("more firm ground to stand on"). Two measurements of one real step
of the live optimizer on the last mini-batch, taken on copies (the live network and optimizer
are left as they were):

- the input of layer l (the previous layer's train-mode ``a``) on a fixed probe batch, before
  and after the step: per unit, the change of its mean, of its standard deviation, and the
  1-Wasserstein distance between the two distributions (mean absolute difference of the sorted
  values), each averaged over the units;
- Santurkar et al. (2018)'s version: the gradient of layer l's weights on the same batch before
  and after the layers below l take their step (``||G' - G||_2``, relative to ``||G||`` and the
  cosine between them). Their finding: BN does not make this smaller, so "less internal
  covariate shift" may not be why BN helps.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import numpy as np

from bnviz.lessons.bn_inside import layer_input
from bnviz.nn.network import MLP
from bnviz.nn.optim import Optimizer
from bnviz.train.probes import ProbeContext, probe

#: Every this many steps: one measurement costs about 8 train steps (copies, 2 forward-backward
#: passes, 2 probe-batch traces), so under 10% of training (README).
SHIFT_EVERY = 100

_LAYER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class Shift:
    """What one training step does to the input of ``layer`` (see the module docstring).
    ``d_mean``, ``d_std`` and ``w1`` are averages over the input's units; ``grad_change`` is
    ``||G' - G||_2``, ``grad_relative`` that over ``||G||_2`` and ``grad_cosine`` cos(G, G')."""

    layer: int
    d_mean: float
    d_std: float
    w1: float
    grad_change: float
    grad_relative: float
    grad_cosine: float


def layer_of(name: str) -> int:
    """The layer a parameter belongs to: ``W3``, ``b3``, ``gamma3``, ``beta3`` -> 3."""
    m = _LAYER.search(name)
    if m is None:
        raise ValueError(f"not a layer parameter: {name!r}")
    return int(m.group(1))


def distribution_change(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    """Per-unit change between two (m, n) samples of the same rows: mean |d mean|, mean
    |d std| and mean 1-Wasserstein distance (mean |sorted(after) - sorted(before)|)."""
    d_mean = np.abs(after.mean(axis=0) - before.mean(axis=0)).mean()
    d_std = np.abs(after.std(axis=0) - before.std(axis=0)).mean()
    w1 = np.abs(np.sort(after, axis=0) - np.sort(before, axis=0)).mean()
    return float(d_mean), float(d_std), float(w1)


def covariate_shift(
    net: MLP,
    opt: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    probe_X: np.ndarray,
    layer: int,
    epoch: int = 0,
) -> Shift:
    """What one step of ``opt`` on (X, y) does to the input of weight layer ``layer``.

    Parameters
    ----------
    net, opt : the network and its optimizer (with its state: momentum, Adam moments); copied,
        never changed.
    X, y : the mini-batch the step is taken on.
    probe_X : the fixed examples the layer's input is measured on.
    layer : 1 .. net.n_layers (1 has the data as input, which no step moves).
    epoch : for a learning-rate schedule.
    """
    work, step_opt = copy.deepcopy(net), copy.deepcopy(opt)
    before_in = layer_input(work, probe_X, layer).astype(np.float64)
    w0 = work.flat_params.copy()
    lower = np.zeros(w0.size, dtype=bool)  # the parameters of the layers below ``layer``
    for name in work.layout.names:
        if layer_of(name) < layer:
            lower[work.layout.slice(name)] = True
    with np.errstate(all="ignore"):
        work.loss_and_flat_grads(X, y)
        G = _layer_grad(work, layer)
        step_opt.step(work.flat_params, work.flat_grads, epoch)
        w1_params = work.flat_params.copy()
        work.flat_params[...] = np.where(lower, w1_params, w0)  # only the layers below moved
        after_in = layer_input(work, probe_X, layer).astype(np.float64)
        work.loss_and_flat_grads(X, y)
        G2 = _layer_grad(work, layer)
    d_mean, d_std, w1 = distribution_change(before_in, after_in)
    change = float(np.linalg.norm(G2 - G))
    g_norm, g2_norm = float(np.linalg.norm(G)), float(np.linalg.norm(G2))
    cosine = float(G @ G2 / (g_norm * g2_norm)) if g_norm > 0 and g2_norm > 0 else 1.0
    return Shift(
        layer=layer,
        d_mean=d_mean,
        d_std=d_std,
        w1=w1,
        grad_change=change,
        grad_relative=change / g_norm if g_norm > 0 else 0.0,
        grad_cosine=cosine,
    )


def _layer_grad(net: MLP, layer: int) -> np.ndarray:
    return np.array(
        net.layout.views(net.flat_grads)[f"W{layer}"], dtype=np.float64
    ).ravel()  # a copy


@dataclass(frozen=True)
class ShiftPoint:
    """One network's :class:`Shift` at one step (what the probe returns per network)."""

    run: str
    step: int
    shift: Shift


@probe("covariate_shift", steps=SHIFT_EVERY)
def covariate_shift_probe(ctx: ProbeContext, layer: int = 2) -> tuple[ShiftPoint, ...]:
    """Every live network's :class:`Shift` for ``layer`` (clipped to its layers) over the
    next step on the last mini-batch, measured on the probe batch."""
    X, y = ctx.last_batch
    out = []
    for r in ctx.runs:
        if r.diverged_step is not None:
            continue
        lay = min(max(layer, 1), r.net.n_layers)
        s = covariate_shift(r.net, r.opt, X, y, ctx.probe_batch, lay, ctx.epoch)
        out.append(ShiftPoint(r.name, ctx.step, s))
    return tuple(out)
