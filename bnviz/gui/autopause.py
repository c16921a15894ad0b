"""Applies :class:`~bnviz.train.stopping.StopRule` to the snapshots a window receives: counts
epochs and evaluations since the rule was armed (a reset, or the user pressing play)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bnviz.train.snapshot import Snapshot
from bnviz.train.stopping import StopRule


class AutoPause:
    """Feed it every snapshot tuple; it says when (and why) to pause."""

    def __init__(self, rule: StopRule | None = None) -> None:
        self.rule = rule or StopRule()
        self._armed_epoch: int | None = None
        self._losses: dict[str, list[float]] = {}
        self._last_eval: dict[str, int] = {}

    def rearm(self) -> None:
        """Count from the next snapshot on (after a reset, or when the user plays again)."""
        self._armed_epoch = None
        self._losses, self._last_eval = {}, {}

    def feed(self, snaps: Sequence[Snapshot]) -> str | None:
        """The reason to pause now, or None."""
        if not snaps:
            return None
        if self._armed_epoch is None:
            self._armed_epoch = snaps[0].epoch
        for s in snaps:
            ev = s.evaluation
            losses = self._losses.setdefault(s.run, [])
            if s.diverged:
                if not losses or math.isfinite(losses[-1]):
                    losses.append(math.nan)
            elif ev is not None and ev.step != self._last_eval.get(s.run):
                self._last_eval[s.run] = ev.step
                losses.append(ev.val_loss)
        return self.rule.why_stop(snaps[0].epoch - self._armed_epoch, list(self._losses.values()))
