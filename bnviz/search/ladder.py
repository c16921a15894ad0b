"""A pruned round as ladders: each bracket's rungs, who reached each one, who went on.

Read back from the trials alone (their curves, and the rungs ``pruned_at`` names), so a round of
successive halving (one bracket) or Hyperband (several) stored by any executor draws the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bnviz.search.study import TrialRecord, TrialState


@dataclass(frozen=True)
class Rung:
    """One rung: ``epochs``; the trials that reached it, best first (``ranked``: ids, and their
    losses there); ``kept``: how many of them went on (0 at the top rung)."""

    epochs: int
    ranked: tuple[int, ...]
    losses: tuple[float, ...]
    kept: int


@dataclass(frozen=True)
class Ladder:
    """One bracket (``s``; None for plain successive halving) and its rungs, lowest first."""

    s: int | None
    rungs: tuple[Rung, ...]


def latest_pruned_round(trials: list[TrialRecord]) -> int | None:
    """The newest round that pruned a trial (successive halving or Hyperband), or None."""
    rounds = [t.round for t in trials if t.state is TrialState.PRUNED or t.bracket is not None]
    return max(rounds) if rounds else None


def ladders(trials: list[TrialRecord], round_id: int) -> list[Ladder]:
    """The ladders of round ``round_id``, the most aggressive bracket (highest s) first.

    A bracket's rungs are the epochs its pruned trials stopped at, and its longest curve; a
    trial reached a rung if its curve has a finite loss there (one evaluation per epoch), and
    went on if its curve goes further.
    """
    mine = [t for t in trials if t.round == round_id and t.kind == "sampled"]
    brackets = sorted({t.bracket for t in mine}, key=lambda s: -1 if s is None else -s)
    out = []
    for s in brackets:
        group = [t for t in mine if t.bracket == s]
        tops = {len(t.curve) for t in group}
        rung_epochs = {int(t.pruned_at["epochs"]) for t in group if t.pruned_at}
        rung_epochs.add(max(tops, default=0))
        rungs = []
        for e in sorted(r for r in rung_epochs if r >= 1):
            there = [(t.curve[e - 1][1], t.id, t) for t in group if _reached(t, e)]
            there.sort(key=lambda x: (x[0], x[1]))
            kept = sum(len(t.curve) > e for _, _, t in there)
            rungs.append(Rung(e, tuple(i for _, i, _ in there), tuple(v for v, _, _ in there),
                              kept))  # fmt: skip
        out.append(Ladder(s, tuple(rungs)))
    return out


def _reached(t: TrialRecord, epochs: int) -> bool:
    return len(t.curve) >= epochs and math.isfinite(t.curve[epochs - 1][1])
