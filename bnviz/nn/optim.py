"""Optimizers in one shape, ``update(w, dw, state, hp) -> (w, state)``, the state explicit.

``w`` and ``dw`` are flat vectors (every parameter of a network, gamma and beta included: they
are updated like W); ``w`` is updated in place so the network's views see the new values.
``state`` is a dict of arrays shaped like ``w`` plus a step counter, so it can be remapped when
the network's layout changes (the live BN toggle), and a scratch array ("tmp") so an update
allocates nothing: a few in-place calls on the flat vector update a whole network.

A long vector is updated in blocks of :data:`BLOCK` entries, every operation of the rule on one
block before the next: NumPy cannot fuse the dozen passes of Adam, and on W3's 270,000
parameters the five arrays (w, dw, v, s, scratch; 1 MB each) do not fit in a core's L2 cache
(2 MB on the project's machine) together, so each pass streamed them from L3. Blocks of 256 kB
per array keep the working set in L2: a W3 step 3% faster in place (2,470 us against 2,546;
blocks of 128 kB: 2,491, 64 kB: 2,537). Each entry sees the same operations in the same order,
so the result is the same to the bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TypedDict

import numpy as np
from numpy.typing import DTypeLike

from bnviz.nn import aligned
from bnviz.nn.layout import ParamLayout

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
ADAM_EPS = 1e-8
BLOCK = 65536  # entries per block of an update (256 kB of float32 per array)


@dataclass(frozen=True)
class Hyper:
    """The optimizer's hyperparameters: alpha (``lr``), momentum ``beta`` (beta1 for Adam),
    ``beta2`` (RMSprop/Adam), ``decay`` (alpha_t = lr / (1 + decay * epoch))."""

    lr: float = 0.01
    beta: float = 0.9
    beta2: float = 0.999
    eps: float = ADAM_EPS
    decay: float = 0.0

    def rate(self, epoch: int) -> float:
        """Learning-rate decay from the course: ``alpha = alpha_0 / (1 + decay_rate * epoch)``."""
        return self.lr / (1.0 + self.decay * epoch)


class _Moments(TypedDict):
    v: np.ndarray  # first moment (momentum, Adam)
    s: np.ndarray  # second moment (RMSprop, Adam)
    t: int  # steps taken (Adam's bias correction)


class OptState(_Moments, total=False):
    """An optimizer's state: the moments, and the scratch array once a step has made it."""

    tmp: np.ndarray


Update = Callable[[np.ndarray, np.ndarray, OptState, Hyper, float], tuple[np.ndarray, OptState]]


def _scratch(state: OptState, w: np.ndarray) -> np.ndarray:
    """A reusable temporary shaped like ``w`` (kept in ``state``; remade when the layout
    changes), so an update allocates nothing."""
    tmp = state.get("tmp")
    if tmp is None or tmp.shape != w.shape or tmp.dtype != w.dtype:
        tmp = state["tmp"] = aligned.empty(w.shape, w.dtype)
    return tmp


