"""The GUI's handle on the training process.

Training runs in a child process (:mod:`bnviz.train.session` says why); this object sends it
commands and turns what it sends back into Qt signals. A small reader thread waits on the event
pipe and emits the signals; Qt queues them to the GUI thread, so widgets are only touched there.
A generation number lets the window drop snapshots of a trainer it has since replaced.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import threading
from concurrent.futures import Future

from PySide6.QtCore import QObject, Signal

from bnviz.train import session

STOP_TIMEOUT_S = 2.0


class TrainingWorker(QObject):
    """Start with :meth:`start`; end with :meth:`stop` (the window does it on close)."""

    snapshot_ready = Signal(object)  # (generation, tuple[Snapshot, ...], steps_per_s)
    error_raised = Signal(str)
    state_changed = Signal(bool)  # playing or not

    def __init__(self, config, data, grid=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        ctx = mp.get_context("spawn")  # never fork a process that has Qt threads
        self._cmd_recv, self._cmd_send = ctx.Pipe(duplex=False)
        self._evt_recv, self._evt_send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=session.serve,
            name="bnviz-trainer",
            daemon=True,
            args=(self._cmd_recv, self._evt_send, config, data, grid),
        )
        self._reader = threading.Thread(target=self._read, name="bnviz-events")
        self._replies: dict[int, Future] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = False
        self.generation = 0

    def start(self) -> None:
        self._process.start()
        self._cmd_recv.close()
        self._evt_send.close()
        self._reader.start()

    # -- commands ------------------------------------------------------------------------------
    def _send(self, cmd: str, arg=None) -> None:
        if self._stopping:
            return
        try:
            with self._lock:
                self._cmd_send.send((cmd, arg))
        except (OSError, BrokenPipeError, ValueError):
            self.error_raised.emit("the training process has stopped; press Reset to restart")

    def play(self) -> None:
        self._send("play", True)

    def pause(self) -> None:
        self._send("play", False)

    def step_once(self) -> None:
        self._send("step")

    def set_hparams(self, **changes) -> None:
        self._send("hparams", changes)

    def set_batchnorm(self, on: bool) -> None:
        self._send("batchnorm", on)

    def set_speed(self, max_steps_per_s: float | None) -> None:
        self._send("speed", max_steps_per_s)

    def request_snapshot(self) -> None:
        self._send("want")

    def replace_trainer(self, config, data, grid=None) -> int:
        """Start a new run in the training process; returns its generation number."""
        self.generation += 1
        self._send("replace", (config, data, grid, self.generation))
        return self.generation

    def call(self, name: str, *args) -> Future:
        """Run the query ``name`` (see :data:`bnviz.train.session.QUERIES`) between two steps;
        the Future holds its value or a RuntimeError with the child's message."""
        future: Future = Future()
        call_id = next(self._ids)
        self._replies[call_id] = future
        self._send("call", (call_id, name, args))
        if self._stopping:
            future.set_exception(RuntimeError("the training process has stopped"))
        return future

    # -- events --------------------------------------------------------------------------------
    def _read(self) -> None:
        while True:
            try:
                kind, *rest = self._evt_recv.recv()
            except (EOFError, OSError):
                break
            if kind == "snapshot":
                self.snapshot_ready.emit(tuple(rest))
            elif kind == "error":
                self.error_raised.emit(rest[0])
            elif kind == "state":
                self.state_changed.emit(rest[0])
            elif kind == "reply":
                call_id, ok, value = rest
                future = self._replies.pop(call_id, None)
                if future is not None:
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(RuntimeError(value))
            elif kind == "stopped":
                break
        for future in self._replies.values():
            if not future.done():
                future.set_exception(RuntimeError("the training process has stopped"))
        self._replies.clear()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """End the training process and the reader thread; True when both ended in time."""
        if not self._process.is_alive() and not self._reader.is_alive():
            return True
        self._send("stop")
        self._stopping = True
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        if self._reader.is_alive():
            self._reader.join(1.0)
        self._cmd_send.close()
        self._evt_recv.close()
        return not self._process.is_alive() and not self._reader.is_alive()

    @property
    def is_running(self) -> bool:
        return self._process.is_alive() or self._reader.is_alive()
