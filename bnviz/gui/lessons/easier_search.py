"""Lesson view: BN makes the search easier. Runs a paired round (every sampled learning rate and
momentum trained with and without BN, same values, same seed) in worker processes and shows the
two sides on the same log axes and colour scale, with the share of trials that reach a target.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
)

from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.plot_pool import add_plot
from bnviz.gui.search.axes import SpaceAxis, format_value
from bnviz.gui.search.runner import SweepRunner, connect_queued
from bnviz.search.paired import (
    DEFAULT_BETA,
    DEFAULT_EPOCHS,
    DEFAULT_LR,
    DEFAULT_POINTS,
    Share,
    easier_search_evidence,
    paired_shares,
    reached,
)
from bnviz.search.spaces import Space, SpaceError, parse_space
from bnviz.search.study import Study, StudyError, TrialRecord, default_study_dir
from bnviz.search.sweep import Sweep, SweepError
from bnviz.train.config import ConfigError

WORKERS = 2
CMAP = pg.colormap.get("viridis")


class EasierSearchView(LessonView):
    """A paired round's two scatters (with BN, without), lr against 1 - beta."""

    title = "BN makes the search easier"
    # every point is trained with and without BN; the search samples alpha and beta itself
    setting_ignores = ("batchnorm", "compare", "compare_setting", "compare_value", "lr", "momentum")
    explanation = (
        "The course: with batch norm \u201ca lot of suitable options\u201d for the "
        "hyperparameters work. <b>Run</b> samples learning rates &alpha; and momenta &beta; at "
        "random on log scales and trains every point twice, with BN and without (same values, "
        "same seed, your current network, in worker processes), then counts the trials that "
        "reach the target on each side. More (and a wider region of) good trials with BN "
        "supports the claim; equal shares would refute it on this setting."
    )
    formula = (
        "&alpha; = 10<sup>r</sup>, r ~ U[log<sub>10</sub> a, log<sub>10</sub> b]; &nbsp; "
        "&beta; = 1 &minus; 10<sup>r</sup>; &nbsp; share = #(trials reaching the target) / "
        "#(trials), with BN and without"
    )

    def __init__(self, study_path: str | Path | None = None) -> None:
        super().__init__()
        self.study_path = Path(study_path or default_study_dir() / "bn-pairs.sqlite")
        self.trials: list[TrialRecord] = []
        self._study: Study | None = None
        self._spaces_now: list | None = None  # the round's lr and beta spaces: the axes
        self._total = 0
        self.runner = SweepRunner(self)
        connect_queued(self.runner.trial_finished, self._trial_finished)
        connect_queued(self.runner.sweep_finished, self._sweep_finished)
        connect_queued(self.runner.sweep_failed, self._sweep_failed)
        self.points = QSpinBox()
        self.points.setRange(1, 500)
        self.points.setValue(DEFAULT_POINTS)  # the defaults of `bnviz lesson` too
        self.points.setToolTip("Sampled points; each is trained twice (2 x this many trials)")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 300)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.lr_range = QLineEdit(DEFAULT_LR)
        self.lr_range.setToolTip("The learning rate's range: MIN:MAX:log (alpha = 10^r)")
        self.beta_range = QLineEdit(DEFAULT_BETA)
        self.beta_range.setToolTip("Momentum's range: MIN:MAX:1m (beta = 1 - 10^r)")
        self.target_metric = QComboBox()
        self.target_metric.addItems(["val acc >=", "val loss <="])
        self.threshold = QDoubleSpinBox()
        self.threshold.setDecimals(3)
        self.threshold.setRange(0.0, 100.0)
        self.threshold.setValue(0.9)
        self.add_experiment_row(
            ["points", self.points, "epochs", self.epochs, "lr", self.lr_range, "beta",
             self.beta_range, "target", self.target_metric, self.threshold],
            self.run_round, self.runner.cancel,
        )  # fmt: skip
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.plots: dict[bool, pg.PlotItem] = {}
        self.dots: dict[bool, pg.ScatterPlotItem] = {}
        self.rings: dict[bool, pg.ScatterPlotItem] = {}
        for bn in (True, False):
            axes = {"bottom": SpaceAxis("bottom"), "left": SpaceAxis("left")}
            p = add_plot(self.view, title="with BN" if bn else "without BN", axisItems=axes)
            p.showGrid(x=True, y=True, alpha=0.2)
            self.dots[bn] = pg.ScatterPlotItem(size=9, pen=pg.mkPen(None))
            ring = pg.mkPen(style.BN_COLOR if bn else style.PLAIN_COLOR, width=2)
            self.rings[bn] = pg.ScatterPlotItem(size=15, brush=pg.mkBrush(None), pen=ring)
            p.addItem(self.dots[bn])
            p.addItem(self.rings[bn])
            self.plots[bn] = p
        self.plots[False].setXLink(self.plots[True])
        self.plots[False].setYLink(self.plots[True])
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=CMAP, interactive=False,
                                        label="val acc")  # fmt: skip
        self.view.addItem(self.colorbar)
        self.body.addWidget(self.view, 1)
        self.target_metric.currentIndexChanged.connect(self._target_changed)
        self.threshold.valueChanged.connect(self._draw)
        self.add_evidence_panel(easier_search_evidence, self._evidence_options)

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.runner.running

    def _spaces(self) -> list[Space]:
        return [parse_space("lr", self.lr_range.text().strip()),
                parse_space("beta", self.beta_range.text().strip())]  # fmt: skip

    def run_round(self) -> bool:
        """Start a paired round on the window's settings; False (and a message) if refused."""
        if self.running or self.config_provider is None:
            return False
        try:
            spaces = self._spaces()
            base = replace(self.config_provider(), compare=False)
            note = ""
            if base.optimizer == "sgd":  # plain SGD has no momentum to search
                base, note = replace(base, optimizer="momentum"), " (momentum: SGD has no beta)"
            if self._study is None:
                self._study = Study(self.study_path)
            seed = base.seed + len(self._study.rounds())
            sweep = Sweep(self._study, base, spaces, n=self.points.value(), seed=seed,
                          epochs=self.epochs.value(), pair_bn=True)  # fmt: skip
            sweep.specs()  # every config checked before a worker starts
        except (SpaceError, SweepError, ConfigError, StudyError, OSError) as e:
            self._say(str(e), error=True)
            return False
        if self.pause_training is not None:
            self.pause_training("the paired search round runs")
        self.trials, self._total = [], 2 * self.points.value()
        self.runner.start(sweep, WORKERS, None)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._axes(spaces)
        self._draw()
        self._say(
            f"training {self._total} trials: {self.points.value()} points with and without BN, "
            f"{self.epochs.value()} epochs each, on {base.dataset}{note}"
        )
        return True

    def _evidence_options(self) -> dict:
        """The round's fields: points, epochs, the two ranges and the target."""
        return {"n": self.points.value(), "epochs": self.epochs.value(),
                "lr": self.lr_range.text().strip(), "beta": self.beta_range.text().strip(),
                "target": self._target()}  # fmt: skip

    def _trial_finished(self, generation: int, record: TrialRecord) -> None:
        if generation == self.runner.generation:
            self.trials.append(record)
            self._draw()

    def _sweep_finished(self, generation: int, stored: int, cancelled: bool) -> None:
        if generation != self.runner.generation:
            return
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._draw()
        if cancelled:
            self._say(f"cancelled: {len(self.trials)} of {self._total} trials kept")

    def _sweep_failed(self, generation: int, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._say(message, error=True)

    def shutdown(self) -> None:
        super().shutdown()
        self.runner.shutdown()
        if self._study is not None:
            self._study.close()
            self._study = None

    # -- drawing -------------------------------------------------------------------------------
    def _axes(self, spaces: list[Space]) -> None:
        for p in self.plots.values():
            for name, space in zip(("bottom", "left"), spaces):
                p.getAxis(name).set_space(space)
            lo_x, hi_x = spaces[0].axis_range
            lo_y, hi_y = spaces[1].axis_range
            p.setRange(xRange=(lo_x, hi_x), yRange=(lo_y, hi_y), padding=0.05)
        self._spaces_now = spaces

    def _target(self) -> tuple[str, float]:
        return ("val_acc" if self.target_metric.currentIndex() == 0 else "val_loss",
                self.threshold.value())  # fmt: skip

    def _target_changed(self) -> None:
        if self.target_metric.currentIndex() == 0:
            self.threshold.setValue(min(self.threshold.value(), 1.0))
        self.colorbar.setLabel("left", "val acc" if self.target_metric.currentIndex() == 0 else
                               "val loss")  # fmt: skip
        self._draw()

    def _draw(self) -> None:
        metric, threshold = self._target()
        spaces = self._spaces_now
        values = [getattr(t, metric) for t in self.trials if getattr(t, metric) is not None]
        finite = [v for v in values if np.isfinite(v)]
        lo, hi = (0.0, 1.0) if metric == "val_acc" else (min(finite, default=0.0),
                                                         max(finite, default=1.0))  # fmt: skip
        self.colorbar.setLevels((lo, hi if hi > lo else lo + 1))
        for bn in (True, False):
            side = [t for t in self.trials if bool(t.params.get("bn")) == bn]
            if spaces is None or not side:
                self.dots[bn].setData([], [])
                self.rings[bn].setData([], [])
                continue
            x = spaces[0].to_axis([t.params["lr"] for t in side])
            y = spaces[1].to_axis([t.params["beta"] for t in side])
            v = np.array([np.nan if getattr(t, metric) is None else getattr(t, metric)
                          for t in side], dtype=float)  # fmt: skip
            norm = np.clip((v - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
            brushes = [pg.mkBrush(200, 30, 30) if not np.isfinite(n) else
                       pg.mkBrush(CMAP.map(float(n), mode="qcolor")) for n in norm]  # fmt: skip
            self.dots[bn].setData(x=x, y=y, brush=brushes)
            good = np.array([reached(t, metric, threshold) for t in side])
            self.rings[bn].setData(x=x[good], y=y[good])
        shares = paired_shares(self.trials, metric, threshold)
        if self.trials:
            self._say(self._summary(shares, metric, threshold))

    def _summary(self, shares: dict[bool, Share], metric: str, threshold: float) -> str:
        target = f"{'val acc &ge;' if metric == 'val_acc' else 'val loss &le;'} {threshold:g}"
        parts = []
        for bn in (True, False):
            s = shares[bn]
            where = ", ".join(f"{p} {format_value(a)}..{format_value(b)}"
                              for p, (a, b) in s.extent.items())  # fmt: skip
            parts.append(f"<b>{'with BN' if bn else 'without BN'}</b>: {s.good} of {s.n} "
                         f"reach {target}" + (f" ({where})" if where else ""))  # fmt: skip
        done = len(self.trials)
        tail = "" if done >= self._total else f" &nbsp; [{done} of {self._total} trained]"
        return "; ".join(parts) + tail + " &nbsp; ringed: reached the target"

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(f"<span style='color:#b00000'>{text}</span>" if error else text)
