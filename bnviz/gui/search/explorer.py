"""The Hyperparameters tab: coarse-to-fine random search, in parallel, over a study file.

Composes the controls, the scatter, the table, the sampling histograms and the importance
bars; owns the open :class:`Study` and the :class:`SweepRunner`. The course's workflow: sample
at random on the right scale, look where the good points are, draw a box around them and
sample densely there (caviar: many models at once), or pick one and babysit it in the live
trainer (panda).

The study and its rounds are :class:`~bnviz.gui.search.explorer_rounds.ExplorerRounds`, the
views' redrawing and linking :class:`~bnviz.gui.search.explorer_views.ExplorerViews`: mixins,
one idea per module; this class builds the widgets, wires them, babysits and exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGraphicsView,
    QInputDialog,
    QSplitter,
    QTabWidget,
    QWidget,
)

from bnviz.gui.search.controls import SweepControls
from bnviz.gui.search.curves import CurvesView
from bnviz.gui.search.explorer_rounds import BASE_KEY, DEFAULT_STUDY, ExplorerRounds
from bnviz.gui.search.explorer_views import ExplorerViews
from bnviz.gui.search.fanova import FanovaRunner
from bnviz.gui.search.histograms import SampleHistograms
from bnviz.gui.search.importance_view import ImportanceView
from bnviz.gui.search.ladder_view import LadderView
from bnviz.gui.search.layout import ExplorerLayout
from bnviz.gui.search.parallel_view import ParallelView
from bnviz.gui.search.recheck_view import RecheckView
from bnviz.gui.search.runner import SweepRunner, connect_queued
from bnviz.gui.search.scatter import HparamScatter
from bnviz.gui.search.table import TrialTable
from bnviz.gui.staged import paint_in_turns
from bnviz.search import optuna_export, points
from bnviz.search.babysat import babysat_params, save_babysat
from bnviz.search.spaces import Space
from bnviz.search.study import Study, StudyError, TrialRecord, default_study_dir
from bnviz.search.sweep import SweepError, apply_params
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.history import RunHistory

__all__ = ["BASE_KEY", "HparamExplorer"]  # BASE_KEY: where callers have always found it

REFRESH_MS = 50  # results arriving in a burst are drawn once


class HparamExplorer(ExplorerRounds, ExplorerViews, QWidget):
    """The tab.

    Parameters
    ----------
    live_config : the live trainer's settings, the fixed settings of a round when neither the
        round nor the study stores them.
    babysit : ``babysit(config, description) -> bool`` trains a trial's configuration live and
        shows it (the panda approach); False when it was refused (it says why).
    show_message : ``show_message(text, error)``, where errors are also reported (a status bar).
    study_path : a study to open at once.
    round_started : called when a round starts (the window pauses live training, which would
        otherwise keep a core from the trials).
    live_run : ``live_run() -> (config, history)``: the live trainer's settings now and its
        network's :class:`RunHistory` (None before the first snapshot), for "Save babysat run
        to study"; the explorer has no trainer of its own.

    build_later : build the widgets in slices: the caller runs :attr:`build_steps` to its end
        (one step per turn of the event loop) before anything else touches the explorer.

    Call :meth:`shutdown` when the window closes.
    """

    def __init__(
        self,
        live_config: Callable[[], TrainConfig],
        babysit: Callable[[TrainConfig, str], bool],
        show_message: Callable[[str, bool], None] | None = None,
        study_path: str | Path | None = None,
        round_started: Callable[[], None] | None = None,
        live_run: Callable[[], tuple[TrainConfig, RunHistory | None]] | None = None,
        build_later: bool = False,
    ) -> None:
        super().__init__()
        self._live_config = live_config
        self._babysit = babysit
        self._show_message = show_message
        self._window_error = False  # an error of ours is (or was last) red in the window's status
        self._round_started = round_started
        self._live_run = live_run
        self.study: Study | None = None
        self.trials: list[TrialRecord] = []
        self.rounds: list[dict] = []
        self.selected: int | None = None
        self.done = self.total = 0
        # True from Start until the round's last queued signal is handled (the runner's
        # thread ends earlier, with results still on their way to this thread).
        self.busy = False
        self._axes: tuple[Space | None, Space | None] = (None, None)
        self._shown = False
        self.brushed: set[int] | None = None  # the trials inside the parallel view's bands
        self.build_steps = self._build(study_path)
        if not build_later:
            for _ in self.build_steps:
                pass

    def _build(self, study_path: str | Path | None) -> Iterator[None]:
        """The widgets, in slices of 20-35 ms (``build_later``: the caller runs ``build_steps``
        to its end, a slice per turn of the event loop, before the explorer is used)."""
        self.controls = SweepControls()
        self.scatter = HparamScatter()
        self.table = TrialTable()
        yield
        self.histograms = SampleHistograms()
        yield
        self.curves = CurvesView()
        self.recheck_view = RecheckView()
        self.ladder_view = LadderView()
        self.parallel = ParallelView()
        yield
        self.fanova = FanovaRunner(self)
        self.importance = ImportanceView()
        self.runner = SweepRunner()  # no Qt parent: it must outlive the widgets at close
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._layout()
        self._wire()
        if study_path is not None:
            self.open_study(study_path)
        self.refresh()

    def _layout(self) -> None:
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(self.scatter)
        middle.addWidget(self.table)
        middle.setSizes([560, 260])
        self.views = QTabWidget()  # the right column's plots, one at a time
        self.views.addTab(self.histograms, "samples")
        self.views.addTab(self.curves, "curves")
        self.views.addTab(self.recheck_view, "re-check")
        self.views.addTab(self.ladder_view, "rungs")
        self.views.addTab(self.parallel, "parallel")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.views)
        right.addWidget(self.importance)
        right.setSizes([520, 260])
        self.columns = ExplorerLayout(self, self.controls, middle, right)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the form's children resize first
            QTimer.singleShot(0, self.columns.fit_controls)

    def _wire(self) -> None:
        c, r = self.controls, self.runner
        c.axes_changed.connect(self.refresh)
        c.metric_changed.connect(self.refresh)
        c.executor_changed.connect(self._prepare)
        c.start_clicked.connect(lambda: self.start_round())
        c.box_clicked.connect(lambda: self.start_round(in_box=True))
        c.zoom_clicked.connect(self.zoom_to_box)
        c.cancel_clicked.connect(self.cancel)
        c.babysit_clicked.connect(lambda: self.babysit())
        c.recheck_clicked.connect(lambda: self.recheck())
        c.save_babysat_clicked.connect(lambda: self.save_babysat())
        c.open_clicked.connect(lambda: self.open_study())
        c.new_clicked.connect(lambda: self.new_study())
        self.scatter.trial_clicked.connect(self.select)
        self.scatter.trial_activated.connect(self.babysit)
        self.scatter.trial_hovered.connect(lambda i: self.curves.set_hovered(self._trial(i)))
        self.scatter.box_changed.connect(self.refresh_curves)
        self.scatter.box_changed.connect(
            lambda: self.parallel.set_strong(self.scatter.inside_box())
        )
        self.parallel.brushed_changed.connect(self._brushed)
        self.parallel.trial_clicked.connect(self.select)
        self.curves.round_combo.currentTextChanged.connect(self.refresh_curves)
        self.table.trial_selected.connect(self.select)
        self.table.trial_activated.connect(self.babysit)
        connect_queued(r.trial_finished, self._trial_finished)
        connect_queued(r.sweep_finished, self._sweep_finished)
        connect_queued(r.sweep_failed, self._sweep_failed)
        connect_queued(r.executor_ready, lambda d: self.controls.setToolTip(f"executor: {d}"))
        connect_queued(r.executor_failed, lambda m: self._error(m))
        connect_queued(r.status, lambda m: self._error(m))  # a Dask cluster without workers
        self.fanova.finished.connect(self.importance.set_fanova)

    # -- lifetime ------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """First time the tab is seen: open the default study, start the workers early."""
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            paint_in_turns(self.findChildren(QGraphicsView))  # first paints: one per turn
            if self.study is None:
                self.open_study(default_study_dir() / DEFAULT_STUDY)
            self._prepare()

    def shutdown(self) -> None:
        """Cancel a running round, stop the threads, close the executor and the study."""
        self.runner.shutdown()
        if self.study is not None:
            self.study.close()
            self.study = None

    def _prepare(self) -> None:
        self.runner.prepare(*self.controls.executor_key())

    def babysit(self, trial_id: int | None = None) -> bool:
        """Load a trial's configuration into the live trainer and show the Training tab."""
        trial_id = self.selected if trial_id is None else trial_id
        t = self._trial(trial_id) if trial_id is not None else None
        if t is None:
            return self._error("click a trial (a point or a row) first")
        try:
            config = apply_params(self.base_config(t.round), t.params)
        except (SweepError, ConfigError) as e:
            return self._error(str(e))
        params = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items()
        )
        return self._babysit(config, f"babysitting trial {t.id}: {params}")

    def save_babysat(self) -> bool:
        """Store the live run (its settings now, its validation-loss curve) as a trial of kind
        ``babysat`` in a round of its own: the panda's result on the caviar's scatter."""
        if self._live_run is None:
            return self._error("no live trainer to save a run from")
        if self.study is None:
            self.open_study(default_study_dir() / DEFAULT_STUDY)
        if self.study is None or self.busy:
            return self._error("a round is running: save when it is done" if self.study
                               else "no study open")  # fmt: skip
        config, history = self._live_run()
        config = replace(config, compare=False)
        names = {s.name for r in self.rounds for s in r["spaces"] if s.kind != "fixed"}
        names |= set(self.controls.axis_names())
        params = babysat_params(config, sorted(names))
        curve = [] if history is None else list(zip(history.val_loss.x, history.val_loss.y))
        acc = history.val_acc.y if history is not None else np.zeros(0)
        try:
            t = save_babysat(self.study, config, params, curve,
                             val_acc=float(acc[-1]) if len(acc) else None,
                             steps=history.last_step if history is not None else 0,
                             diverged_step=history.diverged_step if history else None)  # fmt: skip
            self.rounds = self.study.rounds()
        except (SweepError, StudyError) as e:
            return self._error(str(e))
        self.trials.append(t)
        self.table.add_trial(t)
        self.selected = t.id
        self.refresh()
        self.select(t.id)
        loss = f"{t.val_loss:.4f}" if t.val_loss is not None and t.val_loss == t.val_loss else "-"
        best = points.best_id(self.trials, self.controls.metric_key()) == t.id
        where = "the diamond on the plot" + (
            ", the best so far (its star behind it)" if best else ""
        )
        self._say(f"babysat run saved as trial {t.id} (val loss {loss}, {t.steps} steps): "
                  f"{where}")  # fmt: skip
        return True

    def export_to_optuna(self, storage: str | None = None) -> bool:
        """File > Export study to Optuna...: the open study into an Optuna storage URL (asked
        for), so optuna-dashboard and Optuna's plots open it; without Optuna, how to get it."""
        if self.study is None:
            return self._error("open a study in the Hyperparameters tab first")
        if not optuna_export.optuna_available():
            return self._error(optuna_export.OPTUNA_HINT)
        if storage is None:
            default = optuna_export.default_storage(self.study.path)
            storage, ok = QInputDialog.getText(self, "Export study to Optuna",
                                               "Optuna storage URL:", text=default)  # fmt: skip
            if not ok or not storage.strip():
                return False
        try:
            name = optuna_export.export_study(self.study, storage.strip())
        except optuna_export.ExportError as e:
            return self._error(str(e))
        text = (f"{len(self.trials)} trials exported to {storage} as the Optuna study "
                f"{name!r}: optuna-dashboard {storage}")  # fmt: skip
        self._say(text)
        if self._show_message is not None:
            self._show_message(text, False)
        return True

    def export_items(self) -> list:
        """The plots File > Export writes: the scatter, the sample histograms, the importance."""
        return [self.scatter.ci, self.histograms.view.ci, self.importance.getPlotItem(),
                self.curves.plot]  # fmt: skip

    def _trial(self, trial_id: int | None) -> TrialRecord | None:
        return next((t for t in self.trials if t.id == trial_id), None)

    def _say(self, text: str) -> None:
        """A success: in the tab's status, and in the window's where an error of ours was
        left red (it stayed there after the next round had run)."""
        self.controls.say(text)
        if self._window_error and self._show_message is not None:
            self._show_message(text, False)
        self._window_error = False

    def _error(self, text: str) -> bool:
        self.controls.say(text, error=True)
        if self._show_message is not None:
            self._show_message(text, True)
            self._window_error = True
        return False
