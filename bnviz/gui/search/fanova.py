"""fANOVA's importances off the GUI thread: Optuna's evaluator takes seconds for 50 trials.

Like :class:`bnviz.gui.search.runner.SweepRunner`, a plain Python thread does the work and
the result crosses to the GUI thread as a queued signal tagged with its request's generation,
so a result overtaken by a newer request (another round ended) is dropped.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from bnviz.gui.search.runner import connect_queued
from bnviz.search import optuna_export
from bnviz.search.study import TrialRecord

FEW = "fANOVA: too few complete trials or parameters (8 and 2 at least)"


class FanovaRunner(QObject):
    """Computes fANOVA in a thread; ``finished(values, note)`` on the GUI thread, the latest
    request's only (``values`` empty and ``note`` saying why when there are none)."""

    finished = Signal(object, str)
    _arrived = Signal(int, object)  # generation, (values, note): emitted from the thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.generation = 0
        connect_queued(self._arrived, self._deliver)

    def request(self, trials: list[TrialRecord], rounds: list[dict]) -> None:
        """Start computing over ``trials`` (a group of repeats as one record at its mean)."""
        self.generation += 1
        gen, trials, rounds = self.generation, list(trials), list(rounds)

        def work() -> None:
            try:
                payload = (optuna_export.fanova_importance(trials, rounds), "")
            except optuna_export.ExportError as e:
                payload = ({}, str(e))
            except Exception as e:  # the evaluator's own failure: said, never fatal
                payload = ({}, f"fANOVA failed: {type(e).__name__}: {e}")
            try:
                self._arrived.emit(gen, payload)
            except (RuntimeError, TypeError):  # the window closed (and was deleted) meanwhile
                pass

        threading.Thread(target=work, name="bnviz-fanova", daemon=True).start()

    def _deliver(self, gen: int, payload: tuple[dict, str]) -> None:
        if gen == self.generation:
            values, note = payload
            self.finished.emit(values, note or ("" if values else FEW))
