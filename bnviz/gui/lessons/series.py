"""Per-network time series that a lesson view accumulates from its probe's results.

A probe answers with the measurement *now*; the view keeps the history. A new run (the step
count going back) or a change of what is measured (:meth:`ProbeSeries.clear`) starts afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class ProbeSeries:
    """Rows of numbers per run name, one row per step, in step order.

    ``columns`` name the numbers of a row; :meth:`column` gives (steps, values) of one."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self._rows: dict[str, list[tuple[int, tuple[float, ...]]]] = {}

    def clear(self) -> None:
        self._rows.clear()

    @property
    def runs(self) -> list[str]:
        return list(self._rows)

    def add(self, run: str, step: int, values: Sequence[float]) -> bool:
        """Add one row; False (nothing added) when ``step`` is already there. A step below
        the last one means a new run: that run's history starts again."""
        if len(values) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} values, got {len(values)}")
        rows = self._rows.setdefault(run, [])
        if rows and step == rows[-1][0]:
            return False
        if rows and step < rows[-1][0]:
            rows.clear()
        rows.append((int(step), tuple(float(v) for v in values)))
        return True

    def keep_only(self, runs: Sequence[str]) -> None:
        """Forget runs no longer trained (compare mode switched off, another comparison)."""
        for name in [r for r in self._rows if r not in runs]:
            del self._rows[name]

    def column(self, run: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of column ``name`` for ``run`` (empty arrays when unknown)."""
        rows = self._rows.get(run, [])
        i = self.columns.index(name)
        steps = np.array([s for s, _ in rows], dtype=np.float64)
        return steps, np.array([v[i] for _, v in rows], dtype=np.float64)

    def last(self, run: str) -> dict[str, float] | None:
        rows = self._rows.get(run)
        return dict(zip(self.columns, rows[-1][1])) if rows else None
