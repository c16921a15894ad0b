"""The signals people babysit a run by ("panda"), per layer: how large the gradient is, and how
large one update is next to the parameters it changes; and a verdict that agrees with what
training then does.

The rule of thumb (CS231n, "Neural Networks Part 3", *Babysitting the learning process*):
the ratio of an update's size to the weights' size, ``||update|| / ||W||``, "should be
somewhere around 1e-3"; much smaller and the learning rate is likely too low, much larger and
likely too high. It was stated for plain SGD on large networks. Measured here (5 seeds x 1,000
steps, spirals, 4 x 32 sigmoid, BN, the view's 5-reading median; README, "Babysitting
signals"), a small network's healthy ratios sit a decade higher:

- alpha = 0.5, the app's default (74-98% validation accuracy): 3e-3 .. 0.23, typically 1e-2;
- alpha = 0.005, which crawls (58-83%): 9e-5 .. 3e-3, a layer below 1e-3 in every reading;
- alpha = 50, which diverges at step 50: the output layer 0.35 .. 0.54 at every reading.

Hence the band :data:`LOW` .. :data:`HIGH` = 1e-3 .. 0.3.

The ratio is taken over the real update: the one the network's own optimizer makes of the last
gradient, computed on a copy of its state. No factor per optimizer is needed then; one is
needed only to guess it from ``alpha ||dW||``: PyTorch-style momentum (``v = beta v + dW``)
steps ``alpha / (1 - beta) ||dW||`` on a steady gradient, the course's averaged form (``v =
beta v + (1 - beta) dW``, bnviz's) ``alpha ||dW||``, and less on noisy gradients, which it
averages out; RMSprop and Adam move every weight by about alpha whatever the gradient's size,
so their ratio is about ``alpha / rms(W)`` and (a), the gradient norm, says nothing of their
step.

A layer followed by batch norm is scale-invariant: the loss does not change when a unit's
weights are scaled, so its gradient is perpendicular to them and the ratio is the angle ``W``
turns per step, which is what moves the network. The same perpendicularity makes plain SGD
grow ``||W||`` every step (``||W + dW||^2 = ||W||^2 + ||dW||^2``), which lowers the layer's
effective learning rate (alpha / ||W||^2): a too-high alpha is absorbed by ``W`` growing, after
which the ratio looks healthy or even small (alpha = 50: ``||W||`` 15-1,600 times its initial
size within 50 steps, ratios 1e-6 .. 3e-2). So a BN layer is also judged by its growth
``||W|| / ||W_init||`` (the expected size of a freshly initialised ``W``): more than
:data:`GROWTH_HIGH` is too high (the default grows 1.1-1.6x in 1,000 steps, alpha = 5, which
still learns, 3-5x).

The gradient is the one the trainer computed at its last step (the network's gradient
buffer, read only); nothing live changes.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bnviz.nn.network import MLP
from bnviz.nn.optim import Optimizer
from bnviz.train.probes import ProbeContext, probe

#: The course's rule of thumb (CS231n, plain SGD, large networks): ||update|| / ||W|| ~ 1e-3.
COURSE_RATIO = 1e-3
#: Below this, a layer barely moves: the learning rate is likely too low (measured, see above).
LOW = 1e-3
#: Above this, a step changes a layer by a third of itself: likely too high.
HIGH = 0.3
#: A BN layer whose ||W|| grew beyond this many times its initial size absorbed too-large steps.
GROWTH_HIGH = 10.0
#: The verdict reads the median of a layer's last readings: one mini-batch's ratio jumps 10x.
WINDOW = 5
SIGNALS_EVERY = 10  # cheap (a copy of the optimizer state, one update on a copy of w)

TOO_HIGH = "too high"
TOO_LOW = "too low"
HEALTHY = "healthy"


@dataclass(frozen=True)
class LayerSignal:
    """One weight layer's signals: the gradient norm ``||dW||``, the weights' norm ``||W||``,
    the update's norm ``||update||`` and ``ratio`` = ||update|| / ||W|| (W only, as in the
    rule of thumb); ``layer_ratio`` the same over all the layer's parameters (W and b, or W,
    gamma and beta: the output layer's b swings most when alpha is too high), the one judged;
    ``growth`` = ||W|| over the expected size of a freshly initialised W; ``batchnorm``
    whether BN follows the layer (then W's scale does not matter to the loss)."""

    layer: int
    grad_norm: float
    weight_norm: float
    update_norm: float
    ratio: float
    layer_ratio: float = float("nan")
    growth: float = float("nan")
    batchnorm: bool = False


def _ratio(update: float, weights: float) -> float:
    return update / weights if weights > 0 else float("inf")


def init_norm(net: MLP, layer: int) -> float:
    """The expected ``||W||`` of ``layer`` at initialisation: each of the n_out x n_in weights
    is drawn with variance gain / n_in (:class:`~bnviz.nn.network.MLP`), so
    ``sqrt(n_out * gain)``."""
    n_out = net.sizes[layer]
    gain = 2.0 if (net.activation == "relu" and layer < net.n_layers) else 1.0
    return float(np.sqrt(n_out * gain))


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
        own = [n for n in (f"b{layer}", f"gamma{layer}", f"beta{layer}") if n in net.layout.names]
        slices = [sl, *(net.layout.slice(n) for n in own)]
        w_all = float(np.sqrt(sum(np.sum(w[s] ** 2) for s in slices)))
        u_all = float(np.sqrt(sum(np.sum(update[s] ** 2) for s in slices)))
        bn = f"gamma{layer}" in net.layout.names
        out.append(LayerSignal(layer, g, wn, un, _ratio(un, wn), _ratio(u_all, w_all),
                               wn / init_norm(net, layer), bn))  # fmt: skip
    return tuple(out)


def verdict(ratios: Sequence[float] | float, growth: float = 1.0, batchnorm: bool = False) -> str:
    """What the rule says of a layer, from its last readings of the update-to-parameters ratio
    (the median of the last :data:`WINDOW`; or one ratio) and, for a layer followed by BN, its
    growth since initialisation."""
    values = np.atleast_1d(np.asarray(ratios, dtype=np.float64))[-WINDOW:]
    if batchnorm and growth > GROWTH_HIGH:
        return f"{TOO_HIGH}: \u2016W\u2016 grew {growth:.0f}x (BN absorbed too large steps)"
    if values.size == 0 or not np.isfinite(values).all():
        return "not finite"
    r = float(np.median(values))
    if r > HIGH:
        return f"{TOO_HIGH}: the learning rate may be too high"
    if r < LOW:
        return f"{TOO_LOW}: the learning rate may be too low"
    return HEALTHY


class Babysitter:
    """The verdict of every (network, layer) from the readings seen so far: keeps the last
    :data:`WINDOW` ratios of each (a step below the last one means a new run)."""

    def __init__(self) -> None:
        self._ratios: dict[tuple[str, int], list[float]] = {}
        self._last_step: dict[str, int] = {}

    def add(self, point: SignalsPoint) -> dict[int, str]:
        """Take one network's reading; returns each layer's verdict."""
        if point.step < self._last_step.get(point.run, -1):
            self.forget(point.run)
        self._last_step[point.run] = point.step
        out = {}
        for s in point.layers:
            kept = self._ratios.setdefault((point.run, s.layer), [])
            kept.append(s.layer_ratio)
            del kept[:-WINDOW]
            out[s.layer] = verdict(kept, s.growth, s.batchnorm)
        return out

    def forget(self, run: str | None = None) -> None:
        """Forget one network's readings (all with None)."""
        for key in [k for k in self._ratios if run is None or k[0] == run]:
            del self._ratios[key]
        self._last_step = {} if run is None else {r: s for r, s in self._last_step.items()
                                                  if r != run}  # fmt: skip


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
