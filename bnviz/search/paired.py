"""What a paired round (``Sweep(pair_bn=True)``, ``bnviz sweep --pair-bn``) says: the share of
trials that reach a target, with batch norm and without, and where the good ones lie.

The course: BN makes the hyperparameter search easier, "a lot of suitable options". A paired
round trains the same sampled points both ways, so the two shares compare like with like.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bnviz.search.study import TrialRecord, TrialState


@dataclass(frozen=True)
class Share:
    """Of ``n`` trials of one side (``bn`` True or False), ``good`` reached the target;
    ``extent`` gives, per parameter, the (min, max) of its values over the good trials."""

    bn: bool
    n: int
    good: int
    extent: dict[str, tuple[float, float]]

    @property
    def fraction(self) -> float:
        return self.good / self.n if self.n else math.nan


def reached(t: TrialRecord, metric: str, threshold: float) -> bool:
    """Whether trial ``t`` reached the target: ``val_acc >= threshold`` or ``val_loss <=
    threshold``; a diverged, failed or pruned trial never does."""
    if t.state != TrialState.COMPLETE:
        return False
    value = getattr(t, metric)
    if value is None or not math.isfinite(value):
        return False
    return value >= threshold if metric == "val_acc" else value <= threshold


def paired_shares(
    trials: Iterable[TrialRecord],
    metric: str = "val_acc",
    threshold: float = 0.9,
    params: Sequence[str] = ("lr", "beta"),
) -> dict[bool, Share]:
    """``{True: Share with BN, False: Share without}`` over the trials that have a ``bn``
    parameter (the paired ones)."""
    if metric not in ("val_acc", "val_loss"):
        raise ValueError(f"metric must be val_acc or val_loss, got {metric!r}")
    out = {}
    rows = [t for t in trials if "bn" in t.params]
    for bn in (True, False):
        side = [t for t in rows if bool(t.params["bn"]) == bn]
        good = [t for t in side if reached(t, metric, threshold)]
        extent = {}
        for p in params:
            values = [float(t.params[p]) for t in good if p in t.params]
            if values:
                extent[p] = (min(values), max(values))
        out[bn] = Share(bn=bn, n=len(side), good=len(good), extent=extent)
    return out
