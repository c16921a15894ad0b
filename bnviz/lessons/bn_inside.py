"""Batch norm inside out: one hidden layer's pipeline z -> (mu, sigma^2) -> z_norm -> z_tilde -> a
on a mini-batch, computed with the network's own formulas (:mod:`bnviz.nn.layers`).

The course's three facts about a BN unit can be read off a :class:`BNTrace`:

- ``z_norm = (z - mu) / sqrt(sigma^2 + eps)`` has mean 0 and variance ~1 over the batch, and
  ``z_tilde = gamma z_norm + beta`` gives the unit whatever mean and spread it learned;
- a bias b is redundant: adding it moves z and mu by b and leaves z_norm and z_tilde alone
  (``bn_trace(..., bias=b)``); beta plays its part;
- ``gamma = sqrt(sigma^2 + eps)``, ``beta = mu`` undo the normalization: ``z_tilde = z``
  (:func:`identity_gamma_beta`); the actions ``bn_identity`` and ``bn_set_gamma_beta`` set
  them in a live network and put the old ones back (the inspector's button).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnviz.nn import layers
from bnviz.nn.network import MLP
from bnviz.train.actions import ActionContext, action
from bnviz.train.probes import ProbeContext, probe


@dataclass(frozen=True)
class BNTrace:
    """One hidden layer on one batch, in train mode. Arrays are (m, n) or (n,) and read-only.

    ``batchnorm`` False: the layer has no BN; ``z_tilde`` is then ``z`` and ``z_norm``,
    ``mu`` and ``var`` are what BN *would* compute (the batch statistics), for comparison.
    """

    layer: int
    batchnorm: bool
    z: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    z_norm: np.ndarray
    z_tilde: np.ndarray
    a: np.ndarray
    gamma: np.ndarray | None
    beta: np.ndarray | None
    eps: float


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


def layer_input(net: MLP, X: np.ndarray, layer: int) -> np.ndarray:
    """What weight layer ``layer`` (1 .. n_layers, the output layer last) receives on X in
    train mode: X itself for layer 1, else the previous layer's train-mode ``a`` (batch
    statistics of X; running estimates untouched)."""
    if not 1 <= layer <= net.n_layers:
        raise ValueError(f"layer must be 1..{net.n_layers}, got {layer}")
    X = np.asarray(X, dtype=net.dtype)
    if layer == 1:
        return X
    hidden, _ = net.trace(X, mode="train")
    return hidden[layer - 2].a


def bn_trace(
    net: MLP, X: np.ndarray, layer: int, bias: np.ndarray | float | None = None
) -> BNTrace:
    """The batch-norm pipeline of hidden layer ``layer`` (1-based) on the batch X, train mode.

    Parameters
    ----------
    net : the network; it is not changed (parameters and running estimates stay bit-for-bit).
    X : (m, n_in) the batch (m >= 1; with m = 1 the variance is 0 and z_norm is 0).
    layer : 1 .. number of hidden layers.
    bias : (n,) or a scalar added to z before normalization (shows that b is redundant).

    Returns
    -------
    BNTrace with z = a_prev W^T (+ b where the layer has one, + ``bias``), mu and var (biased)
    over the batch, z_norm, z_tilde = gamma z_norm + beta, and a = g(z_tilde).
    """
    if not 1 <= layer < net.n_layers:
        raise ValueError(f"layer must be a hidden layer 1..{net.n_layers - 1}, got {layer}")
    a_prev = layer_input(net, X, layer)
    P = net.params
    z, _ = layers.affine_forward(a_prev, P[f"W{layer}"], P.get(f"b{layer}"))
    if bias is not None:
        z = z + np.asarray(bias, dtype=z.dtype)
    n = z.shape[1]
    gamma: np.ndarray | None
    beta: np.ndarray | None
    if net.batchnorm:
        gamma, beta = P[f"gamma{layer}"], P[f"beta{layer}"]
        z_tilde, cache, mu, var = layers.batchnorm_forward(z, gamma, beta, net.eps)
    else:
        gamma = beta = None
        ones, zeros = np.ones(n, dtype=z.dtype), np.zeros(n, dtype=z.dtype)
        _, cache, mu, var = layers.batchnorm_forward(z, ones, zeros, net.eps)
        z_tilde = z
    a = layers.activation_forward(z_tilde, net.activation)
    return BNTrace(
        layer=layer,
        batchnorm=net.batchnorm,
        z=_frozen(z),
        mu=_frozen(mu),
        var=_frozen(var),
        z_norm=_frozen(cache[0]),
        z_tilde=_frozen(z_tilde),
        a=_frozen(a),
        gamma=None if gamma is None else _frozen(gamma),
        beta=None if beta is None else _frozen(beta),
        eps=net.eps,
    )


def identity_gamma_beta(trace: BNTrace) -> tuple[np.ndarray, np.ndarray]:
    """The gamma and beta that make BN the identity on this batch: ``gamma = sqrt(var + eps)``,
    ``beta = mu`` give ``z_tilde = z`` (the course: BN can learn to undo itself)."""
    return _frozen(layers.batchnorm_std(trace.var, trace.eps)), _frozen(trace.mu)


@dataclass(frozen=True)
class UnitView:
    """One unit of one network on the current mini-batch, for the neuron inspector: its column
    of a :class:`BNTrace` (arrays (m,), scalars mu, var, gamma, beta), the layer's gammas
    and betas across units (n,) (None without BN), its width ``n_units`` and the network's
    number of hidden layers ``n_hidden`` (what the inspector may pick)."""

    run: str
    layer: int
    unit: int
    batchnorm: bool
    z: np.ndarray
    z_norm: np.ndarray
    z_tilde: np.ndarray
    a: np.ndarray
    mu: float
    var: float
    gamma: float | None
    beta: float | None
    gammas: np.ndarray | None
    betas: np.ndarray | None
    n_units: int = 0
    n_hidden: int = 0


def unit_view(run: str, trace: BNTrace, unit: int, n_hidden: int = 0) -> UnitView:
    """The column ``unit`` of ``trace`` (``n_hidden``: the network's hidden layers, if known)."""
    if not 0 <= unit < trace.z.shape[1]:
        raise ValueError(f"unit must be 0..{trace.z.shape[1] - 1}, got {unit}")
    return UnitView(
        run=run,
        layer=trace.layer,
        unit=unit,
        batchnorm=trace.batchnorm,
        z=_frozen(trace.z[:, unit]),
        z_norm=_frozen(trace.z_norm[:, unit]),
        z_tilde=_frozen(trace.z_tilde[:, unit]),
        a=_frozen(trace.a[:, unit]),
        mu=float(trace.mu[unit]),
        var=float(trace.var[unit]),
        gamma=None if trace.gamma is None else float(trace.gamma[unit]),
        beta=None if trace.beta is None else float(trace.beta[unit]),
        gammas=trace.gamma,
        betas=trace.beta,
        n_units=trace.z.shape[1],
        n_hidden=n_hidden,
    )


@probe("bn_unit", seconds=0.1)
def bn_unit_probe(
    ctx: ProbeContext, layer: int = 1, unit: int = 0, bias: float = 0.0
) -> tuple[UnitView, ...]:
    """Every network's unit ``unit`` of hidden ``layer`` on the last mini-batch (``bias``
    added to z, the inspector's "shift b" slider); layers or units a network lacks are clipped
    to its last one."""
    X, _ = ctx.last_batch
    out = []
    for r in ctx.runs:
        hidden = r.net.n_layers - 1
        if hidden < 1 or r.diverged_step is not None:
            continue
        lay = min(max(layer, 1), hidden)
        t = bn_trace(r.net, X, lay, bias=bias or None)
        out.append(unit_view(r.name, t, min(max(unit, 0), t.z.shape[1] - 1), hidden))
    return tuple(out)


@dataclass(frozen=True)
class GammaBeta:
    """What a gamma/beta action did to unit ``unit`` of hidden ``layer`` of network ``run``:
    its gamma and beta before (``old_*``: what undoes it) and after."""

    run: str
    layer: int
    unit: int
    old_gamma: float
    old_beta: float
    gamma: float
    beta: float


def _bn_params(ctx: ActionContext, run: str, layer: int, unit: int) -> tuple[MLP, str, str]:
    """The network ``run`` and the names of its gamma and beta of hidden ``layer``, checked."""
    net = ctx.run(run).net
    if not net.batchnorm:
        raise ValueError(f"network {run!r} has no batch norm: it has no gamma or beta to set")
    if not 1 <= layer < net.n_layers:
        raise ValueError(f"layer must be a hidden layer 1..{net.n_layers - 1}, got {layer}")
    if not 0 <= unit < net.sizes[layer]:
        raise ValueError(f"unit must be 0..{net.sizes[layer] - 1}, got {unit}")
    return net, f"gamma{layer}", f"beta{layer}"


@action("bn_set_gamma_beta")
def bn_set_gamma_beta(
    ctx: ActionContext, run: str, layer: int, unit: int, gamma: float, beta: float
) -> GammaBeta:
    """Set gamma and beta of one unit of a live network (the undo of ``bn_identity``).

    Written in place into the network's parameter arrays, which the training step's workspace
    and the optimizer share; nothing else of the network changes."""
    if not (np.isfinite(gamma) and np.isfinite(beta)):
        raise ValueError(f"gamma and beta must be finite, got {gamma} and {beta}")
    net, g, b = _bn_params(ctx, run, layer, unit)
    old_gamma, old_beta = float(net.params[g][unit]), float(net.params[b][unit])
    net.params[g][unit] = gamma
    net.params[b][unit] = beta
    new_gamma, new_beta = float(net.params[g][unit]), float(net.params[b][unit])
    return GammaBeta(run, layer, unit, old_gamma, old_beta, new_gamma, new_beta)


@action("bn_identity")
def bn_identity(ctx: ActionContext, run: str, layer: int, unit: int) -> GammaBeta:
    """Set one unit's ``gamma = sqrt(sigma^2 + eps)`` and ``beta = mu``, with mu and sigma^2 of
    the last mini-batch, so that on it ``z_tilde = z``: BN undoes itself (the course). Returns
    the old values, for ``bn_set_gamma_beta`` to put back."""
    net, _, _ = _bn_params(ctx, run, layer, unit)
    X, _ = ctx.last_batch
    gamma, beta = identity_gamma_beta(bn_trace(net, X, layer))
    return bn_set_gamma_beta(ctx, run, layer, unit, float(gamma[unit]), float(beta[unit]))
