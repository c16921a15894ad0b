"""What the curves show over a whole run, accumulated from snapshots with bounded memory.

Snapshots carry only what happened since the previous one (raw losses, the latest evaluation,
percentiles now); :class:`RunHistory` strings them together into decimated series so an hour of
training costs the same memory as a minute.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from bnviz.train.snapshot import Event, Snapshot
from bnviz.train.stats import DecimatingSeries

CAPACITY = 4096


@dataclass(frozen=True)
class Segment:
    """Steps ``start`` to ``end`` (inclusive; ``end`` inf for the last) of a run, all trained
    with batch norm ``batchnorm``."""

    start: float
    end: float
    batchnorm: bool


@dataclass
class RunHistory:
    """Series for one network (``run`` is "net", "bn" or "plain").

    ``smoothed`` is the trainer's own EWMA of the loss (:attr:`Snapshot.smoothed_losses`), the
    ``smoothed_loss`` of its metrics, not a second average of the losses it was sent."""

    run: str
    capacity: int = CAPACITY
    loss: DecimatingSeries = field(init=False)
    smoothed: DecimatingSeries = field(init=False)
    val_loss: DecimatingSeries = field(init=False)
    val_acc: DecimatingSeries = field(init=False)
    percentiles: dict[int, tuple[DecimatingSeries, ...]] = field(init=False, default_factory=dict)
    unit_percentiles: dict[int, tuple[DecimatingSeries, ...]] = field(
        init=False, default_factory=dict
    )
    events: tuple[Event, ...] = ()
    diverged_step: int | None = None
    batchnorm: bool = False
    last_step: int = 0

    def __post_init__(self) -> None:
        self.loss = DecimatingSeries(self.capacity)
        self.smoothed = DecimatingSeries(self.capacity)
        self.val_loss = DecimatingSeries(self.capacity)
        self.val_acc = DecimatingSeries(self.capacity)
        self._smoothed_loss = math.nan
        self._last_eval_step = -1

    def add(self, snap: Snapshot) -> None:
        """Append what ``snap`` adds to the run so far."""
        steps = snap.loss_steps.tolist()
        for step, loss, smoothed in zip(steps, snap.losses.tolist(), snap.smoothed_losses.tolist()):
            self.loss.append(step, loss)
            self.smoothed.append(step, smoothed)
        self._smoothed_loss = snap.smoothed_loss
        ev = snap.evaluation
        if ev is not None and ev.step != self._last_eval_step:
            self._last_eval_step = ev.step
            self.val_loss.append(ev.step, ev.val_loss)
            self.val_acc.append(ev.step, ev.val_acc)
        if snap.step != self.last_step or not self.percentiles:
            for layer in snap.layers:
                self._add_bands(self.percentiles, layer.layer, snap.step, layer.percentiles)
                self._add_bands(
                    self.unit_percentiles, layer.layer, snap.step, layer.unit_percentiles
                )
        self.events = snap.events
        self.diverged_step = snap.diverged_step
        self.batchnorm = snap.batchnorm
        self.last_step = snap.step

    def _add_bands(
        self,
        target: dict[int, tuple[DecimatingSeries, ...]],
        layer: int,
        step: int,
        values: Iterable[float],
    ) -> None:
        bands = target.get(layer)
        if bands is None:
            bands = target[layer] = tuple(DecimatingSeries(self.capacity) for _ in values)
        for series, v in zip(bands, values):
            series.append(step, float(v))

    def segments(self) -> list[Segment]:
        """The stretches of the run trained with BN on or off, in step order, from its BN
        events ("bn_on"/"bn_off"): a toggle after step ``s`` ends one segment at ``s`` and
        starts the next there (the boundary belongs to both, so the curves join up)."""
        toggles = [e for e in self.events if e.kind in ("bn_on", "bn_off")]
        state = toggles[0].kind == "bn_off" if toggles else self.batchnorm
        out, start = [], 0.0
        for e in toggles:
            on = e.kind == "bn_on"
            if on != state:
                out.append(Segment(start, float(e.step), state))
                start, state = float(e.step), on
        out.append(Segment(start, math.inf, state))
        return out

    @property
    def smoothed_loss(self) -> float:
        """The trainer's smoothed loss at the last step received (NaN before any)."""
        return self._smoothed_loss
