"""The plots of the "BN at test time" lesson: running estimates converging next to each
mini-batch's statistics, and accuracy and loss bars of the three ways to evaluate.

Both make their items when the set of networks changes (a reset, compare mode on or off) and
feed them with ``setData``/``setOpts`` otherwise.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel

from bnviz.gui import style
from bnviz.gui.plot_pool import add_plot
from bnviz.lessons.bn_at_test_time import MODES, TestTimeView
from bnviz.train.bn_record import FIRST_STEPS, LAST_STEPS

DOT_ALPHA = 110
MODE_NAMES = {"running": "running", "batch": "batch", "single": "single"}


def unit_color(u: int) -> tuple[int, int, int]:
    return style.CLASS_COLORS[u % len(style.CLASS_COLORS)]


def with_gaps(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` with a NaN where the recorded steps jump (between the first steps kept and
    the last ones), so a line does not bridge steps that were not recorded."""
    steps = np.asarray(steps, dtype=np.float64)
    jumps = np.flatnonzero(np.diff(steps) > 1) + 1
    return np.insert(steps, jumps, np.nan), np.insert(values.astype(np.float64), jumps, np.nan)


class _UnitCurves:
    """One unit in one plot: the running estimate as a line, the batch values as dots."""

    def __init__(self, plot: pg.PlotItem, u: int) -> None:
        c = unit_color(u)
        self.dots = pg.PlotDataItem(
            pen=None, symbol="o", symbolSize=4, symbolPen=None,
            symbolBrush=pg.mkBrush(*c, DOT_ALPHA),
        )  # fmt: skip
        self.line = pg.PlotDataItem(pen=pg.mkPen(c, width=2), connect="finite", name=f"unit {u}")
        plot.addItem(self.dots)
        plot.addItem(self.line)

    def set(self, steps: np.ndarray, batch: np.ndarray, running: np.ndarray) -> None:
        self.dots.setData(steps.astype(np.float64), batch.astype(np.float64))
        self.line.setData(*with_gaps(steps, running))


class EstimatePlots:
    """Per network with BN a column: the running mean (top) and running variance (bottom) of
    the first units of the chosen layer against steps; ``note`` (a word-wrapped QLabel above)
    says what is drawn and names the networks without BN."""

    def __init__(self, widget: pg.GraphicsLayoutWidget, note: QLabel) -> None:
        self.widget = widget
        self.note = note
        self.key: tuple = ()
        self.titles: dict[str, pg.LabelItem] = {}
        self.curves: dict[str, tuple[list[_UnitCurves], list[_UnitCurves]]] = {}
        self.plots: list[pg.PlotItem] = []

    def _build(self, views: tuple[TestTimeView, ...], units: int) -> None:
        self.widget.clear()
        self.titles, self.curves, self.plots = {}, {}, []
        for c, v in enumerate(v for v in views if v.batchnorm):
            self.titles[v.run] = title = pg.LabelItem(justify="left")
            self.widget.addItem(title, row=1, col=c)
            pm = add_plot(self.widget, row=2, col=c)
            pv = add_plot(self.widget, row=3, col=c)
            pm.addLegend(offset=(-5, 5), labelTextSize="8pt", colCount=2)
            for p, name in ((pm, "running mean μ"), (pv, "running variance σ²")):
                p.setLabel("bottom", "step")
                p.setLabel("left", name)
                p.showGrid(x=True, y=True, alpha=0.2)
                self.plots.append(p)
            self.curves[v.run] = (
                [_UnitCurves(pm, u) for u in range(units)],
                [_UnitCurves(pv, u) for u in range(units)],
            )

    def show(self, views: tuple[TestTimeView, ...], label: dict[str, str]) -> None:
        units = max((v.trace.running_mean.shape[1] for v in views if v.trace), default=0)
        key = tuple((v.run, v.batchnorm) for v in views) + (units,)
        if key != self.key:
            self.key = key
            self._build(views, units)
        plain = [label[v.run] for v in views if not v.batchnorm]
        layer = views[0].layer if views else 1
        note = (
            f"Layer {layer}, units 0-{units - 1}: lines the running estimates, dots each "
            f"mini-batch's μ and σ²·m/(m−1) (what enters the average; the first {FIRST_STEPS} "
            f"and the last {LAST_STEPS} steps)."
        )
        if plain:
            note += f"<br><b>{' and '.join(plain)}</b>: no batch norm, no running estimates."
        self.note.setText(note)
        for v in views:
            if not v.batchnorm:
                continue
            self.titles[v.run].setText(f"<b>{label[v.run]}</b>: k = {v.bn_momentum:g}")
            t = v.trace
            if t is None:
                continue
            means, vars_ = self.curves[v.run]
            m = t.batch_size[:, None].astype(np.float64)
            unbiased = t.batch_var * np.where(m > 1, m / np.maximum(m - 1, 1), 1.0)
            for u, (cm, cv) in enumerate(zip(means, vars_)):
                cm.set(t.steps, t.batch_mean[:, u], t.running_mean[:, u])
                cv.set(t.steps, unbiased[:, u], t.running_var[:, u])


class ModeBars:
    """Accuracy and loss of the three evaluations, one bar per network and mode."""

    def __init__(self, widget: pg.GraphicsLayoutWidget) -> None:
        self.widget = widget
        self.acc = add_plot(widget, row=0, col=0, title="validation accuracy")
        self.loss = add_plot(widget, row=0, col=1, title="validation loss")
        ticks = [[(i, MODE_NAMES[m]) for i, m in enumerate(MODES)]]
        for p in (self.acc, self.loss):
            p.getAxis("bottom").setTicks(ticks)
            p.setXRange(-0.6, len(MODES) - 0.4, padding=0)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
        self.acc.setYRange(0, 1, padding=0.02)
        self.key: tuple = ()
        self.bars: list[tuple[pg.BarGraphItem, pg.BarGraphItem]] = []

    def show(self, views: tuple[TestTimeView, ...], colors: dict[str, tuple]) -> None:
        key = tuple((v.run, colors[v.run]) for v in views)
        if key != self.key:
            self.key = key
            for a, b in self.bars:
                self.acc.removeItem(a)
                self.loss.removeItem(b)
            self.bars = []
            width = 0.8 / max(len(views), 1)
            for i, v in enumerate(views):
                x = np.arange(len(MODES)) - 0.4 + width * (i + 0.5)
                brush = pg.mkBrush(*colors[v.run])
                a = pg.BarGraphItem(x=x, height=np.zeros(len(x)), width=width, brush=brush)
                b = pg.BarGraphItem(x=x, height=np.zeros(len(x)), width=width, brush=brush)
                self.acc.addItem(a)
                self.loss.addItem(b)
                self.bars.append((a, b))
        top = 0.0
        for (a, b), v in zip(self.bars, views):
            a.setOpts(height=np.array([v.modes[m].acc for m in MODES]))
            losses = np.array([v.modes[m].loss for m in MODES])
            b.setOpts(height=np.where(np.isfinite(losses), losses, 0.0))
            top = max(top, float(np.nanmax(np.where(np.isfinite(losses), losses, 0.0))))
        self.loss.setYRange(0, max(top, 1e-3) * 1.1, padding=0)

    def heights(self) -> list[tuple[list[float], list[float]]]:
        """What the bars show, per network: (accuracies, losses) in :data:`MODES` order."""
        return [
            (list(map(float, a.opts["height"])), list(map(float, b.opts["height"])))
            for a, b in self.bars
        ]
