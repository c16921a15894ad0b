"""A lesson's claim measured over seeds, in its view: Seeds K, Run / Cancel, and the evidence.

One seed is an anecdote. :class:`EvidencePanel` runs the lesson's experiment (a function of
LESSON_API.md: ``fn(config, seeds, *, executor, cancel, progress, **options) -> Evidence``) on
the window's current settings for K seeds, in worker processes
(:func:`bnviz.search.executors.make_executor`), and draws what comes back: every seed's BN and
plain result as points joined per seed, the means with their 95% intervals, the paired
difference BN - plain with its interval, and the verdict beside the course's claim, naming the
kind of interval. Opened on the lesson's setting it computes what ``bnviz lesson NAME --seeds K``
prints.

The experiment runs in a plain thread (its trainings in worker processes, so the thread mostly
waits); results cross to the GUI thread as queued signals carrying the run's generation, so a
cancelled run's late answer is dropped. Cancel closes the executor without waiting (its workers
are killed): it returns at once, and so does closing the window.
"""

from __future__ import annotations

import html
import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bnviz.gui import style
from bnviz.gui.plot_pool import plot_widget
from bnviz.gui.search.runner import connect_queued
from bnviz.lessons.catalog import find_lesson_info
from bnviz.search.executors import ExecutorHandle, make_executor
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.evidence import INCONCLUSIVE, REFUTES, SUPPORTS, Estimate, Evidence

DEFAULT_SEEDS = 3
MAX_SEEDS = 50
WORKERS = 2  # the machine's cores are shared with the window and its live training
JOIN_TIMEOUT_S = 3.0  # closing waits at most this long for the experiment's thread
PLOT_HEIGHT = 140  # the details' height: compact enough for a 1024 x 640 window
#: Evidence unfolds by itself in a window at least this high; in a lower one the row's verdict
#: line says it and the lesson's own plots keep their height (the arrow unfolds it).
UNFOLD_MIN_HEIGHT = 800
#: Okabe-Ito colours (safe for colour-blind viewers), the word itself says it too.
VERDICT_COLORS = {SUPPORTS: "#007a5a", REFUTES: "#c0392b", INCONCLUSIVE: "#6b6b6b"}
DIFF_COLOR = (60, 60, 60)
#: x positions of the columns: with BN, without BN (left plot); the difference (right plot).
X_BN, X_PLAIN, X_DIFF = 0.0, 1.0, 0.0
MEAN_OFFSET = 0.22  # the mean and its interval, drawn beside the seeds' points

Experiment = Callable[..., Evidence]


class _Signals(QObject):
    """The experiment thread's messages: each carries the run's generation."""

    progressed = Signal(int, str)
    finished = Signal(int, object)  # Evidence, or None when cancelled
    failed = Signal(int, str)


def seeds_for(config: TrainConfig, k: int) -> tuple[int, ...]:
    """K seeds from the settings' own: ``seed, seed + 1, ...`` (as ``bnviz lesson --seeds``)."""
    return tuple(range(config.seed, config.seed + k))


