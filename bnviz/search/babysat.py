"""A babysat run saved into a study: the panda's result beside the caviar trials.

The course's two ways to tune: babysit one model, nudging its learning rate as it trains
(panda), or train many at once and keep the best (caviar). The explorer's caviar trials are
sampled by rounds; a live run the user steered can be stored too, as a trial of kind
``babysat`` in a round of its own (method ``babysat``, its settings as the round's fixed
settings), so it sits on the same scatter and in the same table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from bnviz.search.points import fixed_params
from bnviz.search.spaces import Space
from bnviz.search.study import CurvePoint, Study, TrialRecord, TrialResult
from bnviz.search.sweep import SweepError
from bnviz.train.config import TrainConfig

BABYSAT = "babysat"


def babysat_params(config: TrainConfig, names: Iterable[str]) -> dict:
    """The run's values of the sampled parameters ``names`` (``lr``, ``beta``...), as a
    round's trial would record them; names a config cannot give are left out."""
    values = fixed_params(config.to_dict())
    return {n: values[n] for n in names if n in values}


def _fixed_space(name: str, value: object) -> Space:
    """A one-value space: what the babysat round 'sampled' (nothing: the user chose)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Space(name, "fixed", low=float(value))
    return Space(name, "fixed", choices=(value,))


def save_babysat(
    study: Study,
    config: TrainConfig,
    params: dict,
    curve: Sequence[CurvePoint],
    *,
    val_acc: float | None,
    steps: int,
    diverged_step: int | None = None,
    seconds: float = 0.0,
) -> TrialRecord:
    """Store a live run as a ``babysat`` trial in a new round of ``study``; return it.

    ``config`` is the run's settings now (after the user's changes), ``params`` its values of
    the study's sampled parameters (:func:`babysat_params`), ``curve`` its validation loss at
    every evaluation ``((step, val_loss), ...)``, steps ascending.

    Raises SweepError when the run has not been evaluated yet (no curve: nothing to compare).
    """
    points = [(int(s), float(v)) for s, v in curve]
    if not points:
        raise SweepError("the live run has no validation loss yet: let it train until the "
                         "first evaluation, then save it")  # fmt: skip
    finite = [v for _, v in points if math.isfinite(v)]
    diverged = diverged_step is not None
    result = TrialResult(
        params=dict(params),
        val_loss=float("nan") if diverged else points[-1][1],
        val_acc=None if diverged else val_acc,
        best_val_loss=min(finite) if finite else None,
        best_val_acc=None,
        diverged=diverged,
        diverged_step=diverged_step,
        seconds=float(seconds),
        steps=int(steps),
        curve=tuple(points),
        kind=BABYSAT,
    )
    spaces = [_fixed_space(k, v) for k, v in params.items()]
    round_id = study.new_round(spaces, n=1, method=BABYSAT, seed=config.seed,
                               fixed=config.to_dict())  # fmt: skip
    trial_id = study.add_trial(round_id, result)
    return next(t for t in study.trials(round_id) if t.id == trial_id)
