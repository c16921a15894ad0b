"""Only what can matter is searched: which sampled parameters a round, or a trial, can feel.

The registry says when a setting does something (``used_when``: momentum beta only with the
momentum and Adam optimizers, BN's momentum only with batch norm). Sampling beta under plain SGD
trains the same network at every beta: the trials tie, the round's budget is spent on noise,
and an importance chart that ranks beta ranks that noise. One rule, used by ``bnviz sweep``'s
default round, the explorer's rounds and the importance bars alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bnviz.search.spaces import Space, idle_axes
from bnviz.train.config import PARAMS, SAMPLED, TrainConfig


def searchable(base: TrainConfig, spaces: Sequence[Space]) -> tuple[list[Space], dict[str, str]]:
    """Split a round's spaces into those worth sampling over ``base`` and those left out.

    Returns
    -------
    (kept, idle) : the spaces to sample, in order, and ``{name: why}`` of those whose setting
        does nothing in this round (momentum beta with plain SGD, unless the optimizer is
        sampled too, see :func:`bnviz.search.spaces.idle_axes`).
    """
    idle = idle_axes(base, spaces)
    return [s for s in spaces if s.name not in idle], idle


def trial_values(fixed: Mapping[str, Any] | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a trial ran with, as a config dict: its round's fixed settings (a
    ``TrainConfig.to_dict()``, None when unknown) overridden by its sampled values."""
    values = dict(fixed or {})
    for name, v in params.items():
        field = SAMPLED[name][0] if name in SAMPLED else None
        if field is not None and field != "hidden":  # width/layers: always felt
            values[field] = v
    return values


def idle_reason(name: str, values: Mapping[str, Any]) -> str | None:
    """Why sampled parameter ``name`` did nothing in a trial run with ``values`` (a config
    dict, see :func:`trial_values`), or None if it could matter (or the name is unknown)."""
    if name not in SAMPLED:
        return None
    field = SAMPLED[name][0]
    if field == "hidden" or field not in PARAMS:
        return None
    if any(k not in values for k, _ in PARAMS[field].used_when):
        return None  # a setting it depends on is unknown: it may have mattered
    return PARAMS[field].idle_reason(dict(values))