class EvidencePanel(QFrame):
    """Seeds, Run / Cancel, progress, then the plot of an :class:`Evidence` and its verdict.

    ``view`` is the lesson view it sits in: its ``config_provider`` (the window's settings) and
    ``pause_training`` are read when Run is pressed. ``options`` (may be None) gives the
    experiment's keyword options from the view's own fields."""

    def __init__(
        self,
        lesson: str,
        experiment: Experiment,
        view: Any,
        options: Callable[[], dict] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("evidence_panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # its own height, never more: a scrolling page or a tall view must not pad it out
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.lesson = lesson
        info = find_lesson_info(lesson)
        self.claim = info.claim if info is not None else ""
        self.experiment = experiment
        self.view = view
        self.options = options
        self.evidence: Evidence | None = None
        self.generation = 0
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: ExecutorHandle | None = None
        self._lock = threading.Lock()  # guards _handle between the thread and Cancel
        self._signals = _Signals()
        connect_queued(self._signals.progressed, self._progressed)
        connect_queued(self._signals.finished, self._finished)
        connect_queued(self._signals.failed, self._failed)
        self._build()

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.seeds = QSpinBox()
        self.seeds.setRange(1, MAX_SEEDS)
        self.seeds.setValue(DEFAULT_SEEDS)
        self.seeds.setAccessibleName("Seeds")
        self.seeds.setToolTip(
            "How many seeds (seed, seed + 1, ... from the Controls dock): each trains the BN "
            "network and its plain twin; one seed gives no interval"
        )
        self.run_button = QPushButton("Run over seeds")
        self.run_button.setToolTip(
            "Measure the claim over the seeds with your current settings, in worker processes "
            "(pauses live training)"
        )
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QLabel("")
        self.progress.setTextFormat(Qt.TextFormat.RichText)
        self.progress.setWordWrap(True)
        self.progress.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.fold = QToolButton()
        self.fold.setCheckable(True)
        self.fold.setAutoRaise(True)
        self.fold.setAccessibleName("Show the evidence over seeds")
        self.fold.setToolTip("Show or hide the plot and the numbers")
        self.fold.toggled.connect(self.set_expanded)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.fold)
        row.addWidget(QLabel("<b>Over seeds</b>"))
        row.addWidget(QLabel("seeds"))
        row.addWidget(self.seeds)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_scroll = QScrollArea()  # a long claim scrolls, the panel keeps its height
        self.text_scroll.setWidget(self.text)
        self.text_scroll.setWidgetResizable(True)
        self.text_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.text_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text_scroll.setFixedHeight(PLOT_HEIGHT)
        # the panel's own background shows through (no style sheet: it would stop the
        # classroom mode's font from reaching the text)
        self.text_scroll.viewport().setAutoFillBackground(False)
        self.text.setAutoFillBackground(False)
        # Two PlotWidgets side by side, not one GraphicsLayoutWidget: a lesson page re-flows a
        # row of plots in a GraphicsLayoutWidget into a column when narrow; these two stay a
        # small, fixed-height pair.
        self.pair_widget = plot_widget(background=style.BACKGROUND)
        self.diff_widget = plot_widget(background=style.BACKGROUND)
        self.pair_widget.setMinimumWidth(170)
        self.diff_widget.setMinimumWidth(130)  # room for its "BN − plain" tick
        self.plot_widget = QWidget()
        plots = QHBoxLayout(self.plot_widget)
        plots.setContentsMargins(0, 0, 0, 0)
        plots.setSpacing(0)
        plots.addWidget(self.pair_widget, 2)
        plots.addWidget(self.diff_widget, 1)
        self.plot_widget.setFixedHeight(PLOT_HEIGHT)
        self._build_plots()
        self.details = QWidget()
        low = QHBoxLayout(self.details)
        low.setContentsMargins(0, 0, 0, 0)
        low.addWidget(self.text_scroll, 3)
        low.addWidget(self.plot_widget, 2)
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 4, 6, 4)
        col.setSpacing(4)
        col.addLayout(row)
        col.addWidget(self.details)
        self._show_text()
        self.set_expanded(False)

    def set_expanded(self, on: bool) -> None:
        """Show the plot and numbers (``on``) or only the one row: at 1024 x 640 the lesson's
        own plots need the height until there is evidence to see."""
        self.fold.blockSignals(True)
        self.fold.setChecked(on)
        self.fold.blockSignals(False)
        self.fold.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.details.setVisible(on)

    def _build_plots(self) -> None:
        self.pair_plot = self.pair_widget.getPlotItem()
        self.diff_plot = self.diff_widget.getPlotItem()
        self.pair_plot.setToolTip(
            "Each seed: BN (orange) and plain (blue), joined; the diamond and bar: their mean "
            "and 95% interval"
        )
        self.diff_plot.setToolTip("Each seed's BN \u2212 plain; the diamond and bar: the paired "
                                  "difference's mean and 95% interval; dashed: 0")  # fmt: skip
        for p, ticks in (
            (self.pair_plot, [(X_BN, "with BN"), (X_PLAIN, "without")]),
            (self.diff_plot, [(X_DIFF, "BN \u2212 plain")]),
        ):
            p.getAxis("bottom").setTicks([ticks])
            p.getAxis("left").enableAutoSIPrefix(False)
            p.showGrid(y=True, alpha=0.2)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
        self.pair_plot.setXRange(-0.5, 1.5 + MEAN_OFFSET, padding=0)
        self.diff_plot.setXRange(-0.5, 0.5 + MEAN_OFFSET, padding=0)
        grey = pg.mkPen(style.EVENT_COLOR, width=1)
        self.pairs = pg.PlotDataItem(pen=grey, connect="pairs")
        self.seed_points = {
            bn: pg.ScatterPlotItem(
                size=7, pen=pg.mkPen(None), brush=pg.mkBrush(style.run_color(bn))
            )
            for bn in (True, False)
        }
        self.diff_points = pg.ScatterPlotItem(
            size=7, pen=pg.mkPen(None), brush=pg.mkBrush(DIFF_COLOR)
        )
        black = pg.mkPen(style.FOREGROUND, width=2)
        self.means = pg.ScatterPlotItem(size=11, symbol="d", pen=black, brush=pg.mkBrush(None))
        self.diff_mean = pg.ScatterPlotItem(size=11, symbol="d", pen=black, brush=pg.mkBrush(None))
        self.bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), pen=black, beam=0.12)
        self.diff_bar = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), pen=black, beam=0.12)
        zero = pg.InfiniteLine(
            0.0, angle=0, pen=pg.mkPen(style.EVENT_COLOR, style=Qt.PenStyle.DashLine)
        )
        for item in (self.pairs, *self.seed_points.values(), self.means, self.bars):
            self.pair_plot.addItem(item)
        for item in (zero, self.diff_points, self.diff_mean, self.diff_bar):
            self.diff_plot.addItem(item)

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._cancel.is_set()

    def run(self) -> bool:
        """Start the experiment on the window's settings; False (and a message) if refused."""
        provider = getattr(self.view, "config_provider", None)
        if self.running or provider is None:
            return False
        try:
            config = provider()
            seeds = seeds_for(config, self.seeds.value())
            options = self.options() if self.options is not None else {}
        except ConfigError as e:
            self._say(str(e), error=True)
            return False
        pause = getattr(self.view, "pause_training", None)
        if pause is not None:
            pause(f"{self.lesson} runs over {len(seeds)} seeds")
        self.generation += 1
        self._cancel = threading.Event()
        self.evidence = None
        self.draw(None)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._say(f"starting {len(seeds)} seeds ({', '.join(map(str, seeds))}) on "
                  f"{html.escape(config.dataset)}\u2026")  # fmt: skip
        self._thread = threading.Thread(
            target=self._work,
            args=(self.generation, config, seeds, options, self._cancel),
            name="bnviz-evidence",
            daemon=True,  # never holds the interpreter's exit
        )
        self._thread.start()
        return True

    def _work(
        self, gen: int, config: TrainConfig, seeds: tuple[int, ...], options: dict,
        cancel: threading.Event,
    ) -> None:  # fmt: skip
        """The experiment thread: widgets are never touched here."""
        handle = None
        try:
            handle = make_executor(WORKERS, warm=False)
            with self._lock:
                if cancel.is_set():
                    return
                self._handle = handle
            evidence = self.experiment(
                config, seeds, executor=handle, cancel=cancel.is_set,
                progress=lambda line: self._emit(self._signals.progressed, gen, line), **options,
            )  # fmt: skip
        except Exception as e:  # a cancelled pool raises; a real failure is reported, never fatal
            if not cancel.is_set():
                # a bad setting (ConfigError, SweepError) says itself; anything else names its kind
                message = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
                self._emit(self._signals.failed, gen, message)
        else:
            self._emit(self._signals.finished, gen, None if cancel.is_set() else evidence)
        finally:
            with self._lock:
                if self._handle is handle:
                    self._handle = None
            if handle is not None:
                handle.close(wait=False)

    def _emit(self, signal: SignalInstance, *args: object) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the panel was deleted while the thread ran
            pass

    def cancel(self) -> None:
        """Stop now: no further seed starts, the workers are killed, Run is free again."""
        if not self.running:
            return
        self._stop()
        self._idle()
        self._say("cancelled")

    def _stop(self) -> None:
        self._cancel.set()
        self.generation += 1  # whatever the old run still says is dropped
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.close(wait=False)

    def shutdown(self) -> None:
        """The window closes: cancel, and wait a little for the thread (it is a daemon)."""
        self._stop()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _progressed(self, gen: int, line: str) -> None:
        if gen == self.generation:
            self._say(html.escape(line))

    def _finished(self, gen: int, evidence: Evidence | None) -> None:
        if gen != self.generation:
            return
        self._idle()
        if evidence is None:
            self._say("cancelled")
            return
        self.evidence = evidence
        self.draw(evidence)
        if self.window().height() >= UNFOLD_MIN_HEIGHT:
            self.set_expanded(True)
        color = VERDICT_COLORS.get(evidence.verdict, VERDICT_COLORS[INCONCLUSIVE])
        self._say(
            f"<b style='color:{color}'>{html.escape(evidence.verdict)}</b> over "
            f"{len(evidence.seeds)} seeds: BN &minus; plain {_estimate_text(evidence.difference)}"
        )

    def _failed(self, gen: int, message: str) -> None:
        if gen == self.generation:
            self._idle()
            self._say(html.escape(message), error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.progress.setText(f"<span style='color:#b00000'>{text}</span>" if error else text)
        self.progress.setToolTip(self.progress.text())

    # -- drawing -------------------------------------------------------------------------------
    def draw(self, evidence: Evidence | None) -> None:
        """Show ``evidence`` (None: clear)."""
        rows = evidence.per_seed if evidence is not None else ()
        bn = np.array([r.bn for r in rows], dtype=float)
        plain = np.array([r.plain for r in rows], dtype=float)
        n = len(rows)
        self.seed_points[True].setData(np.full(n, X_BN), bn)
        self.seed_points[False].setData(np.full(n, X_PLAIN), plain)
        ok = np.isfinite(bn) & np.isfinite(plain)
        xs = np.tile([X_BN, X_PLAIN], int(ok.sum()))
        ys = np.column_stack([bn[ok], plain[ok]]).ravel()
        self.pairs.setData(xs, ys)
        self.diff_points.setData(np.full(n, X_DIFF), bn - plain)
        if evidence is None:
            for item in (self.means, self.diff_mean):
                item.setData([], [])
            self.bars.setData(x=np.zeros(0), y=np.zeros(0))
            self.diff_bar.setData(x=np.zeros(0), y=np.zeros(0))
        else:
            _estimates(self.means, self.bars, [X_BN, X_PLAIN], [evidence.bn, evidence.plain])
            _estimates(self.diff_mean, self.diff_bar, [X_DIFF], [evidence.difference])
        self.pair_plot.enableAutoRange(y=True)
        self.diff_plot.enableAutoRange(y=True)
        self._show_text()

    def _show_text(self) -> None:
        ev = self.evidence
        claim = (
            f"<b>The course:</b> \u201c{html.escape(self.claim or (ev.claim if ev else ''))}\u201d"
        )
        if ev is None:
            self.text.setText(
                f"{claim}<br>Press <b>Run over seeds</b>: the claim measured on your settings "
                "over several seeds, with a 95% interval."
            )
            return
        color = VERDICT_COLORS.get(ev.verdict, VERDICT_COLORS[INCONCLUSIVE])
        seeds = ", ".join(map(str, ev.seeds))
        self.text.setText(
            f"<span style='color:{color}; font-weight:bold'>{html.escape(ev.verdict)}</span> "
            f"&mdash; {claim}<br>"
            f"BN &minus; plain {_estimate_text(ev.difference)}; with BN "
            f"{_estimate_text(ev.bn, signed=False)}, without "
            f"{_estimate_text(ev.plain, signed=False)}<br>"
            f"<small>95% interval: {html.escape(ev.interval)}; seeds {seeds}. "
            f"Measure: {html.escape(ev.measure)}</small>"
        )
        self.text.setToolTip(_verdict_rule(ev.direction))


def _estimates(
    mean_item: pg.ScatterPlotItem,
    bar_item: pg.ErrorBarItem,
    xs: list[float],
    estimates: list[Estimate],
) -> None:
    """Means as diamonds beside the points, with their intervals (none where infinite)."""
    x = np.array(xs) + MEAN_OFFSET
    y = np.array([e.mean for e in estimates], dtype=float)
    lo = np.array([e.ci95[0] for e in estimates], dtype=float)
    hi = np.array([e.ci95[1] for e in estimates], dtype=float)
    finite = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(y)
    mean_item.setData(x[np.isfinite(y)], y[np.isfinite(y)])
    bar_item.setData(x=x[finite], y=y[finite], top=(hi - y)[finite], bottom=(y - lo)[finite])


def _estimate_text(e: Estimate, signed: bool = True) -> str:
    """``+0.12 [+0.05, +0.19]``: a mean and its 95% interval (a difference carries its sign)."""
    f = "{:+.3g}" if signed else "{:.3g}"
    lo, hi = e.ci95
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{f.format(e.mean)} (no interval)"
    return f"{f.format(e.mean)} [{f.format(lo)}, {f.format(hi)}]"


def _verdict_rule(direction: int) -> str:
    side = "above" if direction > 0 else "below"
    other = "below" if direction > 0 else "above"
    return (
        f"supports: the 95% interval of BN - plain lies {side} 0 (the claim's side); refutes: "
        f"it lies {other} 0; inconclusive: it contains 0"
    )
