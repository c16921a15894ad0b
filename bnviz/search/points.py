"""Qt-free bookkeeping of the explorer: which scale an axis uses and where each trial sits.

Kept apart from the widgets so the rules (first round's scale wins, diverged trials rank
worst, failed ones are left out, only complete trials can be best, metric orientation) can be
read, and tested, without a window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bnviz.search.importance import loss_for_ranking
from bnviz.search.relevance import idle_reason, trial_values
from bnviz.search.spaces import Space, parse_space
from bnviz.search.study import TrialRecord, TrialState
from bnviz.train.config import SAMPLED

# What a range field holds before the user types anything, per sampled parameter: the
# registry's default space (numeric and categorical alike: a categorical axis is a strip).
DEFAULT_RANGES = {name: s.space for name, (_, s) in SAMPLED.items()}
METRICS = {"val_loss": "validation loss", "val_acc": "validation accuracy"}
STRIP_HALF_WIDTH = 0.3  # a category's trials spread over index +- this, so they do not overlap
_GOLDEN = 0.6180339887498949  # consecutive ids land far apart within the strip


def axis_space(rounds: list[dict], name: str, fallback: Space | None = None) -> Space | None:
    """The space that sets an axis' scale: the widest range any round sampled ``name`` on.

    The first round's kind wins (a plot has one scale); later rounds only widen the range, so
    every point of the study fits on the axis. ``fallback`` (the range field) is used for a
    parameter the study has not sampled yet.
    """
    found = [s for r in rounds for s in r["spaces"] if s.name == name and s.kind != "fixed"]
    if not found:
        return fallback if fallback is None or fallback.kind != "fixed" else None
    first = found[0]
    same = [s for s in found if s.kind == first.kind]
    if first.kind == "cat":
        return first
    return Space(name, first.kind, min(s.low for s in same), max(s.high for s in same))


def default_space(name: str) -> Space | None:
    text = DEFAULT_RANGES.get(name)
    return parse_space(name, text) if text else None


def fixed_params(config: dict) -> dict:
    """The sampled names' values in a config (a ``TrainConfig.to_dict()``): what a trial ran
    with for each parameter its round did not sample (``width``/``layers`` from ``hidden``)."""
    out = {}
    for name, (field, _) in SAMPLED.items():
        if field == "hidden":
            hidden = list(config.get("hidden") or [])
            if name == "layers":
                out[name] = len(hidden)
            elif hidden:
                out[name] = hidden[0]
        elif field in config:
            out[name] = config[field]
    return out


def metric_value(t: TrialRecord, metric: str) -> float:
    """The trial's result for colouring (a pruned trial's is partial); NaN when it has none:
    diverged, failed, or never evaluated."""
    v = getattr(t, metric)
    has_result = t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    return float(v) if has_result and v is not None and math.isfinite(v) else math.nan


@dataclass(frozen=True)
class PlotPoints:
    """Trials placed on the two plotted axes (arrays of shape (n,), in axis coordinates)."""

    ids: np.ndarray
    rounds: np.ndarray
    x: np.ndarray
    y: np.ndarray
    metric: np.ndarray  # NaN for diverged/failed trials
    state: np.ndarray  # TrialState values (str)
    kind: np.ndarray | None = None  # trial kinds (str: "sampled", "babysat"); None: all sampled


def place(trials: list[TrialRecord], xs: Space, ys: Space, metric: str) -> PlotPoints:
    """Put every trial that sampled both plotted parameters on the plot."""
    kept = [t for t in trials if xs.name in t.params and ys.name in t.params]

    def coords(space: Space) -> np.ndarray:
        try:
            at = space.to_axis([t.params[space.name] for t in kept]).astype(float)
        except (ValueError, TypeError):  # a categorical value the space does not list
            return np.full(len(kept), math.nan)
        if space.kind == "cat":
            at = at + strip_offsets([t.id for t in kept])
        return at

    return PlotPoints(
        ids=np.array([t.id for t in kept], dtype=int),
        rounds=np.array([t.round for t in kept], dtype=int),
        x=coords(xs) if kept else np.zeros(0),
        y=coords(ys) if kept else np.zeros(0),
        metric=np.array([metric_value(t, metric) for t in kept], dtype=float),
        state=np.array([t.state.value for t in kept], dtype=object),
        kind=np.array([t.kind for t in kept], dtype=object),
    )


def strip_offsets(ids: list[int]) -> np.ndarray:
    """Where each trial sits across its category's strip: fixed by its id, so a point never
    jumps between redraws, and spread evenly (golden-ratio steps) within +-STRIP_HALF_WIDTH."""
    frac = (np.asarray(ids, dtype=float) * _GOLDEN) % 1.0
    return (2.0 * frac - 1.0) * STRIP_HALF_WIDTH


def best_id(trials: list[TrialRecord], metric: str) -> int | None:
    """The best complete trial by ``metric`` (lowest loss or highest accuracy), earliest on
    ties; failed and pruned trials are never best (as in ``Study.best``)."""
    sign = -1.0 if metric == "val_acc" else 1.0
    scored = [
        (sign * metric_value(t, metric), t.id) for t in trials if t.state is TrialState.COMPLETE
    ]
    scored = [s for s in scored if not math.isnan(s[0])]
    return min(scored)[1] if scored else None


def sampled_coords(
    trials: list[TrialRecord], rounds: list[dict], fixed: dict | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per numeric sampled parameter: its axis coordinate and the loss to rank it by, over the
    trials that sampled it and could feel it (arrays of shape (n_name,)).

    Each parameter takes the trials that sampled it, not only those that sampled every
    parameter: after a round on (lr, beta) and one on (batch_size, beta), no trial has all
    three, and every bar would read zero. Failed trials are left out: a worker that raised says
    nothing about the loss. So are trials in which the parameter did nothing (beta under plain
    SGD: :func:`bnviz.search.relevance.idle_reason`, judged on the trial's round's fixed
    settings, else ``fixed``); a parameter no trial could feel has no entry (see
    :func:`unfelt`).
    """
    trials = [t for t in trials if t.state is not TrialState.FAILED]
    names = sorted({n for t in trials for n in t.params})
    found = {n: axis_space(rounds, n) for n in names}
    spaces = {n: s for n, s in found.items() if s is not None and s.kind != "cat"}
    values = _trial_settings(trials, rounds, fixed)
    out = {}
    for n, s in spaces.items():
        kept = [t for t in trials if n in t.params and idle_reason(n, values[t.id]) is None]
        if not kept:
            continue
        losses = [loss_for_ranking(t.val_loss, t.diverged) for t in kept]
        out[n] = (s.to_axis([t.params[n] for t in kept]), np.array(losses, dtype=float))
    return out


