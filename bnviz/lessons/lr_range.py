"""The learning-rate range test (Smith 2017; fastai's ``lr_find``) on one network or twins.

The course says alpha matters most and is searched on a log scale. A range test reads a good
alpha off one short run: from the network's start, one mini-batch per step, the learning rate
grows geometrically from ``start`` to ``end`` (``lr_i = start q^i``, ``q = (end / start)^(1 /
(num_it - 1))``) while the smoothed training loss is recorded as fastai's Recorder keeps it (an
EWMA with beta 0.98, debiased). The loss falls, flattens, then explodes; the test stops after
the step whose smoothed loss passes 4x its best so far or is NaN. The twins of compare mode
share their start and their mini-batches (:mod:`bnviz.train.twins`), so BN's wider range of
workable learning rates (the BN paper's BN-x5 and BN-x30) shows as the later explosion.

The optimizer's lr is set before every step through its own API; the networks' formulas are
not touched. A network the trainer marks diverged (a non-finite loss or parameter, or a loss
that exploded, :mod:`bnviz.train.trainer`) records NaN from that step on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from bnviz.data import Dataset
from bnviz.lessons.lr_suggest import lr_suggestions
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.probes import ProbeContext, probe
from bnviz.train.trainer import Trainer

START_LR = 1e-7  # fastai's defaults
END_LR = 10.0
NUM_IT = 100
MIN_NUM_IT = 6  # fastai raises a smaller num_it to 6
DIVERGE_FACTOR = 4.0  # stop when the smoothed loss passes this x its best
SKIP_START_FRACTION = 10  # suggestions skip the first num_it // 10 points ...
SKIP_END = 5  # ... and the last 5, as fastai's lr_find does
RUN_NAMES = {"bn": "with BN", "plain": "without BN"}


@dataclass(frozen=True)
class RangeCurve:
    """One network's range test.

    ``lrs`` and ``losses`` (smoothed, NaN once diverged) are one entry per step taken;
    ``stop`` says why it ended; ``suggestions`` are :func:`lr_suggestions` on
    :func:`suggestion_window` of the curve."""

    run: str  # "with BN", "without BN", or the compared value ("optimizer=adam")
    batchnorm: bool
    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    stop: str
    suggestions: dict[str, float | None] = field(default_factory=dict)

    @property
    def last_lr(self) -> float:
        """The learning rate of the last step taken: how far the test went."""
        return self.lrs[-1] if self.lrs else math.nan

    @property
    def best(self) -> tuple[float, float]:
        """``(lr, smoothed loss)`` at the lowest smoothed loss."""
        y = np.asarray(self.losses)
        if not np.isfinite(y).any():
            return math.nan, math.nan
        i = int(np.nanargmin(y))
        return self.lrs[i], float(y[i])

    def to_json(self) -> dict:
        """``{"lrs", "losses", "suggestions"}`` (NaN as null) plus ``stop``."""
        return {
            "lrs": list(self.lrs),
            "losses": [None if not math.isfinite(v) else v for v in self.losses],
            "suggestions": dict(self.suggestions),
            "stop": self.stop,
        }


def schedule(start: float, end: float, num_it: int) -> np.ndarray:
    """``start q^i`` for i = 0 .. num_it - 1, ``q = (end / start)^(1 / (num_it - 1))``."""
    check_range(start, end, num_it)
    q = (end / start) ** (1.0 / (num_it - 1))
    return start * q ** np.arange(num_it, dtype=np.float64)


def check_range(start: float, end: float, num_it: int) -> None:
    """One clear :class:`ConfigError` for a range that cannot be tested."""
    if not (math.isfinite(start) and start > 0 and math.isfinite(end) and end > 0):
        raise ConfigError(f"the range needs 0 < start < end, finite; got {start:g} .. {end:g}")
    if not start < end:
        raise ConfigError(f"the range needs start < end; got {start:g} .. {end:g}")
    if num_it < MIN_NUM_IT:
        raise ConfigError(f"num_it must be >= {MIN_NUM_IT}, got {num_it}")


def suggestion_window(
    lrs: np.ndarray, losses: np.ndarray, num_it: int
) -> tuple[np.ndarray, np.ndarray]:
    """What the suggestions read, as fastai's ``lr_find``: ``[num_it // 10 : -5]`` of the
    recorded curve, cut at its first NaN."""
    x = np.asarray(lrs, np.float64)[num_it // SKIP_START_FRACTION : -SKIP_END]
    y = np.asarray(losses, np.float64)[num_it // SKIP_START_FRACTION : -SKIP_END]
    bad = np.flatnonzero(np.isnan(y))
    if bad.size:
        x, y = x[: bad[0]], y[: bad[0]]
    return x, y


def run_label(name: str, batchnorm: bool) -> str:
    """A network's name as compare mode shows it: "with BN" / "without BN", or the compared
    value ("lr=0.5"); a single network is named by whether it has BN."""
    if name == "net":
        return RUN_NAMES["bn" if batchnorm else "plain"]
    return RUN_NAMES.get(name, name)


def check_config(config: TrainConfig) -> TrainConfig:
    """The config a range test runs: the twins may not differ in the learning rate (the test
    sets it), and decay is off (the schedule is the only change of lr)."""
    c = config.validated()
    if c.compare and c.compare_setting == "lr":
        raise ConfigError(
            "the twins differ in the learning rate, which the range test sweeps: "
            "compare another setting"
        )
    return replace(c, lr_decay=0.0)


def range_test(
    config: TrainConfig,
    *,
    start: float = START_LR,
    end: float = END_LR,
    num_it: int = NUM_IT,
    stop_div: bool = True,
    data: Dataset | None = None,
    trainer: Trainer | None = None,
    cancel: Callable[[], bool] | None = None,
) -> tuple[RangeCurve, ...]:
    """Run the range test on every network of ``config`` (twins in compare mode).

    ``trainer`` (optional) is used instead of a fresh one from ``config``: a copy of live
    networks to test from where they are (it is trained: pass a copy). ``cancel`` is checked
    between steps (the curves so far are returned). Raises :class:`ConfigError` for a bad range
    or config."""
    lrs = schedule(start, end, num_it)
    if trainer is None:
        trainer = Trainer(check_config(config), data)
    else:
        check_config(trainer.config)
    runs = trainer.runs
    names = [run_label(r.name, r.net.batchnorm) for r in runs]
    losses: list[list[float]] = [[] for _ in runs]
    best = [math.inf] * len(runs)
    stops = ["the end of the schedule"] * len(runs)
    live = [r.diverged_step is None for r in runs]
    for i, lr in enumerate(lrs):
        if not any(live) or (cancel is not None and cancel()):
            if any(live):
                stops = [s if not alive else "cancelled" for s, alive in zip(stops, live)]
            break
        counts = [r.ewma.t for r in runs]
        for r in runs:
            r.opt.set(lr=float(lr), decay=0.0)
        trainer.step()
        for k, r in enumerate(runs):
            if not live[k]:
                continue
            # The trainer's EWMA took this step's loss unless the loss (or a parameter) was
            # not finite or exploded; a network it calls diverged for a high smoothed loss
            # still has its smoothed loss for this step.
            smooth = r.ewma.corrected if r.ewma.t > counts[k] else math.nan
            losses[k].append(smooth)
            best[k] = min(best[k], smooth) if not math.isnan(smooth) else best[k]
            stop = _stop_reason(smooth, best[k])
            if stop == "NaN" and r.diverged_step is not None:  # the trainer says why
                stop = f"NaN: {r.message.split(': ', 1)[-1]}"
            if stop and stop_div:
                live[k], stops[k] = False, f"{stop} at step {i + 1}, lr {lr:.3g}"
            elif stop.startswith("NaN") and stops[k].startswith("the end"):
                stops[k] = f"{stop} from step {i + 1}, lr {lr:.3g}"
    out = []
    for k, r in enumerate(runs):
        x = lrs[: len(losses[k])]
        y = np.asarray(losses[k], np.float64)
        sx, sy = suggestion_window(x, y, num_it)
        out.append(
            RangeCurve(
                run=names[k], batchnorm=r.net.batchnorm, lrs=tuple(float(v) for v in x),
                losses=tuple(float(v) for v in y), stop=stops[k],
                suggestions=lr_suggestions(sx, sy),
            )
        )  # fmt: skip
    return tuple(out)


@probe("trainer_copy")
def trainer_copy(ctx: ProbeContext) -> bytes:
    """The live trainer pickled (:meth:`Trainer.checkpoint`): the range test view tests copies
    of the live networks from where they are, in a worker process."""
    return ctx.checkpoint()


def range_test_copy(
    checkpoint: bytes,
    start: float = START_LR,
    end: float = END_LR,
    num_it: int = NUM_IT,
    stop_div: bool = True,
) -> tuple[RangeCurve, ...]:
    """:func:`range_test` on the trainer a :func:`trainer_copy` holds (its data set loaded
    again from its config): for a worker process."""
    trainer = Trainer.resume(checkpoint)
    return range_test(trainer.config, start=start, end=end, num_it=num_it, stop_div=stop_div,
                      trainer=trainer)  # fmt: skip


def _stop_reason(smooth: float, best: float) -> str:
    """Why a test stops after this step ("" if it goes on)."""
    if math.isnan(smooth):
        return "NaN"
    if smooth > DIVERGE_FACTOR * best:
        return f"smoothed loss {smooth:.3g} > {DIVERGE_FACTOR:g}x its best {best:.3g}"
    return ""
