"""A training session that runs in its own process and talks through two pipes.

Why a process and not a thread: a NumPy trainer and a Qt GUI in one process fight over the GIL.
PySide releases and re-takes the GIL around its C++ calls, thousands per painted frame, and each
re-take may wait for the trainer thread; measured here, a thread-based app drew 2-4 frames a
second in compare mode. In a process of its own the trainer has a core to itself and the GUI
the other.

The messages are the dataclasses of :mod:`bnviz.train.protocol`; what views measure beyond the
snapshots are probes (:mod:`bnviz.train.probes`), run here when asked for and due.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from bnviz.data import Dataset
from bnviz.train import actions
from bnviz.train.actions import ActionContext
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.probes import ProbeContext, ProbeRunner, describe_error
from bnviz.train.protocol import (
    Command,
    ErrorRaised,
    Play,
    ProbeRequest,
    Replace,
    Replied,
    Request,
    RunAction,
    RunProbe,
    SessionEvent,
    SetBatchnorm,
    SetHparams,
    SetSpeed,
    SnapshotTaken,
    StateChanged,
    Step,
    Stop,
    Stopped,
    WantSnapshot,
    recv_command,
)
from bnviz.train.trainer import LIVE_EVAL_ROWS, Trainer

EVAL_INTERVAL_S = 0.25
# Live evaluations take at most this share of the training process's time: an evaluation of
# 5,000 MNIST rows on a 784-256-256-10 network takes ~55 ms, which every 0.25 s was 22% of it;
# such a run is evaluated every ~1.1 s instead (small networks keep the 0.25 s). 5%, not the
# first 10%: training inside the app should run at >= 0.85 of headless (issue 21), and the
# snapshots with their probes take another 3-6% of the training process.
EVAL_SHARE = 0.05
# The same for the snapshots' layer statistics (the probe batch through the network, then the
# histograms): 30 a second took ~7% of the MNIST-size run's process (~2 ms each); spaced to take
# at most 5%, they come ~20 times a second there (every snapshot for small networks), the
# snapshots in between carrying the last ones.
STATS_SHARE = 0.05
SLICE_S = 0.004  # train this long between looks at the command pipe
# Within a slice, look at the pipe no more often than this: a poll() after every step of a small
# network (0.5 ms) was ~7% of the training process (a system call each), for commands that may
# as well wait a millisecond.
POLL_S = 0.001
IDLE_WAIT_S = 0.05
PROFILE_ENV = "BNVIZ_TRAINER_PROFILE"
IDLE_RATE_S = 1.0  # no step for this long: the rate shown is 0
DIVERGED = "every network has diverged: lower the learning rate (or switch BN on) and press Reset"

T = TypeVar("T")


class Session:
    """The child's loop: steps the trainer, obeys commands, answers snapshot requests."""

    def __init__(
        self, commands: Connection, events: Connection, config: TrainConfig, data: Dataset
    ) -> None:
        self.commands, self.events = commands, events
        self.trainer = Trainer(config, data)
        self.trainer.limit_evaluation(LIVE_EVAL_ROWS)
        self.generation = 0
        self.playing, self.stopped = False, False
        # The probes of the pending snapshot request; None: no snapshot wanted.
        self.wanted: tuple[ProbeRequest, ...] | None = None
        self.asked: tuple[ProbeRequest, ...] = ()  # those of the last request
        self.max_steps_per_s: float | None = None
        self.rate = _Rate()
        self.probes = ProbeRunner()
        self.last_eval = 0.0
        self.eval_interval = EVAL_INTERVAL_S
        self.last_stats = 0.0
        self.stats_interval = 0.0

    def _evaluate(self) -> None:
        """Evaluate, and space the next evaluation so that they take at most EVAL_SHARE."""
        t = time.perf_counter()
        self._safe(self.trainer.evaluate)
        self.eval_interval = max(EVAL_INTERVAL_S, (time.perf_counter() - t) / EVAL_SHARE)

    def run(self) -> None:
        self.trainer.evaluate()
        while not self.stopped:
            wait = 0.0 if self.playing else IDLE_WAIT_S
            stepped = False
            if self.commands.poll(wait):
                stepped = self._obey(recv_command(self.commands))
            elif self.playing:
                stepped = self._train_slice()
            now = time.perf_counter()
            if stepped and now - self.last_eval > self.eval_interval:
                self._evaluate()
                self.last_eval = now
            if self.wanted is not None and not self.stopped:
                self._send_snapshot(now)
        self._send(Stopped())

    def _obey(self, cmd: Command) -> bool:
        """Carry out ``cmd``; True when it trained a step."""
        t = self.trainer
        match cmd:
            case Play(on=on):
                self.playing = on
                self._send(StateChanged(on))
            case Step():
                self._safe(t.step)
                self.rate.add(1)
                self.last_eval = 0.0  # show the effect of a single step at once
                return True
            case SetHparams(changes=changes):
                self._safe(t.set_hparams, **changes)
            case SetBatchnorm(on=on):
                self._safe(t.set_batchnorm, on)
            case SetSpeed(max_steps_per_s=limit):
                self.max_steps_per_s = limit
            case WantSnapshot(probes=probes):
                self.wanted = self.asked = probes
            case Replace(config=config, data=data, generation=generation):
                self._replace(config, data, generation)
            case RunProbe(call_id=call_id, probe=req):
                self._reply(call_id, req, lambda: self.probes.run(req, ProbeContext(t)))
            case RunAction(call_id=call_id, request=act):
                self._reply(call_id, act, lambda: actions.run(act, ActionContext(t)))
                self.probes.rerun()  # the views see the change in the next snapshot
            case Stop():
                self.stopped = True
            case _:
                self._send(ErrorRaised(f"the training process got an unknown command: {cmd!r}"))
        return False

    def _replace(self, config: TrainConfig, data: Dataset, generation: int) -> None:
        trainer = self._safe(Trainer, config, data)
        if trainer is None:
            return
        trainer.limit_evaluation(LIVE_EVAL_ROWS)
        self.trainer, self.generation = trainer, generation
        self.rate = _Rate()
        self.probes.reset()
        self.last_eval = 0.0
        self.last_stats = self.stats_interval = 0.0
        self._evaluate()
        self.wanted = self.asked  # show the new run at once, with what the views asked for

    def _reply(self, call_id: int, req: Request, call: Callable[[], object]) -> None:
        """Run ``call`` (``req``'s probe or action) and answer with :class:`Replied`."""
        try:
            value = call()
            self._send(Replied(call_id, True, value))  # an unpicklable value raises here
        except (EOFError, BrokenPipeError):
            raise
        except Exception as e:  # handed back to the caller, who reports it
            self._send(Replied(call_id, False, describe_error(req, e)))

    def _train_slice(self) -> bool:
        t = self.trainer
        start = time.perf_counter()
        end, polled, n = start + SLICE_S, start, 0
        while (now := time.perf_counter()) < end:
            self._safe(t.step)
            n += 1
            if self.max_steps_per_s:
                time.sleep(1.0 / self.max_steps_per_s)
                break
            if now - polled >= POLL_S:
                polled = now
                if self.commands.poll():
                    break
        self.rate.add(n)
        if t.all_diverged:
            self.playing = False
            self._send(StateChanged(False))
            self._send(ErrorRaised(DIVERGED))
        return n > 0

    def _send_snapshot(self, now: float) -> None:
        requests, self.wanted = self.wanted or (), None
        # paused, a snapshot follows a single step (N) or an action: always fresh then
        fresh = not self.playing or now - self.last_stats >= self.stats_interval
        started = time.perf_counter()
        snaps = self._safe(self.trainer.snapshot, fresh)
        if snaps is None:
            return
        if fresh:
            self.last_stats = now
            self.stats_interval = (time.perf_counter() - started) / STATS_SHARE
        results, errors = self.probes.collect(requests, ProbeContext(self.trainer), now)
        for message in errors:
            self._send(ErrorRaised(message))
        taken = SnapshotTaken(self.generation, snaps, self.rate.per_second(), results)
        try:
            self.events.send(taken)
        except (pickle.PicklingError, TypeError, AttributeError):
            # Connection.send pickles before it writes: nothing went down the pipe. Name the
            # probe whose result cannot travel and send the snapshot without it.
            for req, value in list(results.items()):
                try:
                    pickle.dumps(value)
                except Exception as e:
                    self._send(ErrorRaised(describe_error(req, e)))
                    del results[req]
            self._send(SnapshotTaken(self.generation, snaps, self.rate.per_second(), results))

    def _send(self, event: SessionEvent) -> None:
        self.events.send(event)

    def _safe(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return fn(*args, **kwargs)
        except ConfigError as e:
            self._send(ErrorRaised(str(e)))
        except Exception as e:  # a training error must not end the session
            self._send(ErrorRaised(f"training error: {type(e).__name__}: {e}"))
        return None


def serve(commands: Connection, events: Connection, config: TrainConfig, data: Dataset) -> None:
    """Entry point of the child process. ``BNVIZ_TRAINER_PROFILE=FILE`` writes a cProfile of
    the whole session to FILE when it ends (where the in-app training time goes, beside what
    ``bnviz bench --gui`` measures)."""
    from bnviz.nn.fpenv import flush_denormals

    flush_denormals()  # this thread only trains: stay flushed rather than switch every step
    profile_to = os.environ.get(PROFILE_ENV)
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        Session(commands, events, config, data).run()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the parent went away: nothing left to do
    finally:
        if profiler is not None and profile_to:
            profiler.disable()
            with contextlib.suppress(OSError):
                profiler.dump_stats(profile_to)


class _Rate:
    """Steps per second over the last couple of seconds."""

    def __init__(self) -> None:
        self._marks: list[tuple[float, int]] = [(time.perf_counter(), 0)]
        self._total = 0

    def add(self, n: int) -> None:
        self._total += n
        now = time.perf_counter()
        self._marks.append((now, self._total))
        while len(self._marks) > 2 and now - self._marks[1][0] > 2.0:
            self._marks.pop(0)

    def per_second(self) -> float:
        (t0, n0), (t1, n1) = self._marks[0], self._marks[-1]
        if time.perf_counter() - t1 > IDLE_RATE_S:  # paused: no steps lately
            return 0.0
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
