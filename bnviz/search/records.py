"""What a trial produced and how it ended: the records a study stores and reads back.

Plain frozen dataclasses, picklable so worker processes can return them; :mod:`bnviz.search.study`
stores them (and re-exports these names).
"""

from __future__ import annotations

import dataclasses
from enum import Enum

ERROR_CHARS = 300  # a failed trial's reason is one line of at most this many characters


class TrialState(str, Enum):
    """How a trial ended. A ``str``, so it compares equal to its value and goes into JSON."""

    COMPLETE = "complete"  # trained for its whole budget
    DIVERGED = "diverged"  # its loss or parameters stopped being finite (at diverged_step)
    FAILED = "failed"  # its worker raised: no result, only the reason (``error``)
    PRUNED = "pruned"  # stopped early by a scheduler (successive halving): a partial result

    def __str__(self) -> str:
        return self.value


CurvePoint = tuple[int, float]  # (step, val_loss) at one evaluation
# How a trial came to be: sampled by a round (caviar), or a live run steered by hand and saved
# (panda: "Save babysat run to study").
TRIAL_KINDS = ("sampled", "babysat")


def one_line(text: str, limit: int = ERROR_CHARS) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclasses.dataclass(frozen=True)
class TrialResult:
    """What one trial produced; picklable, so worker processes can return it.

    ``val_loss``/``val_acc`` are None (or NaN) if the run diverged before any evaluation;
    ``curve`` is ``(step, val_loss)`` at every evaluation (each epoch), steps ascending, its
    last loss the trial's ``val_loss``: the learning curve, kept for pruned trials too.

    ``state`` defaults to ``diverged`` or ``complete`` by ``diverged``; ``diverged`` is true
    exactly when the state is ``diverged`` (a failed trial did not diverge: it has no result).
    ``error`` is a failed trial's one-line reason and None for every other state.
    ``recheck_of`` is the id of the trial this one repeats with the same sampled values
    (``bnviz sweep --recheck``), else None. ``kind`` is one of :data:`TRIAL_KINDS`.
    ``bracket`` is the Hyperband bracket ``s`` the trial ran in (None outside Hyperband).
    ``pruned_at`` says why a pruned trial stopped (:func:`bnviz.search.halving.cut`:
    ``{"epochs", "value", "rank", "of", "kept"}``); None for every other state, and for trials
    pruned before it was recorded. ``group`` is the id of the first stored trial of the
    trial's group of repeats (the same sampled values trained with seeds ``seed``, ``seed + 1``
    ...; None outside ``--repeats``); ``seed`` the training seed it ran with (None: not
    recorded, trials stored before schema 5).
    """

    params: dict
    val_loss: float | None
    val_acc: float | None
    best_val_loss: float | None
    best_val_acc: float | None
    diverged: bool
    diverged_step: int | None
    seconds: float
    steps: int
    curve: tuple[CurvePoint, ...] = ()
    state: TrialState = None  # type: ignore[assignment]  # filled in by __post_init__
    error: str | None = None
    recheck_of: int | None = None
    kind: str = "sampled"
    bracket: int | None = None
    pruned_at: dict | None = None
    group: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in TRIAL_KINDS:
            raise ValueError(f"unknown trial kind {self.kind!r}; one of {', '.join(TRIAL_KINDS)}")
        if self.state is None:
            state = TrialState.DIVERGED if self.diverged else TrialState.COMPLETE
        else:
            state = TrialState(self.state)  # a plain "failed" is accepted, and checked
        object.__setattr__(self, "state", state)
        if bool(self.diverged) != (state is TrialState.DIVERGED):
            raise ValueError(f"a {state} trial has diverged={self.diverged}")
        if (state is TrialState.FAILED) != bool(self.error):
            raise ValueError(
                "a failed trial needs its reason (error)"
                if state is TrialState.FAILED
                else f"a {state} trial has no error, got {self.error!r}"
            )
        if self.error is not None:
            object.__setattr__(self, "error", one_line(self.error))
        if self.pruned_at is not None and state is not TrialState.PRUNED:
            raise ValueError(f"a {state} trial has pruned_at {self.pruned_at!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrialRecord(TrialResult):
    """A stored trial as read back: the result plus its id, round and finish time (UTC ISO)."""

    id: int
    round: int
    finished_at: str
