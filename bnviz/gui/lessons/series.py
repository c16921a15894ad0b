"""Per-network time series that a lesson view accumulates from its probe's results, and the
base of the views that plot them.

A probe answers with the measurement *now*; the view keeps the history. A new run (the step
count going back) or a change of what is measured (:meth:`ProbeSeries.clear`) starts afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.panel import Frame
from bnviz.gui.plot_pool import add_plot
from bnviz.gui.search.axes import SpaceAxis
from bnviz.search.spaces import Space


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


def log_axis(orientation: str = "left") -> SpaceAxis:
    """A y axis for values spanning decades: labels at 1, 10, 100 (2x and 5x between when
    there is room) instead of pyqtgraph's label at every minor tick."""
    axis = SpaceAxis(orientation)
    axis.set_space(Space("value", "log", 1e-300, 1e300))
    axis.setLabel("")
    return axis


class SeriesLessonView(LessonView):
    """A lesson view that plots, per network, a :class:`ProbeSeries` of one probe's results
    over training: the probe's latest answer is turned into rows (:meth:`rows`), the plots are
    fed from the series (:meth:`draw_run`), and a status line says the latest numbers.

    Subclasses set :attr:`columns` and :attr:`every` (the probe's rate in steps), build
    :attr:`plots` (name -> PlotItem) in their ``__init__`` and implement :meth:`rows`,
    :meth:`make_items`, :meth:`draw_run` and :meth:`status_line`."""

    columns: tuple[str, ...] = ()
    every = 1

    def __init__(self) -> None:
        super().__init__()
        self.series = ProbeSeries(self.columns)
        self._items: dict[str, dict[str, pg.GraphicsObject]] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)

    def add_plot(self, view: pg.GraphicsLayoutWidget, key: str, title: str, log: bool) -> None:
        p = add_plot(view, title=title, axisItems={"left": log_axis()} if log else None)
        p.setLabel("bottom", "step")
        p.showGrid(x=True, y=True, alpha=0.2)
        p.setLogMode(y=log)
        p.addLegend(offset=(-5, 5))
        self.plots[key] = p

    def restart(self, message: str = "") -> None:
        """Forget the history (what is measured changed, or a new run began)."""
        self.series.clear()
        self.forget_result()
        self._redraw({})
        if message:
            self.status.setText(message)

    def set_dataset(self, data: Dataset) -> None:
        self.restart()

    def render(self, frame: Frame) -> None:  # type: ignore[override]  # see Panel.render
        result = self.fresh_result(frame)
        if result is None:
            return
        flags = {s.run: s.batchnorm for s in frame.snapshots}
        self.series.keep_only(list(flags))
        for run, step, values in self.rows(result):
            self.series.add(run, step, values)
        self._redraw(flags)

    def _redraw(self, flags: dict[str, bool]) -> None:
        for run in [r for r in self._items if r not in flags]:
            for item in self._items.pop(run).values():
                for plot in self.plots.values():
                    plot.removeItem(item)  # a no-op for the plots that do not hold it
        lines = []
        for i, (run, bn) in enumerate(flags.items()):
            if run not in self._items:
                self._items[run] = self.make_items(style.run_color(bn, run, i),
                                                   style.run_label(run, bn))  # fmt: skip
            self.draw_run(run, self._items[run])
            last = self.series.last(run)
            if last is not None:
                lines.append(f"<b>{style.run_label(run, bn)}</b>: {self.status_line(last)}")
        if flags and not lines:
            lines.append(f"waiting for the first measurement (every {self.every} steps)")
        if lines:
            self.status.setText(self.status_prefix() + "; ".join(lines))

    def positive(self, run: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of ``column`` where the value is > 0 (for log axes)."""
        steps, v = self.series.column(run, column)
        ok = v > 0
        return steps[ok], v[ok]

    # -- for subclasses --------------------------------------------------------------------------
    def rows(self, result: object) -> Iterable[tuple[str, int, Sequence[float]]]:
        """(run, step, values in :attr:`columns` order) for each network in ``result``."""
        raise NotImplementedError

    def make_items(self, color: tuple[int, int, int], label: str) -> dict[str, pg.GraphicsObject]:
        """A network's plot items, added to :attr:`plots`."""
        raise NotImplementedError

    def draw_run(self, run: str, items: dict[str, pg.GraphicsObject]) -> None:
        """Feed a network's items from :attr:`series`."""
        raise NotImplementedError

    def status_line(self, last: dict[str, float]) -> str:
        """The latest numbers of one network, for the status line."""
        raise NotImplementedError

    def status_prefix(self) -> str:
        return "Latest: "
