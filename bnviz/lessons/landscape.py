"""The loss landscape along the gradient (Santurkar et al. 2018, "How does batch normalization
help optimization?", Fig. 4): how far the loss and its gradient change when one steps along the
gradient by different amounts.

At the current parameters w, with g the gradient of the mini-batch loss, the paper looks at
``L(w - eta g)`` for a range of step sizes eta (a narrow band: the loss is predictable along the
gradient), at ``|| grad L(w - eta g) - g ||`` (small: the gradient is predictive), and at the
"effective beta-smoothness" ``max_eta || grad L(w - eta g) - g || / (eta ||g||)``, a local
Lipschitz constant of the gradient. Their claim: all three are smaller with batch norm.

Everything is computed on a copy of the network, so the live one (parameters, running
estimates, gradient buffer) is left bit-for-bit as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bnviz.nn.network import MLP
from bnviz.train.probes import ProbeContext, probe

#: The view's default step sizes, as multiples of the learning rate (the paper's Fig. 4 range).
DEFAULT_ETA_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
#: How often the landscape probe runs: it costs about (len(etas) + 1) train steps per network,
#: so every this many steps keeps it under 10% of training (measured ~9 steps: README).
LANDSCAPE_EVERY = 100


@dataclass(frozen=True)
class Landscape:
    """The loss landscape along the gradient at one point of training.

    ``etas`` (k,) the step sizes; ``loss`` (k,) ``L(w - eta_i g)``; ``grad_change`` (k,)
    ``|| grad L(w - eta_i g) - g ||_2`` over all parameters; ``beta_smoothness`` =
    ``max_i grad_change[i] / (eta_i ||g||_2)`` (0 when g = 0); ``loss0`` = L(w) and
    ``grad_norm`` = ||g||_2 at the starting point."""

    etas: np.ndarray
    loss: np.ndarray
    grad_change: np.ndarray
    beta_smoothness: float
    loss0: float
    grad_norm: float


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


def landscape(net: MLP, X: np.ndarray, y: np.ndarray, etas: Sequence[float]) -> Landscape:
    """The loss and gradient along the gradient of the mini-batch loss on (X, y).

    Parameters
    ----------
    net : the network, in train mode (batch statistics of X); it is not changed.
    X : (m, n_in) the mini-batch; y : (m,) its labels.
    etas : positive step sizes.

    Returns
    -------
    :class:`Landscape`.
    """
    eta = np.asarray(list(etas), dtype=np.float64)
    if eta.ndim != 1 or eta.size == 0 or not (eta > 0).all() or not np.isfinite(eta).all():
        raise ValueError(f"etas must be one or more positive numbers, got {list(etas)}")
    work = copy.deepcopy(net)  # running estimates and gradient buffer of the live net untouched
    w0 = work.flat_params.copy()
    with np.errstate(all="ignore"):
        loss0 = work.loss_and_flat_grads(X, y)
        g = work.flat_grads.astype(np.float64)
        g_norm = float(np.linalg.norm(g))
        losses, changes = np.empty(eta.size), np.empty(eta.size)
        for i, e in enumerate(eta):
            work.flat_params[...] = w0 - e * g
            losses[i] = work.loss_and_flat_grads(X, y)
            changes[i] = np.linalg.norm(work.flat_grads.astype(np.float64) - g)
        ratio = changes / (eta * g_norm) if g_norm > 0 else np.zeros(eta.size)
    beta = float(np.max(ratio)) if np.isfinite(ratio).all() else float("inf")
    return Landscape(
        etas=_frozen(eta),
        loss=_frozen(losses),
        grad_change=_frozen(changes),
        beta_smoothness=beta,
        loss0=float(loss0),
        grad_norm=g_norm,
    )


@dataclass(frozen=True)
class LandscapePoint:
    """One network's landscape at one step (what the probe returns per network)."""

    run: str
    step: int
    landscape: Landscape


@probe("landscape", steps=LANDSCAPE_EVERY)
def landscape_probe(
    ctx: ProbeContext, factors: tuple[float, ...] = DEFAULT_ETA_FACTORS
) -> tuple[LandscapePoint, ...]:
    """Every live network's landscape on the last mini-batch, with step sizes ``factors`` x
    its own learning rate."""
    X, y = ctx.last_batch
    out = []
    for r in ctx.runs:
        if r.diverged_step is not None:
            continue
        lr = r.opt.hyper.lr
        out.append(
            LandscapePoint(r.name, ctx.step, landscape(r.net, X, y, [f * lr for f in factors]))
        )
    return tuple(out)
