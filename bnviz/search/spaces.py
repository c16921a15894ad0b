"""Hyperparameter search spaces: sample at random, on the right scale, coarse to fine.

The course's lesson: a grid tries only a few distinct values of the parameter that matters,
random sampling tries a new one every trial; and a learning rate in [1e-4, 1] must be sampled
uniformly in log10 (``alpha = 10**r``, ``r ~ U[-4, 0]``), a momentum in [0.9, 0.999] uniformly
in log10(1 - beta) (``beta = 1 - 10**r``, ``r ~ U[-3, -1]``). Every space therefore has an
*axis* coordinate in which it is uniform; plots, boxes and narrowing all work in that axis.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bnviz.train.config import (
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_UNITS,
    PARAMS,
    SAMPLED,
    ConfigError,
    TrainConfig,
    idle_settings,
)

KINDS = ("log", "1m", "int", "pow2", "cat", "linear", "fixed")
SAMPLING_METHODS = ("random", "grid")
_CONTINUOUS = ("log", "1m", "linear")
# Narrower boxes (in axis units) are refused: their bounds would collapse in float round-off.
MIN_BOX_WIDTH = 1e-9
_IDENTITY = np.asarray
# value -> axis coordinate and back, for the scales that are not the identity
_FORWARD: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.log10, "1m": lambda v: np.log10(1.0 - v), "pow2": np.log2,
}  # fmt: skip
_INVERSE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": lambda c: 10.0**c, "1m": lambda c: 1.0 - 10.0**c, "pow2": lambda c: 2.0**c,
}  # fmt: skip


class SpaceError(ValueError):
    """A search space or sampling request that makes no sense, with a message for the user."""


def _plain(value: Any) -> Any:
    """Turn NumPy scalars into Python ones so configs stay JSON-serializable."""
    return value.item() if isinstance(value, np.generic) else value


def _is_pow2(x: float) -> bool:
    return x >= 1 and float(x).is_integer() and (int(x) & (int(x) - 1)) == 0


@dataclasses.dataclass(frozen=True)
class Space:
    """One hyperparameter's range and the scale it is sampled on.

    Parameters
    ----------
    name : str
        Flag-style name with underscores (``"lr"``, ``"batch_size"``).
    kind : str
        ``"log"`` (value = 10**r), ``"1m"`` (value = 1 - 10**r), ``"int"``, ``"pow2"``,
        ``"cat"``, ``"linear"`` or ``"fixed"`` (one constant, in ``low`` or ``choices[0]``).
    low, high : float or None
        Inclusive bounds in value units (ints for ``int``/``pow2``).
    choices : tuple
        The options of a ``cat`` space (or the constant of a non-numeric ``fixed`` one).
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def __post_init__(self) -> None:
        _validate(self)
        # Normalise bound types so equal spaces compare, hash and serialize alike.
        if self.kind in _CONTINUOUS:
            low, high = self.bounds
            object.__setattr__(self, "low", float(low))
            object.__setattr__(self, "high", float(high))
        elif self.kind in ("int", "pow2"):
            low, high = self.bounds
            object.__setattr__(self, "low", int(low))
            object.__setattr__(self, "high", int(high))
        object.__setattr__(self, "choices", tuple(_plain(c) for c in self.choices))

    # -- coordinates -------------------------------------------------------------------------

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of a numeric space; a space without them (cat) is an error here."""
        if self.low is None or self.high is None:
            raise SpaceError(f"{self.name}: a {self.kind} space has no numeric bounds")
        return self.low, self.high

    @property
    def value(self) -> Any:
        """The constant of a ``fixed`` space."""
        return self.choices[0] if self.choices else self.low

    @property
    def axis_label(self) -> str:
        """Axis title for plots, e.g. ``"log10(lr)"`` or ``"log10(1 - beta)"``."""
        return {
            "log": f"log10({self.name})",
            "1m": f"log10(1 - {self.name})",
            "pow2": f"log2({self.name})",
        }.get(self.kind, self.name)

    @property
    def axis_range(self) -> tuple[float, float]:
        """(min, max) of the space in axis coordinates; for ``1m`` the axis runs backwards."""
        if self.kind == "cat":
            return 0.0, float(len(self.choices) - 1)
        if self.kind == "fixed":
            a = float(self.to_axis([self.value])[0])
            return a, a
        a, b = self.to_axis(list(self.bounds))
        return float(min(a, b)), float(max(a, b))

    def to_axis(self, values: Any) -> np.ndarray:
        """Map values to plotted axis coordinates (log10, log10(1 - v), log2, index or v)."""
        if self.kind == "cat":
            return np.array([float(self.choices.index(v)) for v in values])
        if self.kind == "fixed" and self.choices:
            return np.zeros(len(values))
        return _FORWARD.get(self.kind, _IDENTITY)(np.asarray(values, dtype=float))

    def from_axis(self, coords: Any) -> np.ndarray:
        """Inverse of :meth:`to_axis` (cat indices are rounded and clipped)."""
        c = np.asarray(coords, dtype=float)
        if self.kind in ("cat", "fixed"):
            options = self.choices or (self.value,)
            idx = np.clip(np.rint(c), 0, len(options) - 1).astype(int)
            out = np.empty(idx.size, dtype=object)
            out[:] = [options[i] for i in idx.ravel()]
            return out.reshape(idx.shape)
        return _INVERSE.get(self.kind, _IDENTITY)(c)

    # -- sampling ------------------------------------------------------------------------------

    def _finish(self, values: np.ndarray) -> list:
        """Clip float round-off back inside the bounds and return plain Python values."""
        if self.kind in ("int", "pow2"):
            return [int(v) for v in values]
        return [float(v) for v in np.clip(values, *self.bounds)]

    def sample(self, rng: np.random.Generator, n: int) -> list:
        """Draw ``n`` values uniformly in the axis coordinate (log-uniform for ``log``)."""
        if self.kind == "fixed":
            return [self.value] * n
        if self.kind == "cat":
            return [_plain(self.choices[i]) for i in rng.integers(len(self.choices), size=n)]
        if self.kind == "int":
            low, high = self.bounds
            return self._finish(rng.integers(int(low), int(high) + 1, size=n))
        if self.kind == "pow2":
            e_lo, e_hi = (int(round(a)) for a in self.axis_range)
            return self._finish(2 ** rng.integers(e_lo, e_hi + 1, size=n))
        lo, hi = self.axis_range
        return self._finish(self.from_axis(rng.uniform(lo, hi, size=n)))

    def grid(self, n: int) -> list:
        """``n`` values evenly spaced in the axis coordinate, ascending and distinct.

        Discrete spaces give at most their number of distinct values; ``n == 1`` gives the
        middle of the range rather than its lower edge.
        """
        if self.kind == "fixed":
            return [self.value]
        if self.kind == "cat":
            k = min(n, len(self.choices))
            idx = np.unique(np.rint(np.linspace(0, len(self.choices) - 1, k)).astype(int))
            return [_plain(self.choices[i]) for i in idx]
        lo, hi = self.axis_range
        coords = np.linspace(lo, hi, n) if n > 1 else np.array([(lo + hi) / 2])
        if self.kind in ("int", "pow2"):
            k = min(n, int(round(hi - lo)) + 1)
            coords = np.linspace(lo, hi, k) if k > 1 else np.array([(lo + hi) / 2])
            coords = np.unique(np.rint(coords))
        values = sorted(self._finish(self.from_axis(coords)))
        return list(dict.fromkeys(values))

    def narrowed(self, lo_axis: float, hi_axis: float) -> Space:
        """A new space restricted to the box ``[lo_axis, hi_axis]`` in axis coordinates.

        The box is clipped to the current range. ``int`` and ``pow2`` keep the whole values
        inside the box, or the one nearest its centre if the box holds none; ``cat`` and
        ``fixed`` come back unchanged (a box on category indices is not meaningful).
        """
        if self.kind in ("cat", "fixed"):
            return self
        cur_lo, cur_hi = self.axis_range
        a, b = sorted((float(lo_axis), float(hi_axis)))
        a, b = max(a, cur_lo), min(b, cur_hi)
        if self.kind in ("int", "pow2"):
            if a > b:  # box outside the range: keep the edge nearest to it
                a = b = cur_lo if b < cur_lo else cur_hi
            ia, ib = math.ceil(a - 1e-9), math.floor(b + 1e-9)
            if ia > ib:
                ia = ib = int(np.clip(round((a + b) / 2), cur_lo, cur_hi))
            i_lo, i_hi = sorted(int(v) for v in self.from_axis([ia, ib]))
            return Space(self.name, self.kind, i_lo, i_hi)
        if not b - a > MIN_BOX_WIDTH:
            raise SpaceError(
                f"{self.name}: box {lo_axis:g}:{hi_axis:g} in {self.axis_label} leaves nothing "
                f"of the range {cur_lo:g}:{cur_hi:g}"
            )
        lo, hi = sorted(float(v) for v in self.from_axis([a, b]))
        low, high = self.bounds
        return Space(self.name, self.kind, max(lo, low), min(hi, high))

    # -- text ------------------------------------------------------------------------------------

    def to_text(self) -> str:
        """The CLI syntax that :func:`parse_space` reads back into an equal space."""
        if self.kind == "fixed":
            return _format_scalar(self.value)
        if self.kind == "cat":
            return ",".join(_format_scalar(c) for c in self.choices) + ":cat"
        return f"{_format_scalar(self.low)}:{_format_scalar(self.high)}:{self.kind}"

    def to_dict(self) -> dict:
        """JSON-ready form, for study files; :meth:`from_dict` reads it back."""
        return {**dataclasses.asdict(self), "choices": list(self.choices)}

    @classmethod
    def from_dict(cls, d: dict) -> Space:
        return cls(d["name"], d["kind"], d.get("low"), d.get("high"), tuple(d.get("choices", ())))


def _validate(s: Space) -> None:
    """Refuse ranges that cannot be sampled on their scale, saying what would work."""
    got = f"got {_format_scalar(s.low)}:{_format_scalar(s.high)}"
    if s.kind not in KINDS:
        raise SpaceError(
            f"{s.name}: unknown kind {s.kind!r}; valid kinds: {', '.join(KINDS[:-1])} "
            "(or a bare value for a fixed one)"
        )
    if s.kind == "fixed":
        if (s.low is None) == (len(s.choices) != 1):
            raise SpaceError(f"{s.name}: a fixed space needs one value")
        if s.low is not None and not math.isfinite(s.low):
            raise SpaceError(f"{s.name}: a fixed value must be finite, got {s.low}")
        return
    if s.kind == "cat":
        if not s.choices or len(set(s.choices)) != len(s.choices):
            raise SpaceError(f"{s.name}: cat needs distinct choices, got {s.choices!r}")
        return
    if s.low is None or s.high is None or not (math.isfinite(s.low) and math.isfinite(s.high)):
        raise SpaceError(f"{s.name}: {s.kind} needs finite min and max, {got}")
    if s.kind in ("int", "pow2"):
        if not (float(s.low).is_integer() and float(s.high).is_integer()):
            raise SpaceError(f"{s.name}: {s.kind} bounds must be whole numbers, {got}")
        if s.low > s.high:  # equal is fine: narrowing may leave one value
            raise SpaceError(f"{s.name}: min must be <= max, {got}")
        if s.kind == "pow2" and not (_is_pow2(s.low) and _is_pow2(s.high)):
            hint = " and ".join(_nearest_pow2(v) for v in (s.low, s.high) if not _is_pow2(v))
            raise SpaceError(f"{s.name}: pow2 bounds must be powers of two, {got} (try {hint})")
        return
    if not s.low < s.high:
        raise SpaceError(f"{s.name}: min must be < max, {got}")
    if s.kind == "log" and s.low <= 0:
        raise SpaceError(f"{s.name}: log scale needs 0 < min < max, {got}")
    if s.kind == "1m" and (s.low < 0 or s.high >= 1):
        raise SpaceError(
            f"{s.name}: one-minus log scale (1m) needs 0 <= min < max < 1 so that 1 - value > 0, "
            f"{got}"
        )


def _nearest_pow2(v: float) -> str:
    if v < 1:
        return "1"
    e = math.floor(math.log2(v))
    return f"{2**e} or {2 ** (e + 1)} for {_format_scalar(v)}"


def _format_scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def _parse_scalar(text: str) -> int | float | bool | str:
    """Read one CLI value: int, float, true/false, else the stripped string."""
    t = text.strip()
    if t.lower() in ("true", "false", "on", "off", "yes", "no"):
        return t.lower() in ("true", "on", "yes")
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


def parse_space(name: str, text: str) -> Space:
    """Parse the CLI syntax ``min:max:kind``, ``a,b,c:cat`` or a bare (fixed) value.

    Examples: ``"1e-4:1:log"``, ``"0.9:0.999:1m"``, ``"16:512:pow2"``, ``"16:128:int"``,
    ``"0:1:linear"``, ``"relu,tanh:cat"``, ``"0.01"`` (fixed).

    Raises
    ------
    SpaceError
        Malformed text, unknown kind, min >= max, or a range its scale cannot sample.
    """
    if not name:
        raise SpaceError("a search space needs a name")
    parts = [p.strip() for p in text.split(":")]
    if len(parts) == 1:
        if not parts[0]:
            raise SpaceError(f"{name}: empty value; use min:max:kind, a,b:cat or a bare value")
        value = _parse_scalar(parts[0])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return check_sampled(Space(name, "fixed", low=value))
        return check_sampled(Space(name, "fixed", choices=(value,)))
    if len(parts) == 2 and parts[1] == "cat":
        choices = tuple(_parse_scalar(c) for c in parts[0].split(",") if c.strip())
        return check_sampled(Space(name, "cat", choices=choices))
    if len(parts) != 3:
        raise SpaceError(
            f"{name}: cannot parse {text!r}; use min:max:kind (kinds: {', '.join(KINDS[:-1])}), "
            "a,b,c:cat or a bare value"
        )
    if parts[2] not in KINDS or parts[2] in ("cat", "fixed"):
        raise SpaceError(
            f"{name}: unknown kind {parts[2]!r} in {text!r}; valid kinds: log, 1m, int, pow2, "
            "linear (and a,b,c:cat)"
        )
    bounds = []
    for label, part in (("min", parts[0]), ("max", parts[1])):
        value = _parse_scalar(part)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SpaceError(f"{name}: cannot parse {text!r}: {label} {part!r} is not a number")
        bounds.append(value)
    low, high = bounds
    if not low < high:
        raise SpaceError(f"{name}: min must be < max, got {parts[0]}:{parts[1]}")
    return check_sampled(Space(name, parts[2], low, high))


def idle_axes(base: TrainConfig, spaces: Sequence[Space]) -> dict[str, str]:
    """The sampled spaces whose setting does nothing in this sweep (name -> why): momentum
    beta with plain SGD, say, unless the optimizer is sampled too. Sampling such a setting
    only adds noise, and its importance then reads as zero."""
    fields = {SAMPLED[s.name][0]: s.name for s in spaces if s.name in SAMPLED}
    varied = frozenset(f for f, n in fields.items() if _varies(spaces, n))
    idle = idle_settings(base, varied)
    return {name: idle[field] for field, name in fields.items() if field in idle}


def _varies(spaces: Sequence[Space], name: str) -> bool:
    return any(s.name == name and s.kind != "fixed" for s in spaces)


# The sampled names that set a hidden layer shape, and the range of each.
_SHAPE_RANGES = {"width": (1, MAX_HIDDEN_UNITS), "layers": (0, MAX_HIDDEN_LAYERS)}


def check_sampled(space: Space) -> Space:
    """``space`` if every value it can give is valid for the setting it samples, else a
    SpaceError now, rather than one failed trial per sample later.

    A name the registry does not know (a test's ``"a"``) is not checked: :func:`apply_params`
    refuses it when a sweep is built."""
    entry = SAMPLED.get(space.name)
    if entry is None:
        return space
    field = entry[0]
    whole = field == "hidden" or PARAMS[field].kind == "int"
    if space.kind in _CONTINUOUS and whole:
        raise SpaceError(
            f"{space.name} takes whole numbers: use int or pow2, e.g. {entry[1].space}"
        )
    if space.kind not in ("cat", "fixed") and field != "hidden":
        if PARAMS[field].kind in ("str", "bool"):
            raise SpaceError(f"{space.name} is a choice: list the values, e.g. {entry[1].space}")
    if space.kind == "cat":
        values: list[Any] = list(space.choices)
    elif space.kind == "fixed":
        values = [space.value]
    else:
        values = list(space.bounds)
    for v in values:
        try:
            if field == "hidden":
                lo, hi = _SHAPE_RANGES[space.name]
                if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                    raise ConfigError(f"must be a whole number {lo}..{hi}, got {v!r}")
            else:
                PARAMS[field].check(v)
                top = entry[1].high
                if top is not None and isinstance(v, (int, float)) and v > top:
                    raise ConfigError(
                        f"a search of {PARAMS[field].label} goes up to {top:g}, got {v:g}"
                    )
        except ConfigError as e:
            said = str(e)
            raise SpaceError(
                said if said.startswith(space.name) else f"{space.name}: {said}"
            ) from None
    return space


# What a sweep samples when no space is given: alpha and beta, the two the course tunes first.
DEFAULT_SPACES: dict[str, Space] = {
    name: parse_space(name, s.space) for name, (_, s) in SAMPLED.items() if s.by_default
}


def narrow_spaces(spaces: Sequence[Space], box: dict[str, tuple[float, float]]) -> list[Space]:
    """Coarse to fine: restrict each named space to its ``(lo, hi)`` box in axis coordinates.

    Spaces not in ``box`` are kept as they are; a box naming an unknown space is refused.
    """
    known = {s.name for s in spaces}
    unknown = sorted(set(box) - known)
    if unknown:
        raise SpaceError(f"box names unknown parameters {unknown}; known: {sorted(known)}")
    return [s.narrowed(*box[s.name]) if s.name in box else s for s in spaces]
