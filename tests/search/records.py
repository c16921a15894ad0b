"""A stored trial record for Qt-free tests: only what a test cares about is given."""

from __future__ import annotations

from bnviz.search.study import TrialRecord


def record(i: int, params: dict, loss: float, round: int = 1) -> TrialRecord:
    """Trial ``i`` of ``round``: complete, ``params``, validation loss ``loss``."""
    return TrialRecord(
        params=params, val_loss=loss, val_acc=1 - loss, best_val_loss=loss, best_val_acc=None,
        diverged=False, diverged_step=None, seconds=1.0, steps=10, id=i, round=round,
        finished_at="now",
    )  # fmt: skip
