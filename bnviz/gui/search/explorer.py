"""The Hyperparameters tab: coarse-to-fine random search, in parallel, over a study file.

Composes the controls, the scatter, the table, the sampling histograms and the importance
bars; owns the open :class:`Study` and the :class:`SweepRunner`. The course's workflow: sample
at random on the right scale, look where the good points are, draw a box around them and
sample densely there (caviar: many models at once), or pick one and babysit it in the live
trainer (panda).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QSplitter,
    QTabWidget,
    QWidget,
)

from bnviz.gui.search.controls import SweepControls
from bnviz.gui.search.curves import CurvesView
from bnviz.gui.search.fanova import FanovaRunner
from bnviz.gui.search.histograms import SampleHistograms
from bnviz.gui.search.importance_view import ImportanceView
from bnviz.gui.search.ladder_view import LadderView
from bnviz.gui.search.layout import ExplorerLayout
from bnviz.gui.search.parallel_view import ParallelView
from bnviz.gui.search.recheck_view import RecheckView
from bnviz.gui.search.runner import SweepRunner, connect_queued
from bnviz.gui.search.scatter import HparamScatter, describe
from bnviz.gui.search.table import TrialTable
from bnviz.search import optuna_export, points
from bnviz.search.babysat import babysat_params, save_babysat
from bnviz.search.executors import worker_count
from bnviz.search.groups import GroupStats, by_group, spread
from bnviz.search.halving import rung_epochs
from bnviz.search.parallel import parallel_data
from bnviz.search.recheck import latest_recheck_round, recheck_pairs
from bnviz.search.relevance import searchable
from bnviz.search.spaces import Space, SpaceError
from bnviz.search.study import Study, StudyError, TrialRecord, TrialState, default_study_dir
from bnviz.search.sweep import Sweep, SweepError, apply_params
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.history import RunHistory

DEFAULT_STUDY = "explorer.sqlite"
BASE_KEY = "config"  # the study's fixed settings, as bnviz sweep stores them
REFRESH_MS = 50  # results arriving in a burst are drawn once
STUDY_FILTER = "bnviz study (*.sqlite);;All files (*)"


class HparamExplorer(QWidget):
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
        self.controls = SweepControls()
        self.scatter = HparamScatter()
        self.table = TrialTable()
        self.histograms = SampleHistograms()
        self.curves = CurvesView()
        self.recheck_view = RecheckView()
        self.ladder_view = LadderView()
        self.parallel = ParallelView()
        self.brushed: set[int] | None = None  # the trials inside the parallel view's bands
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

    # -- study ---------------------------------------------------------------------------------
    def open_study(self, path: str | Path | None = None) -> bool:
        """Open (or create) a study file and show everything in it; keep the old one on error."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open study", "", STUDY_FILTER)
            if not path:
                return False
        if self.busy:
            return self._error("a round is running: cancel it before changing study")
        try:
            study = Study(path)
            rounds, trials = study.rounds(), study.trials()
        except StudyError as e:
            return self._error(str(e))
        if self.study is not None:
            self.study.close()
        self.study, self.rounds, self.trials, self.selected = study, rounds, trials, None
        self.curves.forget()
        self.runner.generation += 1  # results still in flight belong to the old study
        self.table.set_trials(trials)
        self.controls.study_label.setText(f"<b>{study.path.name}</b> ({study.path.parent})")
        self.controls.set_stored(len(trials))
        self._say(f"{len(trials)} trials in {len(rounds)} rounds")
        self.refresh()
        self._start_fanova()
        return True

    def new_study(self, path: str | Path | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "New study", "", STUDY_FILTER)
            if not path:
                return False
        return self.open_study(path)

    def base_config(self, round_id: int | None = None) -> TrainConfig:
        """The fixed settings of a round (as stored with it), else of the study, else live."""
        stored = next((r["fixed"] for r in self.rounds if r["id"] == round_id), None)
        if stored is None and self.study is not None:
            stored = self.study.get_meta(BASE_KEY)
        if stored is not None:
            return TrainConfig.from_dict(stored)
        return replace(self._live_config(), compare=False)

    # -- rounds --------------------------------------------------------------------------------
    def start_round(self, in_box: bool = False, n: int | None = None) -> bool:
        """Validate everything, then run a round in the background; False (and why) if not."""
        if self.study is None:
            self.open_study(default_study_dir() / DEFAULT_STUDY)
        if self.study is None or self.busy:
            return self._error("a round is already running" if self.study else "no study open")
        n = self.controls.trials.value() if n is None else n
        try:
            spaces = self.controls.spaces()
            box = None
            if in_box:
                b = self.scatter.box()
                if b is None:
                    return self._error("draw a box on the plot first (drag on empty space)")
                # a fixed range no round sampled has no axis scale: it stays fixed (a box
                # leaves a fixed space as it is)
                spaces = [points.axis_space(self.rounds, s.name, s) or s for s in spaces]
                box = {spaces[0].name: b[0], spaces[1].name: b[1]}
            base = self.base_config()
            spaces, idle = searchable(base, spaces)  # beta with plain SGD: not sampled
            if not spaces:
                return self._error(f"nothing to sample: {'; '.join(idle.values())}")
            box = {k: v for k, v in box.items() if k not in idle} if box else None
            sweep = Sweep(self.study, base, spaces, n=n, method=self.controls.method.currentText(),
                          seed=base.seed + len(self.rounds), epochs=self.controls.epochs.value(),
                          box=box, prune=self.controls.prune.isChecked(),
                          hyperband=self.controls.hyperband.isChecked(),
                          repeats=self.controls.repeats.value())  # fmt: skip
            sweep.check()
            total = sweep.n_trials
            self.study.check_writable()  # a read-only study: said now, not at the first result
        except (SpaceError, SweepError, ConfigError, StudyError) as e:
            return self._error(str(e))
        for s in sweep.spaces:
            self.controls.set_range(s)
        self._launch(sweep, total)
        where = "in the box" if box else "at random" if sweep.method == "random" else "on a grid"
        pruning = ""
        if sweep.hyperband:
            pruning = f" in {len(sweep.brackets)} Hyperband brackets"
        elif sweep.prune:
            few = len(rung_epochs(sweep.epochs)) == 1
            pruning = " (too few epochs to prune: 3 at least)" if few else ", weak ones stop early"
        skipped = "".join(f"; not sampling {n}: {why}" for n, why in idle.items())
        self._say(f"running {total} trials {where}{pruning}{skipped}...")
        return True

    def _launch(self, sweep: Sweep, total: int) -> None:
        """Run a validated round in the background and show its progress."""
        self.done, self.total = 0, total
        self.controls.set_progress(0, total)
        self.controls.set_running(True)
        self.busy = True
        workers, scheduler = self.controls.executor_key()
        self.runner.start(sweep, worker_count(workers, total), scheduler)
        if self._round_started is not None:
            self._round_started()

    def recheck(self, k: int | None = None) -> bool:
        """Re-run the study's best ``k`` trials (the K box) under today's settings, the
        Training tab's (its data, noise and seed), for the epochs set here, as a new round;
        the re-check tab shows then vs now when it ends."""
        if self.study is None or self.busy:
            return self._error("a round is already running" if self.study else "no study open")
        k = self.controls.recheck_k.value() if k is None else k
        base = replace(self._live_config(), compare=False)
        try:
            sweep = Sweep.recheck(self.study, base, k, epochs=self.controls.epochs.value(),
                                  seed=base.seed + len(self.rounds))  # fmt: skip
            sweep.check()
            total = sweep.n_trials
            self.study.check_writable()
        except (SweepError, ConfigError, StudyError) as e:
            return self._error(str(e))
        self._launch(sweep, total)
        self._say(f"re-checking the best {total} trials under today's settings "
                  f"({base.dataset}, seed {base.seed}, {sweep.epochs} epochs)...")  # fmt: skip
        return True

    def cancel(self) -> None:
        self.runner.cancel()
        self._say("cancelling: trials already running are dropped")

    def _trial_finished(self, gen: int, record: TrialRecord) -> None:
        if gen != self.runner.generation:
            return
        if all(r["id"] != record.round for r in self.rounds) and self.study is not None:
            self.rounds = self.study.rounds()
        self.trials.append(record)
        self.table.add_trial(record)
        self.done += 1
        self.controls.set_progress(self.done, self.total)
        self._refresh_timer.start()

    def _sweep_finished(self, gen: int, stored: int, cancelled: bool) -> None:
        if gen != self.runner.generation:
            return
        self.busy = False
        self.controls.set_running(False)
        self._refresh_timer.stop()
        self.refresh()  # now, not in REFRESH_MS: the round is complete when it says so
        self._start_fanova()
        best = points.best_id(by_group(self.trials)[0], "val_loss")  # repeats: best mean
        tail = f"; best so far: trial {best}" if best is not None else ""
        last = max((t.round for t in self.trials), default=None)
        failed = [t for t in self.trials if t.round == last and t.state is TrialState.FAILED]
        if failed and stored:
            tail += f"; {len(failed)} failed, e.g. {failed[-1].error}"
        pruned = [t for t in self.trials if t.round == last and t.state is TrialState.PRUNED]
        if pruned and stored:
            tail += f"; {len(pruned)} pruned (stopped early)"
        if last is not None and last == latest_recheck_round(self.trials):
            self.views.setCurrentWidget(self.recheck_view)
            tail += f"; {self.recheck_view.summary.text().split('; ', 1)[-1]}"
        verb = "cancelled after" if cancelled else "done:"
        self._say(f"{verb} {stored} of {self.total} trials stored{tail}")

    def _sweep_failed(self, gen: int, message: str) -> None:
        if gen == self.runner.generation:
            self.busy = False
            self.controls.set_running(False)
            self._error(message)

    # -- view ----------------------------------------------------------------------------------
    def plotted_spaces(self) -> tuple[Space | None, Space | None]:
        """The spaces that scale the axes: the study's, else the fields', else the defaults."""
        out = []
        for name, field in zip(self.controls.axis_names(), self.controls.field_spaces()):
            out.append(points.axis_space(self.rounds, name, field or points.default_space(name)))
        return out[0], out[1]

    def refresh(self) -> None:
        """Redraw every view from ``self.trials`` (items are reused, only data changes)."""
        xs, ys = self.plotted_spaces()
        metric = self.controls.metric_key()
        new_axes = (xs, ys) != self._axes
        if new_axes:
            self._axes = (xs, ys)
            self.scatter.set_axes(xs, ys)
        shown, groups = by_group(self.trials)  # repeats: one point per group, at its mean
        brushed = [t for t in shown if self.brushed is None or t.id in self.brushed]
        if xs is not None and ys is not None:
            data = points.place(self._with_fixed(brushed), xs, ys, metric)
            if new_axes and len(data.ids):
                self.scatter.plot.enableAutoRange()
            texts = {t.id: describe(t.params, t) for t in self.trials}
            for t in shown:
                g = groups.get(t.group) if t.group is not None else None
                if g is not None and g.whole:
                    _, rest = describe(t.params, t).split("\n", 1)
                    ids = ", ".join(map(str, g.trials))
                    texts[t.id] = f"trials {ids} (round {t.round})\n{rest}\n{_group_line(g)}"
            best = points.best_id(shown, metric)
            sds = spread(self.trials, metric)  # each group's sd over seeds: its halo
            self.scatter.set_points(data, metric, texts, best, self.selected, sds)
        ran = self._with_fixed(shown)  # an unsampled parameter: the value trials ran at
        for axis, space in zip("xy", (xs, ys)):
            name = space.name if space is not None else ""
            values = [t.params[name] for t in ran if name in t.params]
            self.histograms.set_samples(axis, space, values)
        fixed = self.study.get_meta(BASE_KEY) if self.study is not None else None
        self.importance.set_trials(
            points.sampled_coords(shown, self.rounds, fixed),
            points.unfelt(shown, self.rounds, fixed),
        )
        self._note_idle_axes()
        self.refresh_curves()
        results = np.array([points.metric_value(t, metric) for t in self.trials], dtype=float)
        colors = dict(zip((t.id for t in self.trials), self.scatter.colors(results)))
        self.ladder_view.set_trials(self.trials, colors)
        self._refresh_parallel(shown, metric)
        rechecked = latest_recheck_round(self.trials)
        pairs = recheck_pairs(self.trials, rechecked) if rechecked is not None else []
        self.recheck_view.set_pairs(pairs, rechecked)

    def _refresh_parallel(self, shown: list[TrialRecord], metric: str) -> None:
        """The parallel coordinates of every trial (a group of repeats as its mean)."""
        data = parallel_data(shown, self.rounds, metric)
        values = np.array([points.metric_value(t, metric) for t in shown], dtype=float)
        self.parallel.set_data(data, list(self.scatter.colors(values)))
        self.parallel.set_selected(self.selected)

    def _start_fanova(self) -> None:
        """fANOVA's importances for the importance chart, computed in a thread."""
        self.importance.set_fanova(None, "fANOVA (Optuna): computing...")
        self.fanova.request(by_group(self.trials)[0], self.rounds)

    def _brushed(self, ids: set[int] | None) -> None:
        """Bands on the parallel axes: the scatter, the table and the curves show only the
        trials inside them (a group of repeats with all its seeds)."""
        if ids is not None:
            ids = {t.id for t in self.trials if t.id in ids or t.group in ids}
        self.brushed = ids
        self.table.set_visible_ids(ids)
        self.refresh()

    def _note_idle_axes(self) -> None:
        """Say before Start which plotted parameter a round would not sample, and why."""
        try:
            base = self.base_config()
        except ConfigError:
            return self.controls.set_idle_note("")
        spaces = [s for s in self.controls.field_spaces() if s is not None]
        _, idle = searchable(base, spaces)
        note = "; ".join(f"{why}: a round leaves {n} out" for n, why in idle.items())
        self.controls.set_idle_note(note)

    def refresh_curves(self) -> None:
        """Overlay the curves of the shown round(s), coloured as on the scatter, the box's
        trials strong (cheap: run again on every box move)."""
        self.curves.set_rounds([r["id"] for r in self.rounds])
        rounds = self.curves.shown_rounds(self.trials, self.selected)
        shown = [t for t in self.trials if t.round in rounds]
        if self.brushed is not None:  # the parallel view's bands filter the curves too
            shown = [t for t in shown if t.id in self.brushed]
        metric = self.controls.metric_key()
        values = np.array([points.metric_value(t, metric) for t in shown], dtype=float)
        colors = dict(zip((t.id for t in shown), self.scatter.colors(values)))
        selected = self._trial(self.selected) if self.selected is not None else None
        self.curves.set_trials(shown, colors, self.scatter.inside_box(), selected)

    def _with_fixed(self, trials: list[TrialRecord]) -> list[TrialRecord]:
        """Trials with the values they ran at filled in for what their round did not sample,
        so switching x to batch_size still shows the lr rounds (at the batch size they used)."""
        fixed: dict[int, dict] = {}
        for r in self.rounds:
            try:
                fixed[r["id"]] = points.fixed_params(self.base_config(r["id"]).to_dict())
            except ConfigError:
                fixed[r["id"]] = {}
        return [replace(t, params={**fixed.get(t.round, {}), **t.params}) for t in trials]

    def select(self, trial_id: int) -> None:
        self.selected = trial_id
        self.scatter.select(trial_id)
        self.table.select_trial(trial_id)
        self.parallel.set_selected(trial_id)
        self.refresh_curves()
        t = self._trial(trial_id)
        if t is not None:
            self._say(describe(t.params, t, wrap=None).replace("\n", ", "))

    def zoom_to_box(self) -> None:
        if not self.scatter.zoom_to_box():
            self._error("draw a box on the plot first (drag on empty space)")

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


def _group_line(g: GroupStats) -> str:
    """The hover's line for a group of repeats: its mean and spread over seeds."""
    sd = f" +- {g.val_loss_sd:.4f} (sd)" if g.val_loss_sd is not None else ""
    return f"mean of {g.n} seeds: val loss {g.val_loss_mean:.4f}{sd}"
