"""Compare mode: the two networks and the one setting they differ in.

By default the twins are BN vs plain (run names "bn" and "plain"). ``compare_setting`` can name
another setting instead (optimizer, learning rate, mini-batch size, activation, BN momentum);
the first network takes the config's value, the second ``compare_value`` (or a default twin
value, :func:`default_twin`), and the runs are named after their values, e.g. "lr=0.5" and
"lr=0.05". Everything else is shared: the seed (so the same initial W where the shapes allow),
the mini-batch stream, and every later live change except to the compared setting.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from bnviz.train.params import BN_BATCH_OF_ONE, ConfigError, Param, registry

# TrainConfig.validated calls twin_configs, so this module reads the registry off the config it
# is given (``registry(fields(config))``) rather than importing bnviz.train.config: no cycle.
TrainConfig = Any

# How a run is named after its value of the compared setting ("lr=0.5").
RUN_KEYS = {
    "optimizer": "optimizer",
    "lr": "lr",
    "batch_size": "batch",
    "activation": "activation",
    "bn_momentum": "bn_momentum",
}


def _params(c: TrainConfig) -> dict[str, Param]:
    return registry(fields(c))


def default_twin(c: TrainConfig, setting: str) -> Any:
    """The second network's value of ``setting`` when none is given (``c`` holds the first
    network's): a contrast worth looking at."""
    value = getattr(c, setting)
    if setting == "optimizer":
        return "adam" if value != "adam" else "sgd"
    if setting == "lr":
        return float(f"{value / 10:.6g}")
    if setting == "batch_size":
        p = _params(c)["batch_size"]
        top = p.soft_high or p.top or value * 4  # where the control stops, not the valid top
        return value * 4 if value * 4 <= top else max(2, value // 4)
    if setting == "activation":
        return "relu" if value != "relu" else "sigmoid"
    if setting == "bn_momentum":
        return 0.99 if value != 0.99 else 0.9
    raise ConfigError(f"no default twin for {setting}")


def twin_value(c: TrainConfig) -> Any:
    """The second network's value of ``c.compare_setting`` (parsed and checked)."""
    setting = c.compare_setting
    if not c.compare_value.strip():
        return default_twin(c, setting)
    p = _params(c)[setting]
    if p.choices:  # "Adam" is adam
        return p.parse(c.compare_value.strip().lower())
    return p.parse(c.compare_value)


def run_name(setting: str, value: Any) -> str:
    """``lr=0.5``: the run's name in the legends, the metrics CSV and the model file names."""
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{RUN_KEYS[setting]}={shown}"


def twin_configs(c: TrainConfig) -> list[tuple[str, TrainConfig]]:
    """``(run name, config)`` of every network ``c`` trains: one, or the two twins.

    Raises :class:`ConfigError` when the twins could not differ (the same value twice, BN
    momentum without batch norm) or ``compare_value`` is not a valid value of the setting."""
    if not c.compare:
        return [("net", c)]
    setting = c.compare_setting
    if setting == "batchnorm":
        if c.compare_value.strip():
            raise ConfigError("BN vs plain takes no twin's value (--compare-value)")
        return [("bn", replace(c, batchnorm=True)), ("plain", replace(c, batchnorm=False))]
    try:
        value = twin_value(c)
    except ConfigError as e:
        raise ConfigError(f"twin's value: {e}") from None
    first = getattr(c, setting)
    label = _params(c)[setting].label
    if value == first:
        raise ConfigError(f"the twins' {label} is {first} for both: give the twin another value")
    if setting == "bn_momentum" and not c.batchnorm:
        raise ConfigError("comparing BN momentum needs batch norm on (--bn)")
    twin = replace(c, **{setting: value})
    if twin.batch_size < 2 and twin.batchnorm and twin.hidden:
        raise ConfigError(f"twin's value: {BN_BATCH_OF_ONE}")
    return [(run_name(setting, first), c), (run_name(setting, value), twin)]


def differs(c: TrainConfig) -> str | None:
    """The setting the second network keeps to itself under live changes (None: none)."""
    if not c.compare or c.compare_setting == "batchnorm":
        return None
    return c.compare_setting
