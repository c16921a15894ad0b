"""Optimizers in one shape, ``update(w, dw, state, hp) -> (w, state)``, the state explicit.

``w`` and ``dw`` are flat vectors (every parameter of a network, gamma and beta included: they
are updated like W); ``w`` is updated in place so the network's views see the new values.
``state`` is a dict of arrays shaped like ``w`` plus a step counter, so it can be remapped when
the network's layout changes (the live BN toggle).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
ADAM_EPS = 1e-8


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


def sgd(w, dw, state, hp: Hyper, lr: float):
    """``w -= alpha dw``."""
    w -= lr * dw
    return w, state


def momentum(w, dw, state, hp: Hyper, lr: float):
    """The course's form: ``v = beta v + (1 - beta) dw``, ``w -= alpha v``."""
    v = state["v"]
    v *= hp.beta
    v += (1 - hp.beta) * dw
    w -= lr * v
    return w, state


def rmsprop(w, dw, state, hp: Hyper, lr: float):
    """``s = beta2 s + (1 - beta2) dw^2``, ``w -= alpha dw / (sqrt(s) + eps)``."""
    s = state["s"]
    s *= hp.beta2
    s += (1 - hp.beta2) * (dw * dw)
    w -= lr * dw / (np.sqrt(s) + hp.eps)
    return w, state


def adam(w, dw, state, hp: Hyper, lr: float):
    """Momentum and RMSprop together, with bias correction ``v / (1 - beta^t)``."""
    state["t"] += 1
    t, v, s = state["t"], state["v"], state["s"]
    v *= hp.beta
    v += (1 - hp.beta) * dw
    s *= hp.beta2
    s += (1 - hp.beta2) * (dw * dw)
    # Fold both corrections into the step size: alpha * sqrt(1-b2^t)/(1-b1^t) * v / (sqrt(s)+eps')
    c1, c2 = 1 - hp.beta**t, 1 - hp.beta2**t
    w -= (lr / c1) * v / (np.sqrt(s / c2) + hp.eps)
    return w, state


UPDATES = {"sgd": sgd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}


def init_state(kind: str, size: int, dtype=np.float32) -> dict:
    """Zeroed state for ``kind``: v (first moment), s (second moment), t (step count)."""
    if kind not in UPDATES:
        raise ValueError(f"unknown optimizer {kind!r}; choose one of {', '.join(OPTIMIZERS)}")
    return {"v": np.zeros(size, dtype), "s": np.zeros(size, dtype), "t": 0}


class Optimizer:
    """An update rule with its hyperparameters and state; hyperparameters may change between
    steps (babysitting a model) and take effect on the next step."""

    def __init__(self, kind: str, size: int, hyper: Hyper | None = None, dtype=np.float32):
        self.kind = kind
        self.hyper = hyper or Hyper()
        self.state = init_state(kind, size, dtype)

    def step(self, w: np.ndarray, dw: np.ndarray, epoch: int = 0) -> None:
        UPDATES[self.kind](w, dw, self.state, self.hyper, self.hyper.rate(epoch))

    def set(self, **changes) -> None:
        """Change hyperparameters (``lr=``, ``beta=``, ...) from the next step on."""
        self.hyper = replace(self.hyper, **changes)

    def remap(self, old_layout, new_layout) -> None:
        """Follow the network to a new parameter layout (BN switched on or off)."""
        for key in ("v", "s"):
            self.state[key] = old_layout.remap(self.state[key], new_layout)
