"""The BN paper's x5 / x30 experiment at small scale, a widget of the range test view: BN and
plain trained at alpha, 5 alpha and 30 alpha (:mod:`bnviz.lessons.lr_multiples`) over seeds in
worker processes; every seed's validation accuracy a point, the mean with its t interval, and
which diverged."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor, Future

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from bnviz.gui import style
from bnviz.gui.plot_pool import add_plot
from bnviz.lessons.lr_multiples import (
    DEFAULT_STEPS,
    INTERVAL,
    MULTIPLES,
    MultipleSummary,
    multiples_experiment,
    summarize,
)
from bnviz.train.config import TrainConfig

OFFSET = 0.03  # log10 shift between BN's and plain's points at one multiple


def log_x_plot(title: str, xlabel: str, ylabel: str) -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem]:
    """A white plot widget with one plot, log x, a light grid, no SI prefixes on its axes."""
    view = pg.GraphicsLayoutWidget()
    view.setBackground(style.BACKGROUND)
    plot = add_plot(view, title=title)
    plot.setLogMode(x=True, y=False)
    plot.setLabel("bottom", xlabel)
    plot.setLabel("left", ylabel)
    plot.showGrid(x=True, y=True, alpha=0.2)
    for side in ("bottom", "left"):
        plot.getAxis(side).enableAutoSIPrefix(False)
    return view, plot


class MultiplesPanel(QWidget):
    """Run button, seeds and steps; a plot of accuracy against the multiple of alpha; a summary.

    The owner gives it an executor and the window's settings (``run(config, executor)``) and
    calls :meth:`poll` on its timer."""

    def __init__(self, on_run: Callable[[], None], on_cancel: Callable[[], None]) -> None:
        super().__init__()
        self._futures: list[Future] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.seeds = QSpinBox()
        self.seeds.setRange(1, 20)
        self.seeds.setValue(3)
        self.seeds.setToolTip("Seeds: each a new start and mini-batch order, shared by the twins")
        self.steps = QSpinBox()
        self.steps.setRange(10, 100_000)
        self.steps.setSingleStep(100)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setToolTip("Mini-batch steps every training takes")
        self.run_button = QPushButton("Run ×1, ×5, ×30")
        self.run_button.setToolTip("Train BN and plain at alpha, 5 alpha and 30 alpha per seed")
        self.run_button.clicked.connect(on_run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(on_cancel)
        buttons = QHBoxLayout()  # two short rows: the panel shares the width with the curves
        for w in (QLabel("seeds"), self.seeds, QLabel("steps"), self.steps):
            row.addWidget(w)
        for b in (self.run_button, self.cancel_button):
            buttons.addWidget(b)
        for r in (row, buttons):
            r.addStretch(1)
            lay.addLayout(r)
        self.view, self.plot = log_x_plot(
            "val accuracy at k·α",
            "k (learning rate k × α)",
            "val accuracy",
        )
        self.plot.getAxis("bottom").setTicks([[(math.log10(m), f"×{m:g}") for m in MULTIPLES]])
        self.view.setMinimumHeight(150)
        low, high = math.log10(min(MULTIPLES)), math.log10(max(MULTIPLES))
        self.plot.setRange(xRange=(low - 0.15, high + 0.15), yRange=(0, 1.02), padding=0)
        self.items: dict[bool, tuple[pg.ScatterPlotItem, pg.PlotDataItem, pg.ErrorBarItem]] = {}
        for bn in (True, False):
            color = style.run_color(bn)
            dots = pg.ScatterPlotItem(size=7, brush=pg.mkBrush(*color, 110), pen=None)
            mean = self.plot.plot(
                pen=pg.mkPen(color, width=2),
                symbol="s",
                symbolSize=9,
                symbolBrush=color,
                name="with BN" if bn else "without BN",
            )
            bars = pg.ErrorBarItem(pen=pg.mkPen(color, width=2), beam=0.04)
            for item in (dots, bars):
                self.plot.addItem(item)
            self.items[bn] = (dots, mean, bars)
        lay.addWidget(self.view, 1)
        self.summary = QLabel(
            "Press Run: BN and plain from the same start on the same "
            "mini-batches at alpha, 5 alpha and 30 alpha (alpha: the Controls' "
            "learning rate)."
        )
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.summary)
        self.pairs: list = []

    @property
    def running(self) -> bool:
        return bool(self._futures)

    def start(self, config: TrainConfig, executor: Executor) -> None:
        seeds = tuple(config.seed + k for k in range(self.seeds.value()))
        self._futures = multiples_experiment(config, seeds, MULTIPLES, self.steps.value(), executor)
        self.pairs = []
        self._draw()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.summary.setText(
            f"training {len(self._futures)} pairs at alpha = {config.lr:g} "
            f"x {', '.join(f'{m:g}' for m in MULTIPLES)}, seeds "
            f"{seeds[0]}..{seeds[-1]}"
        )

    def poll(self) -> bool:
        """Collect finished trainings; True once none is left running."""
        if not self._futures:
            return True
        done = [f for f in self._futures if f.done()]
        if len(done) < len(self._futures):
            self.summary.setText(f"training: {len(done)} of {len(self._futures)} pairs done")
            return False
        futures, self._futures = self._futures, []
        errors = [f.exception() for f in futures if not f.cancelled() and f.exception()]
        self.pairs = [f.result() for f in futures if not f.cancelled() and not f.exception()]
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._draw()
        if errors:
            self.summary.setText(
                f"<span style='color:#b00000'>{len(errors)} training(s) failed: {errors[0]}</span>"
            )
        return True

    def stop(self, why: str) -> None:
        self._futures = []
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.summary.setText(why)

    def _draw(self) -> None:
        rows = summarize(self.pairs) if self.pairs else []
        for bn, (dots, mean, bars) in self.items.items():
            shift = OFFSET if bn else -OFFSET
            pts = [
                (r.multiple, r.val_acc) for pair in self.pairs for r in pair if r.batchnorm == bn
            ]
            xs = np.log10([p[0] for p in pts]) + shift if pts else np.zeros(0)
            dots.setData(x=xs, y=[p[1] for p in pts])
            stats = [r.bn_acc if bn else r.plain_acc for r in rows]
            mx = np.log10([r.multiple for r in rows]) + shift if rows else np.zeros(0)
            my = np.array([s[0] for s in stats])
            mean.setData(10**mx if rows else [], my)
            finite = [(x, s) for x, s in zip(mx, stats) if math.isfinite(s[1])]
            bars.setData(
                x=np.array([x for x, _ in finite]),
                y=np.array([s[0] for _, s in finite]),
                top=np.array([s[2] - s[0] for _, s in finite]),
                bottom=np.array([s[0] - s[1] for _, s in finite]),
            )
        if rows:
            self.summary.setText(describe(rows))


def _pm(e: tuple[float, float, float], sign: str = "") -> str:
    """``0.975±0.021``: the mean and the half-width of its (symmetric) t interval."""
    m, lo, hi = e
    half = f"±{(hi - lo) / 2:.3f}" if math.isfinite(lo) else ""
    return f"{m:{sign}.3f}{half}"


def describe(rows: list[MultipleSummary]) -> str:
    """A small table (a row per multiple: BN's and plain's accuracy, the paired difference,
    each mean ± the half-width of its 95% t interval), then which diverged and where the
    difference is clear: narrow enough for the panel's third of a 1024-px window."""
    bn, plain = (style.run_color(b) for b in (True, False))
    cells = [
        "<th align='left'>k</th>"
        f"<th style='color:rgb{bn}'>with BN</th><th style='color:rgb{plain}'>without</th>"
        "<th>BN − plain</th>"
    ]
    diverged, clear = [], []
    for r in rows:
        row = (f"×{r.multiple:g}", _pm(r.bn_acc), _pm(r.plain_acc), _pm(r.difference, "+"))
        cells.append("".join(f"<td>{c}&nbsp;</td>" for c in row))
        for name, n in (("with BN", r.bn_diverged), ("without", r.plain_diverged)):
            if n:
                diverged.append(f"×{r.multiple:g} {name} {n}/{r.seeds}")
        m, lo, hi = r.difference
        if lo > 0 or hi < 0:
            clear.append(f"×{r.multiple:g} ({'BN' if lo > 0 else 'plain'} better)")
    seeds = rows[0].seeds if rows else 0
    return (
        "<table cellspacing='0'>" + "".join(f"<tr>{c}</tr>" for c in cells) + "</table>"
        f"diverged: {', '.join(diverged) or 'none'}; BN − plain clear of 0 at: "
        f"{', '.join(clear) or 'none'}<br><i>val accuracy over {seeds} seeds, mean ± 95% "
        f"interval ({INTERVAL}){'; one seed: no interval' if seeds == 1 else ''}</i>"
    )
