"""Every knob of a training run in one frozen, picklable, JSON-able object.

The app's controls, the CLI flags, settings files and sweep trials all produce a
:class:`TrainConfig`; :meth:`TrainConfig.validated` is the one place that says what is allowed.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from bnviz.nn.layers import ACTIVATIONS
from bnviz.nn.optim import OPTIMIZERS

MAX_HIDDEN_UNITS = 4096
MAX_HIDDEN_LAYERS = 16


class ConfigError(ValueError):
    """A setting that is out of range or malformed; the message names it."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (two networks in compare mode)."""

    dataset: str = "spirals"
    n_classes: int = 3
    noise: float = 0.1
    n_samples: int = 600
    val_fraction: float = 0.2
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    batchnorm: bool = True
    compare: bool = False
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    beta2: float = 0.999
    lr_decay: float = 0.0
    batch_size: int = 64
    bn_momentum: float = 0.9
    eps: float = 1e-5
    seed: int = 0

    def validated(self) -> TrainConfig:
        """Return self with types normalized, or raise :class:`ConfigError`."""
        c = replace(self, hidden=tuple(int(h) for h in self.hidden))
        _check(isinstance(c.dataset, str) and c.dataset.strip() != "", "dataset must be given")
        _check(2 <= c.n_classes <= 10, f"classes must be 2..10, got {c.n_classes}")
        _check(_finite(c.noise) and c.noise >= 0, f"noise must be >= 0, got {c.noise}")
        _check(c.n_samples >= 20, f"samples must be >= 20, got {c.n_samples}")
        _check(
            0 < c.val_fraction < 1, f"validation fraction must be in (0, 1), got {c.val_fraction}"
        )
        _check(len(c.hidden) <= MAX_HIDDEN_LAYERS, f"at most {MAX_HIDDEN_LAYERS} hidden layers")
        _check(
            all(1 <= h <= MAX_HIDDEN_UNITS for h in c.hidden),
            f"hidden widths must be 1..{MAX_HIDDEN_UNITS}, got {','.join(map(str, c.hidden))}",
        )
        _check(c.activation in ACTIVATIONS, f"activation must be one of {', '.join(ACTIVATIONS)}")
        _check(c.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        _check(_finite(c.lr) and c.lr > 0, f"learning rate must be > 0, got {c.lr}")
        _check(0 <= c.momentum < 1, f"momentum beta must be in [0, 1), got {c.momentum}")
        _check(0 <= c.beta2 < 1, f"beta2 must be in [0, 1), got {c.beta2}")
        _check(_finite(c.lr_decay) and c.lr_decay >= 0, f"lr decay must be >= 0, got {c.lr_decay}")
        _check(
            c.batch_size >= 2, f"batch size must be >= 2 (batch norm needs 2), got {c.batch_size}"
        )
        _check(0 <= c.bn_momentum < 1, f"BN momentum must be in [0, 1), got {c.bn_momentum}")
        _check(_finite(c.eps) and c.eps > 0, f"eps must be > 0, got {c.eps}")
        _check(0 <= c.seed < 2**32, f"seed must be in 0..2^32-1, got {c.seed}")
        return c

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Build from a dict (a settings file); unknown keys are an error, missing keys default."""
        if not isinstance(data, dict):
            raise ConfigError("settings must be a JSON object")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        kwargs = dict(data)
        try:
            if "hidden" in kwargs:
                h = kwargs["hidden"]
                kwargs["hidden"] = (
                    parse_hidden(h) if isinstance(h, str) else tuple(int(x) for x in h)
                )
            for f in fields(cls):
                if f.name in kwargs and f.type in ("int", "float", "bool"):
                    kwargs[f.name] = _coerce(f.name, kwargs[f.name], f.type)
        except (TypeError, ValueError) as e:
            raise ConfigError(str(e)) from None
        return cls(**kwargs).validated()

    def save(self, path) -> None:
        Path(path).write_text(json.dumps({"bnviz_settings": 1, **self.to_dict()}, indent=2))

    @classmethod
    def load(cls, path) -> TrainConfig:
        """Read a settings file written by :meth:`save`; a bad file raises ConfigError."""
        name = Path(path).name
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{name}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ConfigError(f"{name}: not a bnviz settings file ({e})") from None
        if not isinstance(data, dict) or data.pop("bnviz_settings", None) != 1:
            raise ConfigError(f"{name}: not a bnviz settings file")
        try:
            return cls.from_dict(data)
        except ConfigError as e:
            raise ConfigError(f"{name}: {e}") from None


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"64,64"`` -> ``(64, 64)``; ``""`` or ``"0"`` -> ``()`` (no hidden layer)."""
    text = text.strip()
    if text in ("", "0", "none"):
        return ()
    try:
        widths = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ConfigError(f"hidden layers must be widths like 64,64, got {text!r}") from None
    if any(w < 1 for w in widths):
        raise ConfigError(f"hidden widths must be >= 1, got {text!r}")
    return widths


def _coerce(name: str, value, kind: str):
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"{name} must be true or false, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if kind == "int":
        if float(value) != int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)
