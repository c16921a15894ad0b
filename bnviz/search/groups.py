"""Repeated seeds (``bnviz sweep --repeats K``): a configuration's result over K seeds.

One seed's validation loss is an anecdote: two runs of the same values differ by their
initialisation and batch order, sometimes more than two neighbouring configurations do. A group
trains the same sampled values with seeds ``seed, seed + 1, ...``; its mean says how good the
configuration is and its standard deviation (n - 1) how far one run can be trusted.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bnviz.search.study import TrialRecord, TrialState


@dataclass(frozen=True)
class GroupStats:
    """One group: ``group`` (its first stored trial's id), ``trials`` (its members' ids),
    ``n`` members with a result (complete, finite loss), their mean and sd (None below 1 and 2
    results)."""

    group: int
    trials: tuple[int, ...]
    n: int
    val_loss_mean: float | None
    val_loss_sd: float | None

    @property
    def whole(self) -> bool:
        """Every member has a result: only such a group can be the best (a seed that diverged
        is part of what the configuration does)."""
        return self.n == len(self.trials)

    def to_json(self) -> dict:
        return {"group": self.group, "n": self.n, "val_loss_mean": self.val_loss_mean,
                "val_loss_sd": self.val_loss_sd, "trials": list(self.trials)}  # fmt: skip


def group_stats(trials: Iterable[TrialRecord]) -> list[GroupStats]:
    """The groups among ``trials``, by group id."""
    members: dict[int, list[TrialRecord]] = {}
    for t in trials:
        if t.group is not None:
            members.setdefault(t.group, []).append(t)
    out = []
    for gid in sorted(members):
        losses = [float(t.val_loss or 0.0) for t in members[gid] if _result(t)]
        mean = statistics.fmean(losses) if losses else None
        sd = statistics.stdev(losses) if len(losses) >= 2 else None  # n - 1
        ids = tuple(sorted(t.id for t in members[gid]))
        out.append(GroupStats(gid, ids, len(losses), mean, sd))
    return out


def best_id(trials: list[TrialRecord]) -> int | None:
    """The best by validation loss, a group counting by its mean (its id then), a trial
    outside groups by its own loss; only whole groups and complete trials compete; the earlier
    id on ties."""
    scored = [(g.val_loss_mean, g.group) for g in group_stats(trials) if g.whole]
    scored += [(t.val_loss, t.id) for t in trials if t.group is None and _result(t)]
    ok = [(v, i) for v, i in scored if v is not None]
    return min(ok)[1] if ok else None


def _result(t: TrialRecord) -> bool:
    return t.state is TrialState.COMPLETE and t.val_loss is not None and math.isfinite(t.val_loss)


def by_group(trials: list[TrialRecord]) -> tuple[list[TrialRecord], dict[int, GroupStats]]:
    """What the explorer plots: each group of repeats as one record at its values, and the
    ungrouped trials as they are.

    A whole group's record is its first trial with the mean validation loss (and mean
    accuracy); a group with a seed that diverged or failed is that member, so it is drawn as
    such. Returns the records and the stats by group id (for the hover's mean +- sd).
    """
    stats = {g.group: g for g in group_stats(trials)}
    members: dict[int, list[TrialRecord]] = {}
    for t in trials:
        if t.group is not None:
            members.setdefault(t.group, []).append(t)
    out = []
    for t in trials:
        if t.group is None:
            out.append(t)
        elif t.id == min(m.id for m in members[t.group]):
            g = stats[t.group]
            if not g.whole:
                out.append(next(m for m in members[t.group] if not _result(m)))
                continue
            accs = [m.val_acc for m in members[t.group] if m.val_acc is not None]
            acc = statistics.fmean(accs) if len(accs) == g.n else None
            out.append(dataclasses.replace(t, val_loss=g.val_loss_mean, val_acc=acc))
    return out, stats


def ranked(trials: list[TrialRecord]) -> list[TrialRecord]:
    """Best first by validation loss, a whole group as one record at its mean (its first
    trial), complete ungrouped trials as they are; earlier ids first on ties. What a re-check
    of a study with repeats picks from: configurations, not lucky seeds."""
    shown, _ = by_group(trials)
    done = [t for t in shown if _result(t)]
    return sorted(done, key=lambda t: (float(t.val_loss or 0.0), t.id))


def spread(trials: list[TrialRecord], metric: str) -> dict[int, float]:
    """The sd (n - 1) of ``metric`` (``val_loss`` or ``val_acc``) over each whole group's
    seeds, by the id :func:`by_group` plots the group at (its first trial's); groups with fewer
    than 2 results, a member without one, or a non-finite value have none. The scatter draws
    it as a halo on the colour scale's units."""
    members: dict[int, list[TrialRecord]] = {}
    for t in trials:
        if t.group is not None:
            members.setdefault(t.group, []).append(t)
    out = {}
    for ms in members.values():
        values = [getattr(m, metric) for m in ms if _result(m)]
        if len(values) == len(ms) >= 2 and all(v is not None and math.isfinite(v) for v in values):
            out[min(m.id for m in ms)] = statistics.stdev(float(v) for v in values)
    return out
