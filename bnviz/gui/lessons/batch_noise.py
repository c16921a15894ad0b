"""Lesson view: noise that regularizes. Runs :func:`bnviz.lessons.batch_noise.noise_experiment`
on the window's current settings in worker processes (as the sweeps run) and plots, per
mini-batch size, BN vs plain: the train/validation gap, the accuracies, and the spread of
BN's batch statistics."""

from __future__ import annotations

import math
from concurrent.futures import Future

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLineEdit, QSpinBox

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.lessons.series import log_axis
from bnviz.gui.plot_pool import add_plot
from bnviz.lessons.batch_noise import (
    DEFAULT_BATCH_SIZES,
    DEFAULT_EPOCHS,
    NoiseResult,
    check_batch_sizes,
    noise_experiment,
)
from bnviz.lessons.batch_noise_evidence import batch_noise_evidence
from bnviz.search.executors import ExecutorHandle, make_executor
from bnviz.train.config import ConfigError

POLL_MS = 150
WORKERS = 2


def parse_sizes(text: str) -> tuple[int, ...]:
    """ "8, 32, 128" -> (8, 32, 128); a clear error for anything else."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"mini-batch sizes must be whole numbers separated by commas, got {text!r}"
        ) from None


class BatchNoiseView(LessonView):
    """Run the mini-batch noise experiment and plot its results."""

    title = "Mini-batch noise"
    # every size is trained with and without BN
    setting_ignores = ("batchnorm", "compare", "compare_setting", "compare_value", "batch_size")
    explanation = (
        "Each mini-batch normalizes with its own mean and variance, noisy estimates of the "
        "whole set's: a little noise added to every hidden unit, the course's \u201cslight "
        "regularization effect\u201d, weaker for larger batches. <b>Run</b> trains your "
        "current network with each mini-batch size, with BN and without (the control), in "
        "worker processes, for the same number of epochs, and shows the gap between "
        "validation and training loss (a) and accuracy (b), and how much BN's &mu; and "
        "&sigma;<sup>2</sup> wobble across mini-batches (c). The spread halves when the batch "
        "grows 4x; whether the gap follows depends on the setting and the epochs: look."
    )
    formula = (
        "&mu;<sub>b</sub> = (1/b) &Sigma;<sub>i&isin;batch</sub> z<sup>(i)</sup>, &nbsp; "
        "sd(&mu;<sub>b</sub>) &asymp; &sigma; / &radic;b &nbsp; (c: sd over batches / "
        "&sigma;; the dotted line is 1/&radic;b)"
    )

    def __init__(self) -> None:
        super().__init__()
        self.results: list[NoiseResult] = []
        self._futures: list[Future] = []
        self._executor: ExecutorHandle | None = None
        self.n_train: int | None = None
        self.sizes = QLineEdit(", ".join(str(b) for b in DEFAULT_BATCH_SIZES))
        self.sizes.setToolTip("Mini-batch sizes to train with, separated by commas (each >= 2)")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.epochs.setToolTip("Epochs per training: every size sees the data as often")
        self.add_experiment_row(["mini-batch sizes", self.sizes, "epochs", self.epochs],
                                self.run_experiment, self.cancel)  # fmt: skip
        self.run_button.setToolTip("Train every size with and without BN (pauses live training)")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        self.plots = {
            "gap": self._plot("(a) validation - training loss", "gap", log_y=False),
            "acc": self._plot("(b) accuracy: training (—), validation (- -)", "acc", False),
            "spread": self._plot(
                "(c) spread across mini-batches: mu (—), sigma^2 (- -)", "sd / sigma", log_y=True
            ),  # fmt: skip
        }
        self.body.addWidget(self.view, 1)
        self._items = self._make_items()
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.add_evidence_panel(batch_noise_evidence, self._evidence_options)

    def _plot(self, title: str, ylabel: str, log_y: bool) -> pg.PlotItem:
        p = add_plot(self.view, title=title, axisItems={"left": log_axis()} if log_y else None)
        p.setLabel("bottom", "mini-batch size")
        p.setLabel("left", ylabel)
        p.setLogMode(x=True, y=log_y)
        p.showGrid(x=True, y=True, alpha=0.2)
        p.getAxis("left").enableAutoSIPrefix(False)
        p.addLegend(offset=(-5, 5))
        return p

    def _set_ticks(self, sizes: list[int]) -> None:
        """Ticks at the sizes trained (the log axis's own minor ticks run into each other)."""
        ticks = [[(math.log10(b), str(b)) for b in sizes]]
        for p in self.plots.values():
            p.getAxis("bottom").setTicks(ticks if sizes else None)

    def _make_items(self) -> dict[str, pg.PlotDataItem]:
        items = {}
        for bn in (True, False):
            color = style.run_color(bn)
            label = "with BN" if bn else "without BN"
            pen = pg.mkPen(color, width=2)
            dashed = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
            sym = {"symbol": "o", "symbolSize": 6, "symbolBrush": color}
            key = "bn" if bn else "plain"
            items[f"gap_{key}"] = self.plots["gap"].plot(pen=pen, name=label, **sym)
            items[f"train_{key}"] = self.plots["acc"].plot(pen=pen, name=label, **sym)
            items[f"val_{key}"] = self.plots["acc"].plot(pen=dashed, **sym)
            if bn:  # without BN nothing uses the batch statistics
                items["mu"] = self.plots["spread"].plot(pen=pen, name="with BN", **sym)
                items["var"] = self.plots["spread"].plot(pen=dashed, **sym)
        grey = pg.mkPen(style.EVENT_COLOR, width=1, style=Qt.PenStyle.DotLine)
        items["law"] = self.plots["spread"].plot(pen=grey, name="1/sqrt(b)")
        return items

    # -- running -------------------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        """A new data set: sizes the user has not edited follow it (none above its size)."""
        self.n_train = len(data.X_train)
        if self.sizes.text() == getattr(self, "_auto_sizes", self.sizes.text()):
            fits = [b for b in DEFAULT_BATCH_SIZES if b <= self.n_train] or [2]
            self._auto_sizes = ", ".join(str(b) for b in fits)
            self.sizes.setText(self._auto_sizes)

    @property
    def running(self) -> bool:
        return bool(self._futures)

    def run_experiment(self) -> bool:
        """Start the experiment on the window's settings; False (and a message) if refused."""
        if self.running or self.config_provider is None:
            return False
        try:
            sizes = check_batch_sizes(parse_sizes(self.sizes.text()), self.n_train)
            config = self.config_provider()
            if self._executor is None:
                self._executor = make_executor(WORKERS, warm=False)
            self._futures = noise_experiment(
                config, sizes, self.epochs.value(), self._executor, n_train=self.n_train
            )
        except ConfigError as e:
            self._say(str(e), error=True)
            return False
        if self.pause_training is not None:
            self.pause_training("the mini-batch noise experiment runs")
        self.results = []
        self._draw()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._say(f"training 0 of {len(self._futures)}: {len(sizes)} sizes, with and without "
                  f"BN, {self.epochs.value()} epochs each, on {config.dataset}")  # fmt: skip
        self.timer.start()
        return True

    def _evidence_options(self) -> dict:
        """The sizes and epochs of the fields (ConfigError for bad sizes)."""
        sizes = check_batch_sizes(parse_sizes(self.sizes.text()), self.n_train)
        return {"sizes": sizes, "epochs": self.epochs.value()}

    def _poll(self) -> None:
        done = [f for f in self._futures if f.done()]
        if len(done) < len(self._futures):
            self._say(f"training: {len(done)} of {len(self._futures)} done")
            return
        self.timer.stop()
        futures, self._futures = self._futures, []
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        errors = [f.exception() for f in futures if not f.cancelled() and f.exception()]
        self.results = [f.result() for f in futures if not f.cancelled() and not f.exception()]
        self._draw()
        if errors:
            self._say(f"{len(errors)} training(s) failed: {errors[0]}", error=True)
        else:
            self._say(self._summary())

    def cancel(self) -> None:
        """Drop the experiment: queued trainings are cancelled, running ones are stopped."""
        if not self.running:
            return
        self.timer.stop()
        self._futures = []
        if self._executor is not None:
            self._executor.close(wait=False)
            self._executor = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._say("cancelled")

    def shutdown(self) -> None:
        super().shutdown()
        self.timer.stop()
        self._futures = []
        if self._executor is not None:
            self._executor.close(wait=False)
            self._executor = None

    # -- drawing -------------------------------------------------------------------------------
    def _draw(self) -> None:
        self._set_ticks(sorted({r.batch_size for r in self.results}))
        for bn, key in ((True, "bn"), (False, "plain")):
            rs = [r for r in self.results if r.batchnorm == bn and not r.diverged]
            b = np.array([r.batch_size for r in rs], dtype=float)
            self._items[f"gap_{key}"].setData(b, [r.gap for r in rs])
            self._items[f"train_{key}"].setData(b, [r.train_acc for r in rs])
            self._items[f"val_{key}"].setData(b, [r.val_acc for r in rs])
            if bn:
                ok = [r for r in rs if r.mu_spread > 0 and r.var_spread > 0]
                bb = np.array([r.batch_size for r in ok], dtype=float)
                self._items["mu"].setData(bb, [r.mu_spread for r in ok])
                self._items["var"].setData(bb, [r.var_spread for r in ok])
                self._items["law"].setData(bb, 1 / np.sqrt(bb) if bb.size else bb)

    def _summary(self) -> str:
        parts = []
        for bn in (True, False):
            rs = [r for r in self.results if r.batchnorm == bn]
            cells = ", ".join(
                f"b={r.batch_size}: " + ("diverged" if r.diverged else
                                         f"gap {r.gap:+.3f}, val acc {r.val_acc:.2f}")
                for r in rs
            )  # fmt: skip
            parts.append(f"<b>{'with BN' if bn else 'without BN'}</b>: {cells}")
        spreads = [r for r in self.results if r.batchnorm and math.isfinite(r.mu_spread)]
        if len(spreads) >= 2:
            a, z = spreads[0], spreads[-1]
            parts.append(
                f"BN's sd(&mu;<sub>b</sub>)/&sigma; falls from {a.mu_spread:.3f} "
                f"(b={a.batch_size}) to {z.mu_spread:.3f} (b={z.batch_size})"
            )
        return "<br>".join(parts)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(f"<span style='color:#b00000'>{text}</span>" if error else text)