def _blocks(*arrays: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
    """The arrays (flat, one length) as views of :data:`BLOCK` entries at a time, in step."""
    n = arrays[0].size
    if n <= BLOCK:
        yield arrays
        return
    for i in range(0, n, BLOCK):
        yield tuple(a[i : i + BLOCK] for a in arrays)


def sgd(
    w: np.ndarray, dw: np.ndarray, state: OptState, hp: Hyper, lr: float
) -> tuple[np.ndarray, OptState]:
    """``w -= alpha dw``."""
    for w_, dw_, tmp in _blocks(w, dw, _scratch(state, w)):
        np.multiply(dw_, lr, out=tmp)
        w_ -= tmp
    return w, state


def momentum(
    w: np.ndarray, dw: np.ndarray, state: OptState, hp: Hyper, lr: float
) -> tuple[np.ndarray, OptState]:
    """The course's form: ``v = beta v + (1 - beta) dw``, ``w -= alpha v``."""
    for w_, dw_, v, tmp in _blocks(w, dw, state["v"], _scratch(state, w)):
        np.subtract(dw_, v, out=tmp)  # v += (1 - beta)(dw - v) is beta v + (1 - beta) dw
        tmp *= 1 - hp.beta
        v += tmp
        np.multiply(v, lr, out=tmp)
        w_ -= tmp
    return w, state


def rmsprop(
    w: np.ndarray, dw: np.ndarray, state: OptState, hp: Hyper, lr: float
) -> tuple[np.ndarray, OptState]:
    """``s = beta2 s + (1 - beta2) dw^2``, ``w -= alpha dw / (sqrt(s) + eps)``."""
    for w_, dw_, s, tmp in _blocks(w, dw, state["s"], _scratch(state, w)):
        _ewma_square(s, dw_, hp.beta2, tmp)
        np.sqrt(s, out=tmp)
        tmp += hp.eps
        np.divide(dw_, tmp, out=tmp)
        tmp *= lr
        w_ -= tmp
    return w, state


def adam(
    w: np.ndarray, dw: np.ndarray, state: OptState, hp: Hyper, lr: float
) -> tuple[np.ndarray, OptState]:
    """Momentum and RMSprop together, with bias correction ``v / (1 - beta^t)``."""
    state["t"] += 1
    t = state["t"]
    # alpha v_hat / (sqrt(s_hat) + eps) = (alpha sqrt(c2) / c1) v / (sqrt(s) + eps sqrt(c2))
    c1, c2 = 1 - hp.beta**t, 1 - hp.beta2**t
    for w_, dw_, v, s, tmp in _blocks(w, dw, state["v"], state["s"], _scratch(state, w)):
        np.subtract(dw_, v, out=tmp)
        tmp *= 1 - hp.beta
        v += tmp
        _ewma_square(s, dw_, hp.beta2, tmp)
        np.sqrt(s, out=tmp)
        tmp += hp.eps * math.sqrt(c2)
        np.divide(v, tmp, out=tmp)
        tmp *= lr * math.sqrt(c2) / c1
        w_ -= tmp
    return w, state


def _ewma_square(s: np.ndarray, dw: np.ndarray, beta2: float, tmp: np.ndarray) -> None:
    """``s = beta2 s + (1 - beta2) dw^2`` in place, as ``s += (1 - beta2)(dw^2 - s)``."""
    np.multiply(dw, dw, out=tmp)
    tmp -= s
    tmp *= 1 - beta2
    s += tmp


UPDATES: dict[str, Update] = {"sgd": sgd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}


def init_state(kind: str, size: int, dtype: DTypeLike = np.float32) -> OptState:
    """Zeroed state for ``kind``: v (first moment), s (second moment), t (step count)."""
    if kind not in UPDATES:
        raise ValueError(f"unknown optimizer {kind!r}; choose one of {', '.join(OPTIMIZERS)}")
    return {"v": aligned.zeros(size, dtype), "s": aligned.zeros(size, dtype), "t": 0}


class Optimizer:
    """An update rule with its hyperparameters and state; hyperparameters may change between
    steps (babysitting a model) and take effect on the next step."""

    def __init__(
        self, kind: str, size: int, hyper: Hyper | None = None, dtype: DTypeLike = np.float32
    ) -> None:
        self.kind = kind
        self.hyper = hyper or Hyper()
        self.state = init_state(kind, size, dtype)

    def step(self, w: np.ndarray, dw: np.ndarray, epoch: int = 0) -> None:
        UPDATES[self.kind](w, dw, self.state, self.hyper, self.hyper.rate(epoch))

    def set(self, **changes: float) -> None:
        """Change hyperparameters (``lr=``, ``beta=``, ...) from the next step on."""
        self.hyper = replace(self.hyper, **changes)

    def remap(self, old_layout: ParamLayout, new_layout: ParamLayout) -> None:
        """Follow the network to a new parameter layout (BN switched on or off)."""
        self.state.pop("tmp", None)
        self.state["v"] = aligned.copy(old_layout.remap(self.state["v"], new_layout))
        self.state["s"] = aligned.copy(old_layout.remap(self.state["s"], new_layout))

    def __setstate__(self, state: dict[str, object]) -> None:
        # an unpickled (resumed, copied) optimizer's moments are realigned (see bnviz.nn.aligned)
        self.__dict__.update(state)
        self.state.pop("tmp", None)
        for key in ("v", "s"):
            self.state[key] = aligned.copy(self.state[key])  # type: ignore[literal-required]
