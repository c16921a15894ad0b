"""Successive halving: stop weak trials early, so a round of many trials costs a few full ones.

The course's "caviar" approach trains many models in parallel and keeps the best; successive
halving makes it cheaper. Every trial trains to the first rung (E/9 epochs of E), is compared
with the others there, and only the best third goes on to E/3; at E/3 only the best third of
those goes on to the end. With 27 trials of 27 epochs: 27 x 3 + 9 x 6 + 3 x 18 = 189 epochs
of training instead of 729.

Decisions are made centrally, by the parent, once every trial of a rung has reported: the
comparison is fair (all at the same epoch), and it does not depend on which worker was fast.
This module is the pure part (where the rungs are, who goes on); :class:`bnviz.search.sweep.
Sweep` runs it on an executor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

PRUNE_FACTOR = 3  # at each rung 1 in PRUNE_FACTOR trials goes on
PRUNE_RUNGS = 2  # rungs before the end: E / 3**2 and E / 3


def rung_epochs(
    epochs: int, factor: int = PRUNE_FACTOR, rungs: int = PRUNE_RUNGS
) -> tuple[int, ...]:
    """The epochs at which trials are compared, ascending, ending with ``epochs`` itself.

    ``E // factor**k`` for ``k = rungs .. 1`` (27 -> 3, 9, 27); rungs that round to 0 or
    coincide are dropped, so a short budget has fewer (4 -> 1, 4; 2 -> 2: no pruning).
    """
    if epochs < 1 or factor < 2 or rungs < 0:
        raise ValueError(f"rungs need epochs >= 1 and factor >= 2, got {epochs}, {factor}")
    points = {epochs // factor**k for k in range(rungs, 0, -1)}
    return (*sorted(p for p in points if 1 <= p < epochs), epochs)


def promote(
    losses: Mapping[int, float | None], factor: int = PRUNE_FACTOR
) -> tuple[list[int], list[int]]:
    """Split the trials that reached a rung into those that go on and those pruned.

    Parameters
    ----------
    losses : {trial index: validation loss at the rung}
        Only trials that reached the rung (not those that diverged or failed before it).
    factor : the best ``len(losses) // factor`` go on, at least one.

    Returns
    -------
    (go_on, pruned) : two ascending lists of indices.
        Lower loss ranks first; a missing or non-finite loss ranks last; ties go to the lower
        index (the earlier sample), so the split never depends on the order results arrived.
    """
    if factor < 2:
        raise ValueError(f"the reduction factor must be >= 2, got {factor}")
    go_on, why = cut(losses, max(1, len(losses) // factor) if losses else 0, 0)
    return go_on, sorted(why)


def cut(
    losses: Mapping[int, float | None], keep: int, epochs: int
) -> tuple[list[int], dict[int, dict]]:
    """Keep the best ``keep`` trials at a rung of ``epochs`` epochs; say why each other stopped.

    Ranked as :func:`promote` ranks (lower loss first, non-finite last, ties to the lower
    index). Returns the ascending indices that go on, and per pruned index its ``pruned_at``:
    ``{"epochs": the rung, "value": its loss there, "rank": its place (1 = best), "of": how many
    reached the rung, "kept": how many went on}``, what ``bnviz sweep --json`` reports.
    """
    order = sorted(losses, key=lambda i: (_rank(losses[i]), i))
    keep = max(0, min(keep, len(order)))
    why = {
        i: {"epochs": epochs, "value": losses[i], "rank": r + 1, "of": len(order), "kept": keep}
        for r, i in enumerate(order)
        if r >= keep
    }
    return sorted(order[:keep]), why


def pruned_text(p: Mapping) -> str:
    """A ``pruned_at`` in words: "stopped at 3 epochs: loss 0.82 ranked 7 of 9, the best 3
    went on"."""
    value = p.get("value")
    loss = f"loss {value:.3g}" if isinstance(value, (int, float)) else "no loss"
    kept = p["kept"]
    went = "the best went on" if kept == 1 else f"the best {kept} went on"
    epochs = f"{p['epochs']} epoch{'' if p['epochs'] == 1 else 's'}"
    return f"stopped at {epochs}: {loss} ranked {p['rank']} of {p['of']}, {went}"


def _rank(loss: float | None) -> float:
    return loss if loss is not None and math.isfinite(loss) else math.inf


def planned_epochs(trials: int, epochs: int, factor: int = PRUNE_FACTOR) -> int:
    """Epochs of training a halved round of ``trials`` takes if none diverges or fails (fewer
    if some do); an unpruned round takes ``trials * epochs``."""
    total, alive, reached = 0, trials, 0
    for rung in rung_epochs(epochs, factor):
        total += alive * (rung - reached)
        reached = rung
        alive = max(1, alive // factor) if alive else 0
    return total
