"""Runs a round of trials off the GUI thread and reports back through queued signals.

Two kinds of background work, both plain Python threads (the trials themselves run in worker
processes or on Dask, so these threads only wait):

* making the executor (spawning a process pool or connecting to Dask takes about a second,
  which would freeze the window): done early by :meth:`SweepRunner.prepare`, reused across
  rounds while the worker count and scheduler stay the same;
* :meth:`Sweep.run`, which stores every trial in the study and calls back per trial.

Widgets are never touched here: every result crosses to the GUI thread as a queued signal
carrying the run's generation, so results of a superseded run can be told apart.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal

from bnviz.search.sweep import ExecutorHandle, Sweep, SweepError, WorkersLost, make_executor

JOIN_TIMEOUT_S = 5.0  # closing waits at most this long for a thread to notice the cancel


class SweepRunner(QObject):
    """Owns the executor and the background threads of the explorer."""

    executor_ready = Signal(str)  # the executor's description
    executor_failed = Signal(str)
    trial_finished = Signal(int, object)  # generation, TrialRecord
    sweep_finished = Signal(int, int, bool)  # generation, trials stored, cancelled
    sweep_failed = Signal(int, str)  # generation, message
    status = Signal(str)  # what a running round has to say (a Dask cluster lost its workers)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Only background threads take this lock (it is held while an executor starts), so
        # the GUI thread never waits on it.
        self._exec_lock = threading.Lock()
        self._handle: ExecutorHandle | None = None
        self._key: tuple | None = None
        self._threads: list[threading.Thread] = []
        self._cancel = threading.Event()
        self._closed = False
        self.generation = 0
        self.description = ""

    @property
    def running(self) -> bool:
        return any(t.is_alive() and t.name == "bnviz-sweep" for t in self._threads)

    # -- executor ------------------------------------------------------------------------------
    def prepare(self, workers: int, scheduler: str | None) -> None:
        """Start the executor for (workers, scheduler) in the background, if not there yet."""
        key = (workers, scheduler or None)
        if self._closed or self._key == key:
            return
        self._spawn("bnviz-executor", self._prepare, key)

    def _prepare(self, key: tuple) -> None:
        try:
            handle = self._ensure(key)
        except SweepError as e:
            self._emit(self.executor_failed, str(e))
            return
        except Exception as e:  # a worker that died while warming up: report, retry at Start
            self._drop()
            self._emit(self.executor_failed, f"could not start workers: {type(e).__name__}: {e}")
            return
        self._emit(self.executor_ready, handle.description)

    def _ensure(self, key: tuple) -> ExecutorHandle:
        """The executor for ``key``, made here (in a background thread) if need be."""
        with self._exec_lock:
            if self._closed:
                raise SweepError("the explorer is closing")
            if self._handle is not None and self._key == key:
                return self._handle
            old, self._handle, self._key = self._handle, None, None
            if old is not None:
                old.close(wait=False)
            handle = make_executor(key[0], key[1])
            if self._closed:  # the window closed while we were starting workers
                handle.close(wait=False)
                raise SweepError("the explorer is closing")
            self._handle, self._key, self.description = handle, key, handle.description
            return handle

    def _drop(self) -> None:
        """Forget a broken executor (a worker died) so the next round makes a fresh one."""
        with self._exec_lock:
            if self._handle is not None:
                self._handle.close(wait=False)
            self._handle, self._key = None, None

    # -- rounds --------------------------------------------------------------------------------
    def start(self, sweep: Sweep, workers: int, scheduler: str | None) -> int:
        """Run ``sweep`` in the background; returns its generation (0 if one is running)."""
        if self._closed or self.running:
            return 0
        self.generation += 1
        self._cancel = threading.Event()
        key = (workers, scheduler or None)
        self._spawn("bnviz-sweep", self._run, self.generation, sweep, key, self._cancel)
        return self.generation

    def cancel(self) -> None:
        """Drop the trials not started yet; the running round returns within ~0.1 s."""
        self._cancel.set()

    def _run(self, gen: int, sweep: Sweep, key: tuple, cancel: threading.Event) -> None:
        try:
            handle = self._ensure(key)
            self._emit(self.executor_ready, handle.description)
            records = sweep.run(handle, lambda r: self._emit(self.trial_finished, gen, r), cancel,
                                on_status=lambda m: self._emit(self.status, m))  # fmt: skip
        except SweepError as e:
            if isinstance(e, WorkersLost):  # a broken pool: the next round starts a new one
                self._drop()
            self._emit(self.sweep_failed, gen, str(e))
        except Exception as e:  # a broken pool, a study gone: report it, never kill the app
            self._drop()
            self._emit(self.sweep_failed, gen, f"{type(e).__name__}: {e}")
        else:
            self._emit(self.sweep_finished, gen, len(records), cancel.is_set())

    # -- lifetime ------------------------------------------------------------------------------
    def _spawn(self, name: str, target, *args) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        t = threading.Thread(target=target, args=args, name=name)
        self._threads.append(t)
        t.start()

    def _emit(self, signal, *args) -> None:
        """Emit from a background thread; a runner already deleted by Qt is not an error."""
        try:
            signal.emit(*args)
        except RuntimeError:
            pass

    def shutdown(self) -> None:
        """Cancel, wait for the threads, close the executor. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._cancel.set()
        for t in self._threads:
            t.join(JOIN_TIMEOUT_S)
        with self._exec_lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            # No waiting for trials still running in workers: their results are not wanted.
            handle.close(wait=False)


def connect_queued(signal, slot) -> None:
    """Connect across threads explicitly: the slot runs on the receiver's (GUI) thread."""
    signal.connect(slot, Qt.ConnectionType.QueuedConnection)
