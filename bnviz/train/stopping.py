"""When a run left alone should pause by itself: an epoch budget, and a plateau of the
validation loss (no new best for K evaluations). Qt-free, so the rule is read and tested apart
from the window that applies it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MAX_EPOCHS = 300  # the default spirals run learns in ~30 epochs with BN, ~100 without
DEFAULT_PATIENCE = 60  # evaluations (4 a second while training): 15 s with no better val loss


@dataclass(frozen=True)
class StopRule:
    """Pause after ``max_epochs`` epochs, or once every network's validation loss has gone
    ``patience`` evaluations without a new best; 0 turns either off."""

    max_epochs: int = DEFAULT_MAX_EPOCHS
    patience: int = DEFAULT_PATIENCE

    def why_stop(self, epochs: int, val_losses: Sequence[Sequence[float]]) -> str | None:
        """Why to pause now, or None. ``epochs`` counts the epochs trained since the rule was
        (re)armed; ``val_losses`` holds each network's evaluations since then, oldest first."""
        if self.max_epochs and epochs >= self.max_epochs:
            return f"paused: the budget of {self.max_epochs} epochs is spent (Space goes on)"
        if self.patience and val_losses and all(plateaued(v, self.patience) for v in val_losses):
            return (
                f"paused at a plateau: no better validation loss in the last {self.patience} "
                "evaluations (Space goes on)"
            )
        return None


def plateaued(losses: Sequence[float], patience: int) -> bool:
    """Whether the last ``patience`` losses hold no new best. A network whose last loss is NaN
    has diverged: it has nothing left to improve."""
    if losses and not math.isfinite(losses[-1]):
        return True
    if len(losses) <= patience:
        return False
    before = [x for x in losses[:-patience] if math.isfinite(x)]
    recent = [x for x in losses[-patience:] if math.isfinite(x)]
    return bool(before) and min(recent) >= min(before)
