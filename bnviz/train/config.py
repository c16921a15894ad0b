"""Every knob of a training run in one frozen, picklable, JSON-able object.

The app's controls, the CLI flags, settings files and sweep trials all produce a
:class:`TrainConfig`; :meth:`TrainConfig.validated` is the one place that says what is allowed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from bnviz.nn.layers import ACTIVATIONS
from bnviz.nn.optim import OPTIMIZERS
from bnviz.train.params import BN_BATCH_OF_ONE, ConfigError, Param, Sampled, param, registry

__all__ = [
    "BN_BATCH_OF_ONE",
    "COMPARABLE",
    "PARAMS",
    "SAMPLED",
    "ConfigError",
    "Param",
    "TrainConfig",
    "check_hidden",
    "parse_hidden",
]

MAX_HIDDEN_UNITS = 4096
MAX_HIDDEN_LAYERS = 16
MAX_SAMPLES = 1_000_000  # points of a generated 2-D set: 16 MB, seconds per epoch
# alpha: lessons show divergence at 50 and beyond, so a setting may go far; a search samples
# only where learning can happen (the course's ranges end at 1), up to 10.
MAX_LR = 10_000.0
MAX_SAMPLED_LR = 10.0
MAX_BATCH = 1_000_000
# A settings file is a few hundred bytes (a preset with guidance a few kB): anything past these
# is not one, and is refused before json.loads (which recurses once per nesting level).
MAX_SETTINGS_BYTES = 1_000_000
MAX_SETTINGS_DEPTH = 16
SETTINGS_VERSION = 1  # the "bnviz_settings" number this bnviz writes and reads
DATA, NETWORK, OPTIMIZATION = "data", "network", "optimization"
PLANAR = ("spirals", "blobs", "rings", "moons", "xor")  # the 2-D generators and their knobs
WITH_BN = (("batchnorm", (True,)), ("compare", (True,)))
# The settings compare mode can set apart (compare_setting); batchnorm is BN vs plain.
COMPARABLE = ("batchnorm", "optimizer", "lr", "batch_size", "activation", "bn_momentum")
# Keys a settings file may carry for the app beside the settings (a lesson's title and guidance,
# classroom mode; read by bnviz.lessons.presets): no training setting, so training skips them.
WINDOW_KEYS = ("lesson", "classroom")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (two networks in compare mode).

    Each field carries its :class:`~bnviz.train.params.Param` (``PARAMS[name]``): the one
    description that flags, controls, sweeps and validation are generated from.

    The defaults are what a newcomer sees first: a deep sigmoid network with plain SGD on the
    spirals, where batch norm learns in a few hundred steps and the plain network needs about
    five times as many (README, "The first minute")."""

    dataset: str = param(
        "spirals",
        kind="str",
        label="dataset",
        group=DATA,
        help="built-in name (spirals, blobs, rings, moons, xor, digits) or a .npz/.csv file",
    )
    n_classes: int = param(
        3,
        kind="int",
        label="classes",
        group=DATA,
        low=2,
        high=10,
        flag="--classes",
        used_when=(("dataset", ("spirals", "blobs", "rings", "moons")),),
        help="number of classes of a 2-D set (2..10)",
    )
    noise: float = param(
        0.1,
        kind="float",
        label="noise",
        group=DATA,
        low=0,
        cap=100,
        soft_high=5,
        used_when=(("dataset", PLANAR),),
        help="noise of a 2-D set (0 = clean)",
    )
    n_samples: int = param(
        600,
        kind="int",
        label="samples",
        group=DATA,
        low=20,
        cap=MAX_SAMPLES,
        soft_high=100_000,
        flag="--samples",
        used_when=(("dataset", PLANAR),),
        help="points in a 2-D set",
    )
    val_fraction: float = param(
        0.2,
        kind="float",
        label="validation fraction",
        group=DATA,
        low=0,
        high=1,
        low_open=True,
        high_open=True,
        help="share held out for validation",
    )
    hidden: tuple[int, ...] = param(
        (32, 32, 32, 32),
        kind="widths",
        label="hidden layers",
        help='hidden widths, e.g. 64,64 (0 or "": none, softmax regression)',
        sampled=(
            Sampled("width", "8:128:int", "width of every hidden layer, e.g. 16:128:int", rank=4),
            Sampled("layers", "1:4:int", "number of hidden layers, e.g. 1:4:int", rank=5),
        ),
    )
    activation: str = param(
        "sigmoid",
        kind="str",
        label="activation",
        choices=ACTIVATIONS,
        help="g in a = g(z~): relu (He init), tanh or sigmoid (Xavier init), linear",
        sampled=(Sampled("activation", "relu,tanh,sigmoid:cat", "e.g. relu,tanh:cat", rank=7),),
    )
    batchnorm: bool = param(
        True,
        kind="bool",
        label="batch norm",
        flag="--bn",
        help="batch norm on every hidden layer",
        sampled=(
            Sampled(
                "bn", "true,false:cat", "batch norm: bare --bn = on, or true,false:cat", rank=6
            ),
        ),
    )
    compare: bool = param(
        False,
        kind="bool",
        label="compare",
        flag="--compare",
        help="train twin networks side by side (same start, same batches); "
        "BN vs plain unless --compare-setting names another setting",
    )
    compare_setting: str = param(
        "batchnorm",
        kind="str",
        label="compared setting",
        choices=COMPARABLE,
        help="the one setting the twins differ in (implies --compare)",
    )
    compare_value: str = param(
        "",
        kind="str",
        label="twin's value",
        blank_ok=True,
        help="the second network's value of the compared setting "
        "(empty: a default, e.g. lr / 10; not used for batchnorm)",
    )
    optimizer: str = param(
        "sgd",
        kind="str",
        label="optimizer",
        group=OPTIMIZATION,
        choices=OPTIMIZERS,
        help="sgd, momentum, rmsprop or adam",
        sampled=(
            Sampled("optimizer", "sgd,momentum,rmsprop,adam:cat", "e.g. sgd,adam:cat", rank=8),
        ),
    )
    lr: float = param(
        0.5,
        kind="float",
        label="learning rate",
        group=OPTIMIZATION,
        low=0,
        low_open=True,
        cap=MAX_LR,
        soft_high=10.0,
        live=True,
        help="learning rate alpha",
        sampled=(
            Sampled(
                "lr",
                "1e-4:1:log",
                "learning rate, e.g. 1e-4:1:log",
                rank=1,
                by_default=True,
                high=MAX_SAMPLED_LR,
            ),  # fmt: skip
        ),
    )
    momentum: float = param(
        0.9,
        kind="float",
        label="momentum beta",
        group=OPTIMIZATION,
        low=0,
        high=1,
        high_open=True,
        live=True,
        used_when=(("optimizer", ("momentum", "adam")),),
        help="momentum beta (beta1 for Adam)",
        sampled=(
            Sampled(
                "beta",
                "0.9:0.999:1m",
                "momentum beta (beta1 for Adam), e.g. 0.9:0.999:1m",
                rank=2,
                by_default=True,
            ),
        ),
    )
    beta2: float = param(
        0.999,
        kind="float",
        label="beta2",
        group=OPTIMIZATION,
        low=0,
        high=1,
        high_open=True,
        live=True,
        used_when=(("optimizer", ("rmsprop", "adam")),),
        help="RMSprop/Adam second-moment beta",
        sampled=(
            Sampled(
                "beta2",
                "0.99:0.9999:1m",
                "RMSprop/Adam second-moment beta, e.g. 0.99:0.9999:1m",
                rank=10,
            ),
        ),
    )
    lr_decay: float = param(
        0.0,
        kind="float",
        label="lr decay",
        group=OPTIMIZATION,
        low=0,
        cap=1000.0,
        soft_high=10.0,
        live=True,
        help="alpha = lr / (1 + decay * epoch)",
        sampled=(
            Sampled(
                "lr_decay",
                "0:1:linear",
                "alpha = lr / (1 + decay * epoch), e.g. 0:1:linear",
                rank=9,
            ),
        ),
    )
    batch_size: int = param(
        32,
        kind="int",
        label="batch size",
        group=OPTIMIZATION,
        low=1,
        cap=MAX_BATCH,
        soft_high=4096,
        live=True,
        help="mini-batch size (1 = plain SGD on one example; batch norm needs 2)",
        sampled=(
            Sampled("batch_size", "16:512:pow2", "mini-batch size, e.g. 16:512:pow2", rank=3),
        ),
    )
    bn_momentum: float = param(
        0.9,
        kind="float",
        label="BN momentum",
        low=0,
        high=1,
        high_open=True,
        live=True,
        used_when=WITH_BN,
        help="running = k*running + (1-k)*batch",
        sampled=(
            Sampled(
                "bn_momentum",
                "0.9:0.999:1m",
                "BN running-average momentum, e.g. 0.9:0.999:1m",
                rank=11,
            ),
        ),
    )
    eps: float = param(
        1e-5,
        kind="float",
        label="eps",
        low=0,
        low_open=True,
        high=1,
        live=True,
        used_when=WITH_BN,
        help="BN epsilon (default 1e-5)",
        sampled=(Sampled("eps", "1e-8:1e-3:log", "BN epsilon, e.g. 1e-8:1e-3:log", rank=12),),
    )
    seed: int = param(
        0,
        kind="int",
        label="seed",
        group=OPTIMIZATION,
        low=0,
        high=2**32 - 1,
        help="seed of weights, data and batches",
    )

    def validated(self) -> TrainConfig:
        """Return self with types normalized, or raise :class:`ConfigError`."""
        values = {name: p.check(getattr(self, name)) for name, p in PARAMS.items()}
        c = replace(self, **{**values, "hidden": check_hidden(self.hidden)})
        _check(c.batch_size >= 2 or not uses_batchnorm(c), BN_BATCH_OF_ONE)
        if c.compare:
            from bnviz.train.twins import twin_configs

            twin_configs(c)  # raises ConfigError for a twin that cannot differ
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
                kwargs["hidden"] = parse_hidden(h) if isinstance(h, str) else check_hidden(h)
            for name, p in PARAMS.items():
                if name in kwargs and p.kind in ("int", "float", "bool"):
                    kwargs[name] = p.check(kwargs[name])
        except (TypeError, ValueError) as e:
            raise ConfigError(str(e)) from None
        return cls(**kwargs).validated()

    def save(self, path: str | os.PathLike[str]) -> None:
        text = json.dumps({"bnviz_settings": SETTINGS_VERSION, **self.to_dict()}, indent=2)
        Path(path).write_text(text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainConfig:
        """Read a settings file written by :meth:`save`; a bad file raises ConfigError."""
        return cls.from_file_dict(read_settings_json(path), Path(path).name)

    @classmethod
    def from_file_dict(cls, data: dict, name: str) -> TrainConfig:
        """The settings of a file read by :func:`read_settings_json` (its window blocks
        skipped); errors are prefixed with the file's ``name``."""
        settings = {k: v for k, v in data.items() if k not in WINDOW_KEYS}
        try:
            return cls.from_dict(settings)
        except ConfigError as e:
            raise ConfigError(f"{name}: {e}") from None


def read_settings_json(path: str | os.PathLike[str]) -> dict:
    """A settings file's JSON object, its ``bnviz_settings`` version checked and removed.

    Files too big or too deeply nested to be settings are refused before they are parsed;
    every problem is a ConfigError naming the file."""
    from bnviz.train.jsonfile import JsonFileError, read_json

    name = Path(path).name
    try:
        data = read_json(path, max_bytes=MAX_SETTINGS_BYTES, max_depth=MAX_SETTINGS_DEPTH,
                         what="a bnviz settings file")  # fmt: skip
    except JsonFileError as e:
        raise ConfigError(str(e)) from None
    version = data.pop("bnviz_settings", None) if isinstance(data, dict) else None
    if not isinstance(data, dict) or version is None:
        raise ConfigError(f'{name}: not a bnviz settings file (no "bnviz_settings" version)')
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigError(f"{name}: not a bnviz settings file (version {version!r})")
    if version > SETTINGS_VERSION:
        raise ConfigError(
            f"{name}: written by a newer bnviz (version {version}); this one reads up to "
            f"{SETTINGS_VERSION}, upgrade bnviz to open it"
        )
    return data


def idle_settings(config: TrainConfig, varied: frozenset[str] = frozenset()) -> dict[str, str]:
    """The settings that do nothing in ``config`` (name -> why), e.g. momentum beta with plain
    SGD; ``varied`` names settings a sweep samples, which count as possibly on."""
    values = config.to_dict()
    out = {}
    for name, p in PARAMS.items():
        if any(k in varied for k, _ in p.used_when):
            continue
        why = p.idle_reason(values)
        if why:
            out[name] = why
    return out


def uses_batchnorm(config: TrainConfig) -> bool:
    """True if a network of ``config`` normalizes: BN on, or compare mode's BN twin."""
    if not config.hidden:
        return False
    if config.batchnorm:
        return True
    return config.compare and config.compare_setting == "batchnorm"


def check_hidden(widths: Iterable[int | str]) -> tuple[int, ...]:
    """``widths`` as a tuple of ints if every width is 1..MAX_HIDDEN_UNITS and there are at
    most MAX_HIDDEN_LAYERS of them (else :class:`ConfigError` saying which)."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Iterable):
        raise ConfigError(f"hidden must be a list of widths like [64, 64], got {widths!r}")
    widths = list(widths)
    if len(widths) > MAX_HIDDEN_LAYERS:
        raise ConfigError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(widths)}")
    hidden = tuple(_whole_width(h, widths) for h in widths)
    _check(len(hidden) <= MAX_HIDDEN_LAYERS, f"at most {MAX_HIDDEN_LAYERS} hidden layers")
    _check(
        all(1 <= h <= MAX_HIDDEN_UNITS for h in hidden),
        f"hidden widths must be 1..{MAX_HIDDEN_UNITS}, got {','.join(map(str, hidden))}",
    )
    return hidden


def _whole_width(h: object, widths: list) -> int:
    """One width as an int; 32.5, true or "wide" are refused, never truncated."""
    if isinstance(h, str) and h.strip().isdigit():
        return int(h)
    if isinstance(h, int) and not isinstance(h, bool):
        return h
    if isinstance(h, float) and h.is_integer():
        return int(h)
    raise ConfigError(f"hidden widths must be whole numbers, got {h!r} in {widths!r}")


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


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


PARAMS: dict[str, Param] = registry(fields(TrainConfig))
# sampled name (lr, beta, width, ...) -> (the TrainConfig field it sets, how it is sampled)
SAMPLED: dict[str, tuple[str, Sampled]] = dict(
    sorted(
        ((s.name, (name, s)) for name, p in PARAMS.items() for s in p.sampled),
        key=lambda item: item[1][1].rank,
    )
)
