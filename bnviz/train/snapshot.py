"""Immutable, picklable pictures of a network that the views draw from.

The trainer builds them in its own thread; every array is a copy marked read-only, so a view can
hold a snapshot while training goes on without ever seeing a half-updated array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bnviz.nn import layers
from bnviz.nn.network import MLP
from bnviz.train import stats

PERCENTILES = (15.0, 50.0, 85.0)
# An output within this of one of its activation's limits counts as saturated (g' nearly 0).
SATURATION = {"sigmoid": 0.02, "tanh": 0.02}
KINDS = ("z", "z_tilde", "a")


def frozen(a: npt.ArrayLike) -> np.ndarray:
    """A read-only copy."""
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Histogram:
    """Counts on edges (len(counts) + 1 edges), with the mean and std of the values."""

    edges: np.ndarray
    counts: np.ndarray
    mean: float
    std: float


@dataclass(frozen=True)
class Saturation:
    """Where a bounded activation saturates, so its gradient g'(z~) nearly vanishes.

    ``limits`` is the range of its output a ((0, 1) for sigmoid, (-1, 1) for tanh); an output
    counts as saturated below ``a[0]`` or above ``a[1]`` (within :data:`SATURATION` of a limit),
    which is the activation input z~ below ``z_tilde[0]`` or above ``z_tilde[1]``.
    """

    limits: tuple[float, float]
    a: tuple[float, float]
    z_tilde: tuple[float, float]


def saturation(activation: str) -> Saturation | None:
    """The :class:`Saturation` of ``activation``; None for unbounded ones (relu, linear)."""
    m = SATURATION.get(activation)
    if m is None:
        return None
    if activation == "sigmoid":  # a = 1 / (1 + e^-z~): z~ = log(a / (1 - a))
        z = math.log((1.0 - m) / m)
        return Saturation((0.0, 1.0), (m, 1.0 - m), (-z, z))
    if activation == "tanh":
        z = math.atanh(1.0 - m)
        return Saturation((-1.0, 1.0), (-1.0 + m, 1.0 - m), (-z, z))
    raise ValueError(f"no saturation thresholds for {activation!r}")


@dataclass(frozen=True)
class LayerStats:
    """One hidden layer on the probe batch.

    ``hist`` maps "z" (linear output, before BN), "z_tilde" (activation input, after BN) and
    "a" (activation output) to a :class:`Histogram`. ``percentiles`` are the 15/50/85th
    percentiles of z_tilde over all units, ``unit_percentiles`` those of unit 0 alone (the BN
    paper's Figure 1 follows one unit). ``saturated`` is the fraction of sigmoid/tanh outputs
    in their :class:`Saturation` zones, or for ReLU the fraction of units dead on the whole
    probe batch.
    """

    layer: int
    hist: dict[str, Histogram]
    percentiles: np.ndarray
    unit_percentiles: np.ndarray
    saturated: float
    grad_norm_W: float
    gamma_mean: float | None = None
    gamma_std: float | None = None
    beta_mean: float | None = None
    beta_std: float | None = None


@dataclass(frozen=True)
class EvalResult:
    """A validation pass in eval mode: loss, accuracy, the C x C confusion matrix (rows = true
    class), and the logits of the shown examples."""

    step: int
    epoch: int
    train_loss: float
    val_loss: float
    val_acc: float
    confusion: np.ndarray
    val_logits: np.ndarray
    train_logits: np.ndarray


@dataclass(frozen=True)
class GridResult:
    """Eval-mode logits of network ``run`` on a regular 2-D grid, for the decision regions:
    ``logits`` has shape (ny, nx, C) over ``x`` (nx,) and ``y`` (ny,) in standardized units.

    Logits rather than probabilities, so a view can apply a softmax temperature itself without
    asking the training process again (:meth:`proba`)."""

    run: str
    x: np.ndarray
    y: np.ndarray
    logits: np.ndarray

    def proba(self, temperature: float = 1.0) -> np.ndarray:
        """softmax(logits / T) over the grid, (ny, nx, C), float64; T = 1 is the network's."""
        return layers.softmax(np.asarray(self.logits, dtype=np.float64), temperature)


@dataclass(frozen=True)
class Event:
    """Something a user did to a run (``kind`` in "bn_on", "bn_off", "hparam", "reset")."""

    step: int
    kind: str
    text: str


@dataclass(frozen=True)
class Snapshot:
    """One network at one moment.

    ``loss_steps``/``losses`` hold the raw training losses since the previous snapshot and
    ``smoothed_losses`` the trainer's bias-corrected EWMA after each of them (the
    ``smoothed_loss`` of its metrics); ``smoothed_loss`` is the latest. ``activation`` names the
    hidden layers' activation and ``saturation`` says where it saturates (None: unbounded).
    ``shown_examples`` is how many validation examples have their logits in ``evaluation``.
    """

    run: str
    batchnorm: bool
    step: int
    epoch: int
    loss_steps: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    smoothed_loss: float
    lr: float
    batch_size: int
    diverged_step: int | None
    layers: tuple[LayerStats, ...]
    activation: str
    saturation: Saturation | None
    shown_examples: int
    evaluation: EvalResult | None = None
    events: tuple[Event, ...] = ()
    message: str = ""

    @property
    def diverged(self) -> bool:
        return self.diverged_step is not None


def layer_stats(
    net: MLP, X_probe: np.ndarray, bins: stats.StableBins, prefix: str = ""
) -> tuple[LayerStats, ...]:
    """Statistics of every hidden layer on a fixed probe batch (train-mode BN, buffers left
    alone), histogrammed on ``bins`` keyed by ``prefix``, layer and kind.

    Runs 30 times a second per network while training goes on, so every statistic is one or two
    passes over the layer (see :func:`stats.mean_std`, :func:`stats.percentiles`)."""
    sat = saturation(net.activation)
    with np.errstate(all="ignore"):
        traces, _ = net.trace(X_probe, mode="train")
        out = []
        for l, tr in enumerate(traces, start=1):
            hist: dict[str, Histogram] = {}
            for kind in KINDS:
                v = getattr(tr, kind)
                h = hist.get("z") if kind == "z_tilde" and v is tr.z else None  # no BN: z_tilde = z
                hist[kind] = _histogram(v, bins, (prefix, l, kind), h)
            zt = tr.z_tilde
            out.append(
                LayerStats(
                    layer=l,
                    hist=hist,
                    percentiles=frozen(stats.percentiles(zt, PERCENTILES)),
                    unit_percentiles=frozen(stats.percentiles(zt[:, 0], PERCENTILES)),
                    saturated=_saturated(tr.a, net.activation, sat),
                    grad_norm_W=_norm(net.flat_grads[net.layout.slice(f"W{l}")]),
                    **_gamma_beta(net, l),
                )
            )
    return tuple(out)


def _histogram(
    v: np.ndarray, bins: stats.StableBins, key: tuple[str, int, str], same: Histogram | None
) -> Histogram:
    """The histogram of v on the bins of ``key``; ``same`` is one of the same values, reused
    when its edges are these edges."""
    vmin, vmax = float(v.min()), float(v.max())
    edges = bins.edges(key, vmin, vmax)
    if same is not None and (same.edges is edges or np.array_equal(same.edges, edges)):
        return Histogram(edges, same.counts, same.mean, same.std)
    mean, std = stats.mean_std(v)
    return Histogram(edges, frozen(stats.histogram(v, edges, (vmin, vmax))), mean, std)


def _norm(v: np.ndarray) -> float:
    return math.sqrt(float(np.dot(v, v)))


def _saturated(a: np.ndarray, activation: str, sat: Saturation | None) -> float:
    if sat is not None:
        lo, hi = sat.a
        return float(np.count_nonzero((a < lo) | (a > hi))) / a.size
    if activation == "relu":  # dead: not > 0 on any probe example (a column max, vectorized)
        return float(np.count_nonzero(~(a.max(axis=0) > 0))) / a.shape[1]
    return 0.0


def _gamma_beta(net: MLP, l: int) -> dict[str, Any]:
    if not net.batchnorm:
        return {}
    g_mean, g_std = stats.mean_std(net.params[f"gamma{l}"])
    b_mean, b_std = stats.mean_std(net.params[f"beta{l}"])
    return {"gamma_mean": g_mean, "gamma_std": g_std, "beta_mean": b_mean, "beta_std": b_std}
