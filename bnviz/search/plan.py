"""A round's trial values, drawn reproducibly and handed out one trial at a time.

A round of 1,000,000 trials once built every configuration (and validated it) before the first
started: 222 s and 1.17 GB with nothing to show. A :class:`Plan` keeps one column of values per
sampled space (random: ``n`` numbers each) or the grid's axes, and makes trial ``i``'s dict only
when it is asked for, so a round of any size starts its first trial at once.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from bnviz.search.spaces import SAMPLING_METHODS, Space, SpaceError


class Plan(Sequence[dict]):
    """``len(plan)`` trials; ``plan[i]`` is trial ``i``'s ``{name: value}``, made on demand."""

    def __init__(self, n: int, row: Callable[[int], dict]) -> None:
        self._n, self._row = n, row

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> dict: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict]: ...
    def __getitem__(self, i: int | slice) -> dict | list[dict]:
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(f"trial {i} of {self._n}")
        return self._row(i % self._n)

    def __iter__(self) -> Iterator[dict]:
        return (self._row(i) for i in range(self._n))

    def repeated(self, k: int) -> Plan:
        """Every trial ``k`` times in a row (``--repeats``: a group per configuration)."""
        return Plan(k * self._n, lambda i: self._row(i // k))

    def paired(self, key: str, values: tuple[Any, Any]) -> Plan:
        """Every trial twice, ``key`` set to each of ``values`` in turn (``--pair-bn``)."""
        return Plan(2 * self._n, lambda i: {**self._row(i // 2), key: values[i % 2]})


def _rng_for(seed: int, name: str) -> np.random.Generator:
    """One stream per (seed, name): adding a space does not reshuffle the others' samples."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])


def plan_configs(spaces: Sequence[Space], n: int, *, seed: int, method: str = "random") -> Plan:
    """Trial configurations, reproducibly for a given seed, made when each is asked for.

    Parameters
    ----------
    spaces : sequence of Space
        One per hyperparameter; names must be distinct.
    n : int
        Number of trials wanted (>= 1).
    seed : int
        Same seed, same list.
    method : {"random", "grid"}
        ``"random"`` samples every space independently, giving exactly ``n`` configs.
        ``"grid"`` takes ``k = round(n ** (1 / d))`` values on each of the ``d`` non-fixed
        axes (fewer where a space has fewer distinct values) and gives the full cartesian
        product (in ``itertools.product`` order), so its length may differ from ``n``; it is
        here to show why random wins: a grid tries only ``k`` distinct values of the one
        parameter that matters, random ``n``.

    Returns
    -------
    Plan of ``{name: value}`` dicts with plain Python values (JSON-serializable).
    """
    if n < 1:
        raise SpaceError(f"number of trials must be >= 1, got {n}")
    names = [s.name for s in spaces]
    if len(set(names)) != len(names):
        raise SpaceError(f"duplicate parameter names in {names}")
    if method == "random":
        columns = [s.sample(_rng_for(seed, s.name), n) for s in spaces]
        return Plan(n, lambda i: {name: col[i] for name, col in zip(names, columns)})
    if method == "grid":
        d = sum(s.kind != "fixed" for s in spaces)
        k = max(1, round(n ** (1 / d))) if d else 1
        axes = [s.grid(k) for s in spaces]

        def row(i: int) -> dict:
            values = []
            for axis in reversed(axes):  # the last axis varies fastest, as in product()
                i, j = divmod(i, len(axis))
                values.append(axis[j])
            return dict(zip(names, reversed(values)))

        return Plan(math.prod(len(a) for a in axes), row)
    raise SpaceError(
        f"unknown sampling method {method!r}; use one of {', '.join(SAMPLING_METHODS)}"
    )


def sample_configs(
    spaces: Sequence[Space], n: int, *, seed: int, method: str = "random"
) -> list[dict]:
    """Every configuration of :func:`plan_configs` as a list (for a small round)."""
    return list(plan_configs(spaces, n, seed=seed, method=method))