def unfelt(trials: list[TrialRecord], rounds: list[dict], fixed: dict | None = None) -> dict:
    """The sampled parameters that no (non-failed) trial could feel, name -> why (the first
    such trial's reason): importance leaves them out rather than rank noise."""
    trials = [t for t in trials if t.state is not TrialState.FAILED]
    values = _trial_settings(trials, rounds, fixed)
    reasons: dict[str, str | None] = {}
    for t in trials:
        for n in t.params:
            why = idle_reason(n, values[t.id])
            if why is None:
                reasons[n] = None
            else:
                reasons.setdefault(n, why)
    return {n: why for n, why in sorted(reasons.items()) if why is not None}


def _trial_settings(
    trials: list[TrialRecord], rounds: list[dict], fixed: dict | None
) -> dict[int, dict]:
    """trial id -> the settings it ran with (its round's fixed ones, else ``fixed``)."""
    by_round = {r.get("id"): r.get("fixed") for r in rounds}
    return {t.id: trial_values(by_round.get(t.round) or fixed, t.params) for t in trials}


def plotted_quantity(space: Space, values: list) -> tuple[np.ndarray, float, float, str]:
    """What the histograms count: the value, or ``1 - value`` for a one-minus space.

    Returns (quantity per trial, range low, range high, label).
    """
    v = np.asarray(values, dtype=float)
    if space.kind == "1m":
        low, high = space.bounds
        return 1.0 - v, 1.0 - high, 1.0 - low, f"1 - {space.name}"
    low, high = space.bounds
    return v, float(low), float(high), space.name
