"""One running average, three ways of writing it: the word "momentum" means opposite things.

The course and Keras write ``running = k running + (1 - k) batch`` and call k (0.9 in the
course, 0.99 by default in Keras) the momentum: the weight on the old value. PyTorch writes
``running = (1 - m) running + m batch`` with m = 0.1 by default: the weight on the new value.
With m = 1 - k they are the same number. They also differ in which variance they average:

- PyTorch keeps the unbiased variance, the batch's biased one times m/(m - 1);
- Keras 3 keeps the biased one;
- Keras 2 depended on the path: its fused kernel (4-D inputs, conv nets) returned and kept the
  unbiased one, its non-fused path (2-D inputs, dense layers like these) the biased one.

bnviz follows the course's notation (``bn_momentum = k = 0.9``, the weight on the old value,
:func:`bnviz.nn.layers.running_average`) and PyTorch's unbiased running variance
(:func:`bnviz.nn.layers.batchnorm_running_update`). :func:`written` plugs a network's own
numbers into each convention, so the view can show it is one number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnviz.nn.layers import unbiased_variance_factor
from bnviz.train.bn_record import RunningTrace


@dataclass(frozen=True)
class Convention:
    """How one library writes the running average: ``momentum_of(k)`` is its "momentum" for
    bnviz's k, ``default`` its default value."""

    key: str
    name: str
    formula: str
    meaning: str
    default: float
    weight_on_new: bool  # PyTorch: "momentum" is the weight on the new value

    def momentum_of(self, k: float) -> float:
        return 1.0 - k if self.weight_on_new else k


CONVENTIONS = (
    Convention(
        "course", "the course (and bnviz): bn_momentum = k",
        "running = k · running + (1 − k) · batch",
        "k is the weight on the old value (bnviz's bn_momentum, 0.9)", 0.9, False,
    ),
    Convention(
        "keras", "Keras: momentum = k",
        "moving = momentum · moving + (1 − momentum) · batch",
        "momentum is the weight on the old value (default 0.99)", 0.99, False,
    ),
    Convention(
        "pytorch", "PyTorch: momentum = 1 − k",
        "running = (1 − momentum) · running + momentum · batch",
        "momentum is the weight on the new value (default 0.1)", 0.1, True,
    ),
)  # fmt: skip


def convention(key: str) -> Convention:
    """The convention named ``key`` ("course", "keras" or "pytorch")."""
    for c in CONVENTIONS:
        if c.key == key:
            return c
    raise ValueError(f"no convention {key!r}; choose from {', '.join(c.key for c in CONVENTIONS)}")


@dataclass(frozen=True)
class UnitUpdate:
    """One unit's running update at ``step``, with the numbers the network used: k, the batch
    size m, the estimates before and after, the batch's mean and biased variance."""

    step: int
    k: float
    m: int
    mean_before: float
    batch_mean: float
    mean_after: float
    var_before: float
    batch_var: float
    var_after: float


def last_update(trace: RunningTrace | None, unit: int = 0) -> UnitUpdate | None:
    """The latest recorded update of ``unit``; None without two consecutive recorded steps."""
    if trace is None or len(trace.steps) < 2 or trace.steps[-1] != trace.steps[-2] + 1:
        return None
    return UnitUpdate(
        step=int(trace.steps[-1]),
        k=float(trace.momentum[-1]),
        m=int(trace.batch_size[-1]),
        mean_before=float(trace.running_mean[-2, unit]),
        batch_mean=float(trace.batch_mean[-1, unit]),
        mean_after=float(trace.running_mean[-1, unit]),
        var_before=float(trace.running_var[-2, unit]),
        batch_var=float(trace.batch_var[-1, unit]),
        var_after=float(trace.running_var[-1, unit]),
    )


def _g(x: float) -> str:
    return f"{x:.4g}".replace("-", "−")


def written(
    conv: Convention, k: float, before: float, batch: float, m: int | None = None
) -> tuple[str, float]:
    """``(text, value)``: one step of the running average in ``conv``'s notation with these
    numbers, e.g. ``"0.9 × 0.123 + 0.1 × 0.456 = 0.1563"``. With ``m`` the batch value is a
    biased variance made unbiased (``× m/(m − 1)``), as bnviz and PyTorch do."""
    new = float(batch) * (unbiased_variance_factor(m) if m is not None else 1.0)
    value = float(np.float64(k) * before + (1.0 - np.float64(k)) * new)
    b = f"({m}/{m - 1} × {_g(batch)})" if m is not None and m > 1 else _g(batch)
    mom = conv.momentum_of(k)
    if conv.weight_on_new:
        text = f"(1 − {_g(mom)}) × {_g(before)} + {_g(mom)} × {b}"
    else:
        text = f"{_g(mom)} × {_g(before)} + (1 − {_g(mom)}) × {b}"
    return f"{text} = {_g(value)}", value
