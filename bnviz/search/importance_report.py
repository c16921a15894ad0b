"""A study's importance, as ``bnviz sweep --json`` reports it: each sampled parameter's
|rank correlation| with the validation loss and its bootstrap 95% interval, fANOVA's share
when Optuna can compute it, and the course's rank, side by side.

The same numbers as the explorer's importance bars, from the same functions: the rank
correlation over the trials that sampled the parameter and could feel it
(:func:`bnviz.search.points.sampled_coords`; failed trials left out, diverged ones ranked
worst), the interval :func:`bnviz.search.importance.importance_interval`, "too few trials"
below :data:`~bnviz.search.importance.MIN_TRIALS`, fANOVA
:func:`bnviz.search.optuna_export.fanova_importance`. A categorical parameter has no order to
rank, so only fANOVA speaks for it.

With repeated seeds (``--repeats``) the unit is the group, not the trial: K runs of one
configuration are not K independent draws of the parameters, so resampling them as trials would
narrow the interval for nothing. Each group counts once at its mean loss
(:func:`bnviz.search.groups.by_group`, as the explorer plots it), and ``n`` counts groups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bnviz.search import optuna_export
from bnviz.search.groups import by_group
from bnviz.search.importance import (
    BOOTSTRAP_SAMPLES,
    MIN_TRIALS,
    course_tier,
    importance_interval,
    spearman,
)
from bnviz.search.points import axis_space, sampled_coords, unfelt
from bnviz.search.study import TrialRecord, TrialState

RANK_METHOD = "|Spearman rank correlation| with val_loss"
FANOVA_METHOD = "fANOVA (Optuna's FanovaImportanceEvaluator)"
INTERVAL = (
    "percentile bootstrap of rho over {unit}, resampled with replacement "
    f"({BOOTSTRAP_SAMPLES:,} resamples), mapped to |rho|"
)


def study_importance(
    trials: Sequence[TrialRecord], rounds: list[dict], *, fanova: bool = True
) -> dict[str, dict[str, Any]]:
    """The ``"importance"`` object: per sampled parameter, ``method``, ``value``, ``ci95``,
    ``n``, ``course_rank`` (the contract), plus ``status`` (``ok``, ``too few trials``,
    ``undefined``: a constant value or loss, ``categorical``, ``unfelt``: no trial could feel
    it, ``why`` then says so), ``interval`` (how it was made: over trials, or over groups of
    repeats), ``min_trials``, and with ``fanova`` and Optuna installed ``fanova``
    (``{"method", "value", "why"}``: ``value`` None and ``why`` the reason when there is none).
    NaN is None."""
    grouped = any(t.group is not None for t in trials)
    shown, _ = by_group(list(trials))
    columns = sampled_coords(shown, rounds)
    idle = unfelt(shown, rounds)
    kept = [t for t in shown if t.state is not TrialState.FAILED]
    names = [n for n in dict.fromkeys(n for t in kept for n in t.params)]
    spaces = {n: axis_space(rounds, n) for n in names}
    shares, why = (
        _fanova(shown, rounds) if fanova and optuna_export.optuna_available() else ({}, None)
    )
    unit = "groups of repeats (each at its mean loss)" if grouped else "trials"
    out: dict[str, dict[str, Any]] = {}
    for name, space in spaces.items():
        if space is None or space.kind == "fixed":
            continue
        value, ci, n, status = math.nan, (math.nan, math.nan), 0, "undefined"
        if name in columns:
            coords, losses = columns[name]
            n = len(coords)
            value = abs(spearman(coords, losses)) if n >= MIN_TRIALS else math.nan
            ci = importance_interval(coords, losses)
            status = (
                "too few trials" if n < MIN_TRIALS else "ok" if math.isfinite(value) else status
            )
        elif space.kind == "cat":
            status = "categorical"
            n = sum(1 for t in kept if name in t.params)
        elif name in idle:
            status = "unfelt"
        entry: dict[str, Any] = {
            "method": RANK_METHOD,
            "value": _num(value),
            "ci95": [_num(ci[0]), _num(ci[1])],
            "n": n,
            "course_rank": course_tier(name),
            "status": status,
            "interval": INTERVAL.format(unit=unit),
            "min_trials": MIN_TRIALS,
        }
        if status == "unfelt":
            entry["why"] = idle[name]
        if fanova and optuna_export.optuna_available():
            entry["fanova"] = {
                "method": FANOVA_METHOD,
                "value": _num(shares[name]) if name in shares else None,
                "why": None if name in shares else why or "not among fANOVA's parameters",
            }
        out[name] = entry
    return out


def _fanova(trials: list[TrialRecord], rounds: list[dict]) -> tuple[dict[str, float], str | None]:
    """fANOVA's shares, or ``{}`` and why there are none."""
    try:
        shares = optuna_export.fanova_importance(trials, rounds)
    except optuna_export.ExportError as e:
        return {}, str(e)
    except Exception as e:  # the evaluator's own failure: said, never fatal
        return {}, f"fANOVA failed: {type(e).__name__}: {e}"
    if not shares:
        return {}, (
            f"too few complete trials or parameters ({MIN_TRIALS} trials that sampled the same "
            "2 parameters at least)"
        )
    return shares, None


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
