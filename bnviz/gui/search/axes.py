"""An axis that is drawn in a space's axis coordinate but labelled in values.

The scatter plots every trial at ``Space.to_axis(value)`` (log10(lr), log10(1 - beta),
log2(batch size), ...), so view coordinates, the zoom box and ``narrow_spaces`` all speak the
same units. ``PlotItem.setLogMode`` would cover ``log`` only (base 10, not ``pow2``, and not
``1 - beta``); this axis labels any scale: decades as 1e-4 ... 1, ``1m`` as ``1 - beta`` values
0.1, 0.01, 0.001, powers of two as 16, 32, 64, categories by name.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from bnviz.search.spaces import Space

_LOG_KINDS = ("log", "1m")
MINOR_FACTORS = np.log10(np.arange(2, 10))  # 2x .. 9x within a decade


def format_value(v: float, digits: int = 3) -> str:
    """Short text for ticks and cells: 0.0123, 0.988, 128, 2.5e-5, 1e-4."""
    if v == 0 or not np.isfinite(v):
        return str(v)
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.{digits}g}"
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def title(space: Space) -> str:
    """Axis title: what the tick labels are, and on which scale."""
    return {
        "log": f"{space.name} (log scale)",
        "1m": f"1 - {space.name} (log scale)",
        "pow2": f"{space.name} (log2 scale)",
    }.get(space.kind, space.name)


class SpaceAxis(pg.AxisItem):
    """AxisItem whose ticks are placed and labelled through a :class:`Space`."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.space: Space | None = None
        self._span = 0.0  # view width at the last tickValues call, to decide minor labels

    def set_space(self, space: Space | None) -> None:
        self.space = space
        self.setLabel(title(space) if space is not None else "")
        self.picture = None
        self.update()

    def _label_of(self, coord: float) -> float:
        """The number a tick shows: the value, or 1 - value for a one-minus space."""
        assert self.space is not None  # tickStrings labels plain values without one
        if self.space.kind == "1m":
            return 10.0**coord
        return float(self.space.from_axis([coord])[0])

    def tickValues(  # noqa: N802 (pyqtgraph's names, as below)
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, list[float]]]:
        s = self.space
        if s is None or s.kind not in _LOG_KINDS + ("pow2", "cat"):
            return super().tickValues(minVal, maxVal, size)
        lo, hi = math.floor(minVal), math.ceil(maxVal)
        self._span = maxVal - minVal
        if s.kind == "cat":
            ticks = [float(i) for i in range(len(s.choices)) if minVal <= i <= maxVal]
            return [(1.0, ticks)]
        if s.kind == "pow2":
            step = max(1, int((hi - lo) / 8) + 1)
            return [
                (float(step), [float(c) for c in range(lo, hi + 1, step) if minVal <= c <= maxVal])
            ]
        decades = [float(c) for c in range(lo, hi + 1) if minVal <= c <= maxVal]
        minor = [
            d + f for d in range(lo - 1, hi + 1) for f in MINOR_FACTORS if minVal <= d + f <= maxVal
        ]
        if len(decades) >= 2:
            return [(1.0, decades), (0.1, minor if maxVal - minVal < 6 else [])]
        if len(decades) + len(minor) >= 2:  # under a decade: 2x .. 9x become the main ticks
            return [(0.1, sorted(decades + minor))]
        return super().tickValues(minVal, maxVal, size)  # a sliver: plain ticks, value labels

    def tickStrings(  # noqa: N802
        self, values: list[float], scale: float, spacing: float
    ) -> list[str]:
        s = self.space
        if s is None or s.kind in ("linear", "int", "fixed"):
            return super().tickStrings(values, scale, spacing)
        if s.kind == "cat":
            return [str(s.choices[int(round(v))]) if 0 <= round(v) < len(s.choices) else ""
                    for v in values]  # fmt: skip
        if s.kind in _LOG_KINDS and spacing == 0.1 and self._span > 1.0:
            # Minor ticks over several decades: label 2x and 5x while there is room.
            keep = {1, 2, 5} if self._span <= 2.5 else {1}
            out = []
            for v in values:
                lead = round(10 ** (v - math.floor(v + 1e-9)))
                out.append(format_value(self._label_of(v)) if lead in keep else "")
            return out
        return [format_value(self._label_of(v)) for v in values]


def nice_ticks(lo: float, hi: float, n: int = 4) -> np.ndarray:
    """About ``n`` round values (steps of 1, 2 or 5 x 10^k) in [lo, hi], ascending."""
    if not hi > lo:
        return np.array([lo])
    step = 10.0 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n + 1:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return np.arange(first, hi + step * 1e-9, step)


class LossAxis(pg.AxisItem):
    """The loss axis of a log plot (the curves, the re-check), labelled at any zoom.

    pyqtgraph's log axis ticks decades and their 2x .. 9x only: a range inside one such step
    (1.108 to 1.127, the curves of a short round) got no tick, so no number at all. Then the
    ticks are round values of the loss itself. Labels are plain numbers (0.02, 1.11), with the
    digits that tell neighbours apart, instead of pyqtgraph's one-digit ``2·10⁻²``.
    """

    def logTickValues(  # noqa: N802, N803 (pyqtgraph's)
        self, minVal: float, maxVal: float, size: float, stdTicks: list
    ) -> list[tuple[float | None, list[float]]]:
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        if sum(len(t) for _, t in ticks) >= 2:
            return ticks
        values = nice_ticks(10.0**minVal, 10.0**maxVal)
        return [(None, list(np.log10(values[values > 0])))]

    def logTickStrings(  # noqa: N802 (pyqtgraph's name)
        self, values: list[float], scale: float, spacing: float
    ) -> list[str]:
        shown = 10.0 ** np.asarray(values, dtype=float) * scale
        texts = [format_value(float(v)) for v in shown]
        for digits in range(4, 8):  # neighbours that print alike get more digits
            if len(set(texts)) == len(texts):
                break
            texts = [format_value(float(v), digits) for v in shown]
        return texts
