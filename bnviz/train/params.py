"""What each training and search parameter is, said once.

A :class:`Param` rides on its :class:`~bnviz.train.config.TrainConfig` field as metadata: its
kind, valid range, choices, help text, the label a person reads, whether it may change while a
network trains (babysitting) and how a sweep samples it. The command-line flags of ``bnviz``,
``bnviz train`` and ``bnviz sweep``, the controls' ranges and choices, the explorer's axes and
default ranges, :meth:`TrainConfig.validated` and what :meth:`Trainer.set_hparams` accepts are
all generated from it, so they cannot drift apart (four hand-kept lists once did).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

KINDS = ("int", "float", "bool", "str", "widths")


# Batch norm over one example: mu = z, sigma^2 = 0, so z_norm = (z - mu)/sqrt(0 + eps) = 0 for
# every input and the layer passes only beta on. Plain networks train on one example (true SGD).
BN_BATCH_OF_ONE = (
    "batch size 1 with batch norm: the variance over one example is 0, so z_norm = 0 for "
    "every input (the layer outputs beta only); use a batch of 2 or more, or turn batch norm off"
)


class ConfigError(ValueError):
    """A setting that is out of range or malformed; the message names it."""


@dataclass(frozen=True)
class Sampled:
    """How a sweep samples a parameter.

    ``name`` is the sampled name (the sweep flag and the key in a trial's params: ``beta`` for
    the ``momentum`` field, ``width``/``layers`` for ``hidden``); ``space`` the default search
    space in the sweep syntax (``1e-4:1:log``: alpha = 10^r with r uniform in [-4, 0]);
    ``by_default`` puts it in the round that ``bnviz sweep`` samples when no space is given;
    ``rank`` orders the sampled parameters as the course ranks them (alpha matters most, then
    beta, the mini-batch size, the hidden units), which is the order the explorer lists them.
    """

    name: str
    space: str
    help: str
    rank: int
    by_default: bool = False
    high: float | None = None  # the top a search space may reach (below the setting's own)


@dataclass(frozen=True)
class Param:
    """One setting: the :class:`TrainConfig` field ``name`` and everything said about it.

    ``low``/``high`` bound valid values (``low_open``: strictly greater); ``soft_high`` is
    where a control's slider or spin box stops when the valid range has no top. ``live``: may
    change between two training steps. ``flag`` is the command-line flag (``""``: none).
    ``blank_ok``: a text setting that may be empty (the twin's value: empty = a default).
    ``cap``: a sanity top on a setting whose range has no natural one (``--samples``, alpha):
    above it a value is a typo (three zeros too many), refused saying the cap.
    ``used_when`` lists ``(other setting, values)`` pairs, any of which makes this setting do
    something (momentum beta only with the momentum and adam optimizers); empty: always.
    """

    kind: str
    label: str
    help: str
    group: str = "network"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    soft_high: float | None = None
    cap: float | None = None
    note: str = ""
    choices: tuple[str, ...] = ()
    live: bool = False
    flag: str | None = None
    sampled: tuple[Sampled, ...] = ()
    used_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    blank_ok: bool = False
    name: str = ""
    default: Any = None

    @property
    def cli_flag(self) -> str:
        """``--batch-size`` for ``batch_size``, unless the param names another flag."""
        return self.flag if self.flag is not None else "--" + self.name.replace("_", "-")

    def idle_reason(self, values: dict[str, Any]) -> str | None:
        """Why this setting does nothing under ``values`` (a config as a dict), or None."""
        if not self.used_when or any(values.get(k) in vs for k, vs in self.used_when):
            return None
        needs = " or ".join(f"{k} {'/'.join(map(_shown, vs))}" for k, vs in self.used_when)
        now = ", ".join(f"{k} {_shown(values.get(k))}" for k, _ in self.used_when)
        return f"{self.label} does nothing with {now} (it needs {needs})"

    @property
    def top(self) -> float | None:
        """The highest value a control offers: the valid top, else the soft one."""
        return self.high if self.high is not None else self.soft_high

    def check(self, value: Any) -> Any:
        """``value`` if it is valid for this parameter (ints stay ints), else ConfigError."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{self.name} must be true or false, got {value!r}")
            return value
        if self.kind == "str":
            if self.blank_ok and isinstance(value, str) and not value.strip():
                return ""
            if not isinstance(value, str):  # a settings file's "optimizer": 5
                what = f"one of {', '.join(self.choices)}" if self.choices else "text"
                raise ConfigError(f"{self.label} must be {what}, got {value!r}")
            if not value.strip():
                raise ConfigError(f"{self.label} must be given")
            if self.choices and value not in self.choices:
                raise ConfigError(f"{self.label} must be one of {', '.join(self.choices)}")
            return value
        if self.kind == "widths":
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{self.name} must be a number, got {value!r}")
        if self.kind == "int":
            if not math.isfinite(value) or float(value) != int(value):
                raise ConfigError(f"{self.name} must be a whole number, got {value!r}")
            if isinstance(value, float):
                self._check_range(value)  # 1e30 said as 1e+30, before it becomes 31 digits
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ConfigError(f"{self.label} must be finite, got {value}")
        self._check_range(value)
        return value

    def _check_range(self, v: float) -> None:
        if self.cap is not None and v > self.cap:
            cap = f"{self.cap:,.0f}" if float(self.cap).is_integer() else f"{self.cap:g}"
            said = f"{int(v):,}" if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"
            raise ConfigError(f"{self.label} must be <= {cap}, got {said}")
        low_bad = self.low is not None and (v < self.low or (self.low_open and v == self.low))
        high_bad = self.high is not None and (v > self.high or (self.high_open and v == self.high))
        if not (low_bad or high_bad):
            return
        note = f" ({self.note})" if self.note else ""
        if self.low is not None and self.high is not None and self.kind == "int":
            # whole numbers in full: a seed's top is 4294967295, not 4.29497e+09
            whole = f"{int(self.low)}..{int(self.high)}"
            got = int(v) if abs(v) < 1e15 else f"{v:g}"
            raise ConfigError(f"{self.label} must be {whole}, got {got}{note}")
        if self.low is not None and self.high is not None:
            lo, hi = "(" if self.low_open else "[", ")" if self.high_open else "]"
            raise ConfigError(
                f"{self.label} must be in {lo}{self.low:g}, {self.high:g}{hi}, got {v:g}{note}"
            )
        if low_bad:
            assert self.low is not None
            rel = ">" if self.low_open else ">="
            raise ConfigError(f"{self.label} must be {rel} {self.low:g}, got {v:g}{note}")
        assert self.high is not None
        rel = "<" if self.high_open else "<="
        raise ConfigError(f"{self.label} must be {rel} {self.high:g}, got {v:g}{note}")

    def parse(self, text: str) -> Any:
        """A value typed by a person (a flag, a field): parsed, then checked."""
        text = text.strip()
        if self.kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "on", "yes", "1"):
                return True
            if lowered in ("false", "off", "no", "0"):
                return False
            raise ConfigError(f"{self.label} must be true or false, got {text!r}")
        if self.kind == "str":
            return self.check(text)
        if self.kind == "int":
            try:
                whole = int(text)
            except ValueError:
                raise ConfigError(f"{self.label}: expected a whole number, got {text!r}") from None
            return self.check(whole)
        value = _number(text)
        if value is None:
            raise ConfigError(f"{self.label}: expected a number, got {text!r}")
        return self.check(value)


