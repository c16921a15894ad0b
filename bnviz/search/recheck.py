"""What a re-check round found: each re-run trial's old and new validation loss, paired.

The course's advice on the tuning process: hyperparameters get stale. The data grow, the
noise changes, the budget moves; re-evaluate the best settings from time to time. A re-check
round (:meth:`bnviz.search.sweep.Sweep.recheck`) re-runs the best trials with their sampled
values under today's fixed settings; here each new trial is paired with the one it repeats
(``recheck_of``), and the Spearman correlation of the two losses says whether the old ranking
still holds (near 1) or the intuition has gone stale (near 0 or below).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bnviz.search.importance import loss_for_ranking, spearman
from bnviz.search.study import TrialRecord, TrialState

ADVICE = (
    "Re-evaluate your hyperparameters from time to time: intuitions get stale when the data, "
    "the noise or the budget change."
)


@dataclass(frozen=True)
class RecheckPair:
    """One re-checked trial: the old trial ``then_id`` and its repeat ``now_id``, with their
    validation losses (``inf`` when the run diverged: it ranks worst)."""

    then_id: int
    now_id: int
    then_loss: float
    now_loss: float


def _loss(t: TrialRecord) -> float:
    return loss_for_ranking(t.val_loss, t.state is TrialState.DIVERGED)


def latest_recheck_round(trials: list[TrialRecord]) -> int | None:
    """The newest round that re-checked trials, or None if there is none."""
    rounds = [t.round for t in trials if t.recheck_of is not None]
    return max(rounds) if rounds else None


def recheck_pairs(trials: list[TrialRecord], round_id: int) -> list[RecheckPair]:
    """The pairs of re-check round ``round_id``, in the order its trials were stored.

    A repeat whose worker failed, or whose original is not among ``trials``, is left out:
    neither says anything about whether the ranking held. With repeats (``--repeats``) a pair
    is a group then and its re-run group now, each by its mean (``inf`` if a seed diverged).
    """
    by_id = {t.id: t for t in trials}
    members: dict[int, list[TrialRecord]] = {}
    for t in trials:
        if t.group is not None:
            members.setdefault(t.group, []).append(t)
    out, seen = [], set()
    for t in trials:
        old = by_id.get(t.recheck_of) if t.recheck_of is not None else None
        if t.round != round_id or old is None or t.state is TrialState.FAILED:
            continue
        key = t.id if t.group is None else t.group
        if key not in seen:
            seen.add(key)
            out.append(RecheckPair(old.id, key, _mean_loss(old, members),
                                   _mean_loss(t, members)))  # fmt: skip
    return out


def _mean_loss(t: TrialRecord, members: dict[int, list[TrialRecord]]) -> float:
    """A trial's loss for ranking, or its group's mean over the seeds that gave one."""
    if t.group is None:
        return _loss(t)
    group = [m for m in members[t.group] if m.state is not TrialState.FAILED]
    losses = [_loss(m) for m in group]
    return sum(losses) / len(losses) if losses else _loss(t)


def rank_agreement(pairs: list[RecheckPair]) -> float:
    """Spearman correlation of the old and new losses; NaN under 3 pairs (nothing to rank)."""
    return spearman([p.then_loss for p in pairs], [p.now_loss for p in pairs])


def verdict(rho: float) -> str:
    """One line on what the correlation means for the old ranking."""
    if math.isnan(rho):
        return "too few re-checked trials to rank (3 at least)"
    if rho >= 0.8:
        return f"rank correlation {rho:.2f}: the old ranking still holds"
    if rho >= 0.4:
        return f"rank correlation {rho:.2f}: the ranking partly holds; look again around the best"
    return f"rank correlation {rho:.2f}: the old ranking no longer holds: search again"


def label_groups(at: list[tuple[int, float]], min_gap: float) -> list[tuple[float, list[int]]]:
    """Place the slope chart's labels so none prints over another.

    Trials whose old losses tie exactly share one label ("#3, #7"); labels nearer than
    ``min_gap`` are pushed apart, each crowd spread evenly around the mean of its members'
    true positions (so the labels keep the lines' order and stay as near them as they can).

    Parameters
    ----------
    at : (trial id, y) per label, y in plot units (log10 of the loss on the chart's log axis).
    min_gap : a label's height in plot units.

    Returns
    -------
    list of (y, ids) : one entry per label, ascending y; consecutive ys at least ``min_gap``
        apart; ``ids`` ascending.
    """
    ties: dict[float, list[int]] = {}
    for trial_id, y in at:
        ties.setdefault(y, []).append(trial_id)
    # crowds: [sum of true ys, their labels (y, ids)], merged while neighbours overlap
    crowds: list[tuple[float, list[tuple[float, list[int]]]]] = [
        (y, [(y, sorted(ids))]) for y, ids in sorted(ties.items())
    ]
    merged = True
    while merged:
        merged = False
        for i in range(len(crowds) - 1):
            (lo_sum, lo), (hi_sum, hi) = crowds[i], crowds[i + 1]
            lo_top = lo_sum / len(lo) + (len(lo) - 1) * min_gap / 2
            hi_bottom = hi_sum / len(hi) - (len(hi) - 1) * min_gap / 2
            if hi_bottom - lo_top < min_gap:
                crowds[i : i + 2] = [(lo_sum + hi_sum, lo + hi)]
                merged = True
                break
    out = []
    for total, labels in crowds:
        first = total / len(labels) - (len(labels) - 1) * min_gap / 2
        out += [(first + k * min_gap, ids) for k, (_, ids) in enumerate(labels)]
    return out
