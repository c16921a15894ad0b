"""Hyperband (Li et al., JMLR 2018): successive halving in several brackets.

Successive halving must choose how many trials to start for a budget: many trials cut early
(they may drop a slow starter), or few trials run long. Hyperband hedges: bracket ``s`` starts
``n = ceil((s_max + 1) / (s + 1) * eta^s)`` trials at ``r = R eta^-s`` epochs and keeps the
best ``floor(n eta^-i)`` at rung ``i`` (``r eta^i`` epochs), for ``s = s_max .. 0`` with
``s_max = floor(log_eta R)``: the most aggressive bracket is successive halving from one
epoch, the last trains a few trials to the end with no pruning at all. For R = 81 epochs and
eta = 3 this is Table 1 of the paper.

Pure arithmetic on integers (no floating-point logarithm can put a rung one epoch off); the
sweep runs the plan (:class:`bnviz.search.sweep.Sweep` with ``hyperband=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ETA = 3


@dataclass(frozen=True)
class Bracket:
    """One bracket of the plan: ``rungs[i] = (n_i, r_i)``, ``n_i`` trials trained to ``r_i``
    epochs; the last rung's ``r`` is the full budget R."""

    s: int
    rungs: tuple[tuple[int, int], ...]

    @property
    def n(self) -> int:
        """Trials the bracket starts."""
        return self.rungs[0][0]

    @property
    def epochs(self) -> int:
        """Epochs of training the bracket takes if no trial diverges or fails."""
        total, reached = 0, 0
        for n_i, r_i in self.rungs:
            total += n_i * (r_i - reached)
            reached = r_i
        return total


def s_max(epochs: int, eta: int = DEFAULT_ETA) -> int:
    """floor(log_eta R), exactly: the largest s with eta^s <= R."""
    _check(epochs, eta)
    s = 0
    while eta ** (s + 1) <= epochs:
        s += 1
    return s


def plan(epochs: int, eta: int = DEFAULT_ETA) -> list[Bracket]:
    """Hyperband's brackets for a budget of ``epochs`` (R) epochs, s = s_max first.

    r_i is ``R eta^(i - s)`` rounded down to whole epochs (exact when R is a power of eta);
    it is at least 1 and ends at R.
    """
    top = s_max(epochs, eta)
    brackets = []
    for s in range(top, -1, -1):
        n = -(-(top + 1) * eta**s // (s + 1))  # ceil((s_max + 1) eta^s / (s + 1))
        rungs = tuple((n // eta**i, epochs * eta**i // eta**s) for i in range(s + 1))
        brackets.append(Bracket(s, rungs))
    return brackets


def plan_json(brackets: list[Bracket]) -> dict:
    """``{"brackets": [{"s": s, "rungs": [[n_i, r_i], ...]}, ...]}``: ``bnviz sweep
    --hyperband --plan --json``."""
    return {"brackets": [{"s": b.s, "rungs": [list(r) for r in b.rungs]} for b in brackets]}


def _check(epochs: int, eta: int) -> None:
    if epochs < 1 or eta < 2:
        raise ValueError(f"Hyperband needs epochs >= 1 and eta >= 2, got {epochs}, {eta}")