def _shown(v: Any) -> str:
    return ("on" if v else "off") if isinstance(v, bool) else str(v)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def param(default: Any, **about: Any) -> Any:
    """A dataclass field with its :class:`Param` as metadata (``name`` and ``default`` are
    filled in by :func:`registry`)."""
    return field(default=default, metadata={"param": Param(**about)})


def registry(fields_: Any) -> dict[str, Param]:
    """Field name -> its :class:`Param`, from ``dataclasses.fields(TrainConfig)``."""
    from dataclasses import replace

    out: dict[str, Param] = {}
    for f in fields_:
        p = f.metadata.get("param")
        if p is not None:
            out[f.name] = replace(p, name=f.name, default=f.default)
    return out


# -- bounds of what a run or a round may ask for --------------------------------------------
# Each is a sanity bound, not a time limit: far above any lesson, low enough that a typo
# (an extra three zeros) is refused at once instead of running for days or allocating terabytes.
MAX_EPOCHS = 100_000
MAX_STEPS = 10_000_000
MAX_TRIALS = 1_000_000  # trials are generated lazily, so even this many start at once
# A pruned round holds every trial at each rung until all have reported: bounded lower.
MAX_PRUNED_TRIALS = 10_000
# The explorer draws every trial as a point, a row and a learning curve: past ~10,000 in a
# round its views take tens of seconds per refresh (measured), so its round stops there.
MAX_EXPLORER_TRIALS = 10_000
MAX_WORKERS = 65_536  # what --workers may ask; the processes started are capped by the cores
WORKERS_PER_CORE = 4  # worker processes beyond this many per core only wait for a turn


def _run_param(name: str, label: str, high: int, help: str, low: int = 1) -> Param:
    return Param(kind="int", label=label, help=help, group="run", low=low, high=high, name=name)


# The flags of ``bnviz train`` and ``bnviz sweep`` (and the explorer's spin boxes) that are no
# training setting: their ranges, said once.
RUN_PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        _run_param("epochs", "epochs", MAX_EPOCHS, "passes over the data"),
        _run_param("steps", "steps", MAX_STEPS, "mini-batch steps"),
        _run_param("eval_every", "evaluation interval", MAX_STEPS, "steps between evaluations"),
        _run_param("trials", "trials", MAX_TRIALS, "trials of a round (0: report only)", low=0),
        _run_param("recheck", "re-checked trials", MAX_TRIALS, "best trials to re-run"),
        _run_param("workers", "workers", MAX_WORKERS, "worker processes asked for"),
    )
}
