"""Parallel coordinates of a study: one vertical axis per sampled hyperparameter, and the metric.

Each axis is drawn on its sampling scale, the one the trials were drawn uniformly on (log10 for
``log``, log10(1 - beta) for ``1m``, log2 for ``pow2``, the choice index for ``cat``; see
:meth:`Space.to_axis`), rescaled to [0, 1] over the widest range the study sampled, so a decade
of learning rate takes as much room as a decade of 1 - beta. A trial is a polyline through its
coordinates (NaN where its round did not sample that parameter: the view draws the line
straight past that axis). Brushing an axis keeps the trials whose coordinate there falls in
the band (:func:`brushed`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bnviz.search.points import axis_space, metric_value
from bnviz.search.spaces import Space
from bnviz.search.study import TrialRecord
from bnviz.train.config import SAMPLED

RANK = {name: s.rank for name, (_, s) in SAMPLED.items()}


@dataclass(frozen=True)
class ParallelData:
    """``names`` (the axes: parameters, then the metric), ``spaces`` (None for the metric),
    ``ids`` (n,) and ``y`` (n, len(names)) in [0, 1], NaN where a trial has no value;
    ``metric`` (n,) the raw values; ``metric_range`` what 0 and 1 mean on the metric axis."""

    names: tuple[str, ...]
    spaces: tuple[Space | None, ...]
    ids: np.ndarray
    y: np.ndarray
    metric: np.ndarray
    metric_range: tuple[float, float]


def parallel_data(trials: list[TrialRecord], rounds: list[dict], metric: str) -> ParallelData:
    """Every sampled parameter of the study (in the course's order) and ``metric``, per trial."""
    names = sorted({n for t in trials for n in t.params}, key=lambda n: (RANK.get(n, 99), n))
    spaces = [axis_space(rounds, n) for n in names]
    keep = [(n, s) for n, s in zip(names, spaces) if s is not None]
    values = np.array([metric_value(t, metric) for t in trials], dtype=float)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    columns = [_column(trials, n, s) for n, s in keep]
    columns.append(_scale(values, lo, hi))
    y = np.column_stack(columns) if trials else np.zeros((0, len(keep) + 1))
    return ParallelData(
        names=(*(n for n, _ in keep), metric),
        spaces=(*(s for _, s in keep), None),
        ids=np.array([t.id for t in trials], dtype=int),
        y=y,
        metric=values,
        metric_range=(lo, hi),
    )


def position(space: Space, value: float) -> float:
    """Where ``value`` (in the space's axis coordinate) sits on its [0, 1] axis."""
    lo, hi = space.axis_range
    if space.kind == "cat":
        return value / max(len(space.choices) - 1, 1)
    return (value - lo) / (hi - lo) if hi > lo else 0.5


def brushed(y: np.ndarray, brushes: dict[int, tuple[float, float]]) -> np.ndarray:
    """Which rows of ``y`` (n, d) lie inside every brush (axis index -> (lo, hi) in [0, 1]); a
    trial with no value on a brushed axis is out."""
    keep = np.ones(len(y), dtype=bool)
    for k, (lo, hi) in brushes.items():
        col = y[:, k]
        keep &= np.isfinite(col) & (col >= min(lo, hi)) & (col <= max(lo, hi))
    return keep


def _column(trials: list[TrialRecord], name: str, space: Space) -> np.ndarray:
    """The trials' positions on one axis, all at once (a thousand trials: one ``to_axis``)."""
    out = np.full(len(trials), math.nan)
    rows = [i for i, t in enumerate(trials) if name in t.params]
    if not rows:
        return out
    if space.kind == "cat":  # a choice this axis does not list stays NaN
        index = {c: k for k, c in enumerate(space.choices)}
        at = [index.get(trials[i].params[name], math.nan) for i in rows]
        out[rows] = np.asarray(at, dtype=float) / max(len(space.choices) - 1, 1)
        return out
    try:
        coords = space.to_axis([trials[i].params[name] for i in rows]).astype(float)
    except (ValueError, TypeError):  # a value that is no number: the axis has no place for it
        return out
    lo, hi = space.axis_range
    out[rows] = (coords - lo) / (hi - lo) if hi > lo else 0.5
    return out


def _scale(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (values - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(values), 0.5, np.nan)


def nearest_line(y: np.ndarray, x: float, at: float, tolerance: float) -> int | None:
    """The row of ``y`` (n, d) whose polyline passes closest, vertically, to the point (x, at)
    (x in axis spacings 0..d-1, at in 0..1), if within ``tolerance``; else None.

    A line steps over an axis its trial has no value on (NaN), as it is drawn: its segment at x
    runs from its last value at or left of x to its first at or right of it. A row with no value
    on either side has no segment there (nor does a NaN row: a hidden line cannot be clicked).
    """
    n, d = y.shape
    if n == 0 or not 0.0 <= x <= d - 1:
        return None
    cols = np.arange(d)
    finite = np.isfinite(y)
    left = np.where(finite & (cols <= x), cols, -1).max(axis=1)
    right = np.where(finite & (cols >= x), cols, d).min(axis=1)
    has = (left >= 0) & (right < d)
    rows = np.arange(n)
    lc, rc = np.clip(left, 0, d - 1), np.clip(right, 0, d - 1)
    span = rc - lc
    t = np.where(span > 0, (x - lc) / np.where(span > 0, span, 1), 0.0)
    height = y[rows, lc] + t * (y[rows, rc] - y[rows, lc])
    gap = np.where(has, np.abs(height - at), np.inf)
    best = int(np.argmin(gap))
    return best if gap[best] <= tolerance else None
