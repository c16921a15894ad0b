"""The GUI's handle on the training process.

Training runs in a child process (:mod:`bnviz.train.session` says why); this object sends it
the commands of :mod:`bnviz.train.protocol` and turns the events it sends back into Qt signals.
A small reader thread waits on the event pipe and emits the signals; Qt queues them to the GUI
thread, so widgets are only touched there. A writer thread sends the commands, so the GUI thread
never waits on the pipe: a new run's data goes down it whole (220 MB for an MNIST-size file,
which blocked the window for 1-2 s while the training process read it). A generation number lets
the window drop snapshots of a trainer it has since replaced.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue
import threading
from collections.abc import Hashable, Sequence
from concurrent.futures import Future

from PySide6.QtCore import QObject, Signal

from bnviz.data import Dataset
from bnviz.train import actions, probes, session
from bnviz.train.config import TrainConfig
from bnviz.train.protocol import (
    ActionRequest,
    Command,
    ErrorRaised,
    Play,
    ProbeRequest,
    Replace,
    Replied,
    RunAction,
    RunProbe,
    SetBatchnorm,
    SetHparams,
    SetSpeed,
    SnapshotTaken,
    StateChanged,
    Step,
    Stop,
    Stopped,
    WantSnapshot,
    send_command,
)

STOP_TIMEOUT_S = 2.0
STOPPED = "the training process has stopped"


class TrainingWorker(QObject):
    """Start with :meth:`start`; end with :meth:`stop` (the window does it on close)."""

    snapshot_ready = Signal(object)  # a protocol.SnapshotTaken
    error_raised = Signal(str)
    state_changed = Signal(bool)  # playing or not
    networks_changed = Signal()  # an action succeeded: what is shown of the networks is stale

    def __init__(self, config: TrainConfig, data: Dataset, parent: QObject | None = None) -> None:
        super().__init__(parent)
        ctx = mp.get_context("spawn")  # never fork a process that has Qt threads
        self._cmd_recv, self._cmd_send = ctx.Pipe(duplex=False)
        self._evt_recv, self._evt_send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=session.serve,
            name="bnviz-trainer",
            daemon=True,
            args=(self._cmd_recv, self._evt_send, config, data),
        )
        self._reader = threading.Thread(target=self._read, name="bnviz-events")
        self._writer = threading.Thread(target=self._write, name="bnviz-commands", daemon=True)
        self._outbox: queue.SimpleQueue[Command | None] = queue.SimpleQueue()  # None: end
        self._replies: dict[int, Future] = {}
        self._actions: set[int] = set()  # call ids of actions not yet answered
        self._ids = itertools.count(1)
        self._stopping = False
        self.generation = 0

    def start(self) -> None:
        self._process.start()
        self._cmd_recv.close()
        self._evt_send.close()
        self._reader.start()
        self._writer.start()

    # -- commands ------------------------------------------------------------------------------
    def _send(self, cmd: Command) -> None:
        """Queue ``cmd`` for the writer thread (commands keep their order)."""
        if not self._stopping:
            self._outbox.put(cmd)

    def _write(self) -> None:
        """The writer thread: pickles and sends the queued commands until told to end."""
        broken = False
        while (cmd := self._outbox.get()) is not None:
            if broken:
                continue
            try:
                send_command(self._cmd_send, cmd)
            except (OSError, BrokenPipeError, ValueError):
                broken = True  # said once; the commands queued after it are dropped
                self.error_raised.emit(f"{STOPPED}; press Reset to restart")

    def play(self) -> None:
        self._send(Play(True))

    def pause(self) -> None:
        self._send(Play(False))

    def step_once(self) -> None:
        self._send(Step())

    def set_hparams(self, **changes: float) -> None:
        self._send(SetHparams(changes))

    def set_batchnorm(self, on: bool) -> None:
        self._send(SetBatchnorm(on))

    def set_speed(self, max_steps_per_s: float | None) -> None:
        self._send(SetSpeed(max_steps_per_s))

    def request_snapshot(self, wanted: Sequence[ProbeRequest] = ()) -> None:
        """Ask for the next snapshot, with the results of the ``wanted`` probes that are due."""
        self._send(WantSnapshot(tuple(wanted)))

    def replace_trainer(self, config: TrainConfig, data: Dataset) -> int:
        """Start a new run in the training process; returns its generation number."""
        self.generation += 1
        self._send(Replace(config, data, self.generation))
        return self.generation

    def run_probe(self, req: ProbeRequest) -> Future:
        """Run a probe now, between two steps; the Future holds its result or a RuntimeError
        with the training process's message."""
        call_id = next(self._ids)
        return self._call(call_id, RunProbe(call_id, req))

    def call(self, name: str, **args: Hashable) -> Future:
        """:meth:`run_probe` of the probe registered as ``name`` with ``args``."""
        return self.run_probe(probes.request(name, **args))

    def run_action(self, req: ActionRequest) -> Future:
        """Run an action (it may change the networks) between two steps; the Future holds its
        result or a RuntimeError with the training process's message. On success
        :attr:`networks_changed` is emitted (before the Future is done)."""
        call_id = next(self._ids)
        self._actions.add(call_id)
        return self._call(call_id, RunAction(call_id, req))

    def act(self, name: str, **args: Hashable) -> Future:
        """:meth:`run_action` of the action registered as ``name`` with ``args``."""
        return self.run_action(actions.request(name, **args))

    def _call(self, call_id: int, cmd: Command) -> Future:
        future: Future = Future()
        self._replies[call_id] = future
        self._send(cmd)
        if self._stopping:
            self._replies.pop(call_id, None)
            future.set_exception(RuntimeError(STOPPED))
        return future

    # -- events --------------------------------------------------------------------------------
    def _read(self) -> None:
        while True:
            try:
                event = self._evt_recv.recv()
            except (EOFError, OSError):
                break
            match event:
                case SnapshotTaken():
                    self.snapshot_ready.emit(event)
                case ErrorRaised(message=message):
                    self.error_raised.emit(message)
                case StateChanged(playing=playing):
                    self.state_changed.emit(playing)
                case Replied(call_id=call_id, ok=ok, value=value):
                    future = self._replies.pop(call_id, None)
                    if call_id in self._actions:
                        self._actions.discard(call_id)
                        if ok:
                            self.networks_changed.emit()
                    if future is not None:
                        if ok:
                            future.set_result(value)
                        else:
                            future.set_exception(RuntimeError(value))
                case Stopped():
                    break
        for future in self._replies.values():
            if not future.done():
                future.set_exception(RuntimeError(STOPPED))
        self._replies.clear()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """End the training process and the reader thread; True when both ended in time."""
        if not self.is_running:
            self._outbox.put(None)  # a writer waiting for commands ends too
            return True
        self._send(Stop())
        self._stopping = True
        self._outbox.put(None)
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        for thread in (self._reader, self._writer):
            if thread.is_alive():
                thread.join(1.0)
        self._cmd_send.close()
        self._evt_recv.close()
        return not self.is_running

    @property
    def pid(self) -> int | None:
        """The training process's id (None before :meth:`start`)."""
        return self._process.pid

    @property
    def is_running(self) -> bool:
        return any(x.is_alive() for x in (self._process, self._reader, self._writer))
