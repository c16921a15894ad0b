"""Statistics the views need, computed cheaply enough to run 30 times a second.

- :class:`StableBins`: histogram edges that stay put from frame to frame (they only ever widen,
  by doubling), so a bar means the same interval over a whole run.
- :func:`histogram`: counts on uniform edges with out-of-range values in the end bins.
- :func:`mean_std`, :func:`percentiles`: cheaper equivalents of ``np.mean``/``np.std`` and
  ``np.percentile`` for the per-frame layer statistics.
- :class:`Ewma`: the course's exponentially weighted average with bias correction.
- :class:`DecimatingSeries`: a bounded (step, value) history for long runs.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

N_BINS = 48
SORT_BELOW = 1024  # percentiles of fewer values: one sort beats partitions (per-call overhead)
MIN_HALF_WIDTH = 1.0


class StableBins:
    """Per-key uniform edges on ``[lo, hi]`` that widen (never shrink) to cover the data.

    ``lo`` is 0 for keys whose values have always been non-negative (ReLU and sigmoid outputs),
    otherwise ``-hi``; ``hi`` is a power of two, at least :data:`MIN_HALF_WIDTH`.
    """

    def __init__(self, n_bins: int = N_BINS) -> None:
        self.n_bins = n_bins
        self._ranges: dict[Hashable, tuple[float, float]] = {}
        self._edges: dict[Hashable, np.ndarray] = {}

    def edges(self, key: Hashable, vmin: float, vmax: float) -> np.ndarray:
        """Edges for ``key`` covering ``[vmin, vmax]`` (non-finite values are ignored)."""
        lo, hi = self._ranges.get(key, (0.0, MIN_HALF_WIDTH))
        new_lo, new_hi = lo, hi
        if math.isfinite(vmax) and abs(vmax) > new_hi:
            new_hi = 2.0 ** math.ceil(math.log2(abs(vmax)))
        if math.isfinite(vmin) and vmin < 0:
            new_hi = max(new_hi, 2.0 ** math.ceil(math.log2(max(-vmin, MIN_HALF_WIDTH))))
            new_lo = -new_hi
        elif new_lo < 0:
            new_lo = -new_hi
        if (new_lo, new_hi) != (lo, hi) or key not in self._edges:
            self._ranges[key] = (new_lo, new_hi)
            edges = np.linspace(new_lo, new_hi, self.n_bins + 1)
            edges.setflags(write=False)
            self._edges[key] = edges
        return self._edges[key]


def histogram(
    values: np.ndarray, edges: np.ndarray, value_range: tuple[float, float] | None = None
) -> np.ndarray:
    """Counts of ``values`` on uniform ``edges`` (n+1,), values outside falling in the end bins
    (NaNs are dropped). Faster than ``np.histogram`` for the sizes the views use.

    ``value_range=(min, max)`` of the values, when the caller knows it, saves three passes if it
    lies within the edges (as :class:`StableBins` makes it): no NaN check, no clamping."""
    n = len(edges) - 1
    v = values.ravel()
    lo, hi = float(edges[0]), float(edges[-1])
    inside = value_range is not None and lo <= value_range[0] and value_range[1] <= hi
    if not inside and not np.isfinite(v).all():
        v = v[~np.isnan(v)]
    scale = n / (hi - lo)
    idx = np.multiply(v, scale)  # in the values' dtype: float32 halves the memory traffic
    if lo != 0:
        idx -= lo * scale
    if inside:  # only v == hi (or a rounding of it) lands in bin n: count it in the last bin
        counts = np.bincount(idx.astype(np.int32), minlength=n + 1)
        counts[n - 1] += counts[n:].sum()
        return counts[:n]
    np.maximum(idx, 0, out=idx)
    np.minimum(idx, n - 1, out=idx)
    return np.bincount(idx.astype(np.int32), minlength=n)


def mean_std(values: np.ndarray) -> tuple[float, float]:
    """``(mean, std)`` of all values (population std, like ``np.std``) in two passes: a sum and
    a dot product of the centred values, a few times cheaper than ``v.mean(), v.std()``."""
    v = values.ravel()
    if v.size == 0:
        return float("nan"), float("nan")
    mean = v.sum() / v.size
    d = v - mean
    return float(mean), math.sqrt(max(float(np.dot(d, d)) / v.size, 0.0))


def percentiles(values: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """``np.percentile(values, q)`` (linear interpolation, all values), for ascending ``q``.

    A percentile needs the order statistics k and k+1. One partition at the middle k puts every
    smaller rank to its left, so the lower percentiles partition only the left part and the
    upper ones only the right: three percentiles cost about two partitions of the data, where
    ``np.percentile`` with several kth is several times slower. Non-finite data falls back to
    ``np.percentile`` (its NaN rules)."""
    v = np.array(values, copy=True).ravel()  # partitioned in place
    qs = [float(x) for x in q]
    if v.size == 0 or qs != sorted(qs) or not np.isfinite(v).all():
        return np.percentile(values, q)
    last = v.size - 1
    pos = [p / 100.0 * last for p in qs]
    ranks = sorted({math.floor(x) for x in pos})
    if v.size <= SORT_BELOW:
        v.sort()
        bounds = {k: k + 1 for k in ranks}
    else:
        _select(v, ranks, 0, v.size)
        bounds = dict(zip(ranks, [*ranks[1:], last]))  # v[k+1 : next+1] holds rank k+1
    out = np.empty(len(qs), dtype=np.result_type(v.dtype, np.float64))
    for j, x in enumerate(pos):
        k = math.floor(x)
        t = x - k
        lo = float(v[k])
        hi = float(v[k + 1 : bounds[k] + 1].min()) if t > 0 else lo
        # np.percentile's lerp: exact at both ends of the interval
        out[j] = lo + (hi - lo) * t if t < 0.5 else hi - (hi - lo) * (1 - t)
    return out


def _select(v: np.ndarray, ranks: list[int], lo: int, hi: int) -> None:
    """Partition ``v[lo:hi]`` (which holds ranks lo..hi-1) so each of ``ranks`` is in place."""
    if not ranks:
        return
    mid = len(ranks) // 2
    k = ranks[mid]
    v[lo:hi].partition(k - lo)
    _select(v, ranks[:mid], lo, k)
    _select(v, ranks[mid + 1 :], k + 1, hi)


class Ewma:
    """``v = beta v + (1 - beta) x`` with bias correction ``v / (1 - beta^t)``, so the first
    values are not pulled towards zero."""

    def __init__(self, beta: float = 0.98) -> None:
        self.beta = beta
        self.value = 0.0
        self.t = 0

    def update(self, x: float) -> float:
        self.t += 1
        self.value = self.beta * self.value + (1 - self.beta) * x
        return self.corrected

    @property
    def corrected(self) -> float:
        return self.value / (1 - self.beta**self.t) if self.t else float("nan")


class DecimatingSeries:
    """An append-only (x, y) series whose memory stays bounded.

    When the buffer is full, every other point is dropped and from then on only every
    ``stride``-th appended point is kept, so a run of any length keeps at most ``capacity``
    points spread evenly over its whole history.
    """

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 4:
            raise ValueError("capacity must be >= 4")
        self.capacity = capacity
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0
        self.stride = 1
        self._seen = 0

    def append(self, x: float, y: float) -> None:
        self._seen += 1
        if (self._seen - 1) % self.stride:
            return
        if self._n == self.capacity:
            half = self.capacity // 2
            self._x[:half] = self._x[0 : self.capacity : 2]
            self._y[:half] = self._y[0 : self.capacity : 2]
            self._n = half
            self.stride *= 2
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1

    def extend(self, xs: Iterable[float], ys: Iterable[float]) -> None:
        for x, y in zip(xs, ys):
            self.append(float(x), float(y))

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        """A read-only view of the kept x values (valid until the next append)."""
        v = self._x[: self._n]
        v.flags.writeable = False
        return v

    @property
    def y(self) -> np.ndarray:
        v = self._y[: self._n]
        v.flags.writeable = False
        return v

    def clear(self) -> None:
        self._n, self.stride, self._seen = 0, 1, 0
