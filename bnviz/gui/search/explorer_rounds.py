"""The explorer's study and its rounds: open or create a study, start a round (at random, in
the box, Hyperband, repeats) or a re-check, cancel it, and take the results as they arrive.

A mixin of :class:`~bnviz.gui.search.explorer.HparamExplorer`, moved out of it unchanged (one
idea per module). It uses the explorer's widgets, runner and state, which the class body
declares for the type checker, with the methods it calls on the other parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QTabWidget, QWidget

from bnviz.gui.search.controls import SweepControls
from bnviz.gui.search.curves import CurvesView
from bnviz.gui.search.recheck_view import RecheckView
from bnviz.gui.search.runner import SweepRunner
from bnviz.gui.search.scatter import HparamScatter
from bnviz.gui.search.table import TrialTable
from bnviz.search import points
from bnviz.search.executors import worker_count
from bnviz.search.groups import by_group
from bnviz.search.halving import rung_epochs
from bnviz.search.recheck import latest_recheck_round
from bnviz.search.relevance import searchable
from bnviz.search.spaces import SpaceError
from bnviz.search.study import Study, StudyError, TrialRecord, TrialState, default_study_dir
from bnviz.search.sweep import Sweep, SweepError
from bnviz.train.config import ConfigError, TrainConfig

DEFAULT_STUDY = "explorer.sqlite"
BASE_KEY = "config"  # the study's fixed settings, as bnviz sweep stores them
STUDY_FILTER = "bnviz study (*.sqlite);;All files (*)"

# The mixin is only ever a base of HparamExplorer, a QWidget (it is the file dialogs' parent):
# a QWidget for the type checker, a plain class at run time.
if TYPE_CHECKING:
    _Base = QWidget
else:
    _Base = object


class ExplorerRounds(_Base):
    """The study and its rounds (see the module docstring)."""

    # What it uses of the explorer (built in HparamExplorer.__init__).
    controls: SweepControls
    scatter: HparamScatter
    table: TrialTable
    curves: CurvesView
    recheck_view: RecheckView
    views: QTabWidget
    runner: SweepRunner
    study: Study | None
    trials: list[TrialRecord]
    rounds: list[dict]
    selected: int | None
    done: int
    total: int
    busy: bool
    _refresh_timer: QTimer
    _live_config: Callable[[], TrainConfig]
    _round_started: Callable[[], None] | None

    if TYPE_CHECKING:  # defined by HparamExplorer and ExplorerViews

        def refresh(self) -> None: ...
        def _start_fanova(self) -> None: ...
        def _say(self, text: str) -> None: ...
        def _error(self, text: str) -> bool: ...

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
