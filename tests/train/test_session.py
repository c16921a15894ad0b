"""The training process driven through its protocol: commands in, events out, through real
pipes to a real spawned session (no Qt), and the probes it runs on request."""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from bnviz.train import session
from bnviz.train.config import TrainConfig
from bnviz.train.probes import request
from bnviz.train.protocol import (
    Command,
    ErrorRaised,
    Play,
    ProbeRequest,
    Replace,
    Replied,
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
)
from bnviz.train.trainer import load_data
from tests import session_probes  # noqa: F401 (registers the test probes here too)

SMALL = TrainConfig(n_samples=200, hidden=(8,), batchnorm=False)
TIMEOUT_S = 30.0
STEP_COUNT = request("test_step_count")


@dataclass
class Child:
    """A session in a spawned process, and everything it has sent."""

    config: TrainConfig
    seen: list[SessionEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        ctx = mp.get_context("spawn")
        cmd_recv, self.commands = ctx.Pipe(duplex=False)
        self.events, evt_send = ctx.Pipe(duplex=False)
        args = (cmd_recv, evt_send, self.config, load_data(self.config))
        self.process = ctx.Process(target=session.serve, args=args, daemon=True)
        self.process.start()
        cmd_recv.close()
        evt_send.close()
        self._ids = iter(range(1, 10**6))

    def send(self, *cmds: Command) -> None:
        for cmd in cmds:
            self.commands.send(cmd)

    def expect(self, kind: type) -> SessionEvent:
        """The next event of type ``kind``; the ones before it are appended to ``seen``."""
        deadline = time.monotonic() + TIMEOUT_S
        while self.events.poll(max(0.0, deadline - time.monotonic())):
            event = self.events.recv()
            if isinstance(event, kind):
                return event
            self.seen.append(event)
        raise AssertionError(f"no {kind.__name__} within {TIMEOUT_S} s; got {self.seen}")

    def snapshot(self, *probes: ProbeRequest) -> SnapshotTaken:
        self.send(WantSnapshot(probes))
        taken = self.expect(SnapshotTaken)
        assert isinstance(taken, SnapshotTaken)
        return taken

    def call(self, req: ProbeRequest) -> Replied:
        call_id = next(self._ids)
        self.send(RunProbe(call_id, req))
        reply = self.expect(Replied)
        assert isinstance(reply, Replied) and reply.call_id == call_id
        return reply

    def value(self, req: ProbeRequest) -> object:
        reply = self.call(req)
        assert reply.ok, reply.value
        return reply.value

    def errors(self) -> list[str]:
        out = [e.message for e in self.seen if isinstance(e, ErrorRaised)]
        self.seen.clear()
        return out

    def stop(self) -> None:
        if self.process.is_alive():
            self.send(Stop())
            self.expect(Stopped)
            self.process.join(5.0)
        assert not self.process.is_alive()


@pytest.fixture
def child():
    made: list[Child] = []

    def make(config: TrainConfig = SMALL) -> Child:
        made.append(Child(config))
        return made[-1]

    yield make
    for c in made:
        c.stop()


def test_commands_in_events_out(child):
    c = child()
    first = c.snapshot()
    assert first.generation == 0 and first.snapshots[0].step == 0 and first.probes == {}
    c.send(Play(True))
    assert c.expect(StateChanged) == StateChanged(True)
    while c.snapshot().snapshots[0].step < 20:
        pass
    c.send(Play(False))
    assert c.expect(StateChanged) == StateChanged(False)
    steps = c.value(STEP_COUNT)
    c.send(Step())
    assert c.value(STEP_COUNT) == steps + 1
    # live hyperparameters, and a refused one reported without ending the session
    c.send(SetHparams({"lr": 0.003, "batch_size": 16}))
    assert c.value(request("test_hyper"))["lr"] == 0.003
    c.send(SetHparams({"lr": -1.0}))
    c.value(STEP_COUNT)
    assert any("learning rate" in m for m in c.errors())
    # BN switched on without a jump in the outputs on the last batch
    (before,) = c.value(request("test_last_batch_output"))
    c.send(SetBatchnorm(True))
    assert c.value(request("test_batchnorm_flags")) == (True,)
    (after,) = c.value(request("test_last_batch_output"))
    np.testing.assert_allclose(after, before, atol=1e-4)
    # a speed limit holds (an upper bound only: a busy machine may be slower)
    c.send(SetSpeed(20.0), Play(True))
    c.expect(StateChanged)
    start, t0 = c.value(STEP_COUNT), time.perf_counter()
    while time.perf_counter() - t0 < 0.5:
        c.snapshot()
    assert c.value(STEP_COUNT) - start <= 20.0 * (time.perf_counter() - t0) + 2
    c.send(SetSpeed(None))
    # a new run: its first snapshot comes unasked, under the new generation
    other = TrainConfig(n_samples=150, hidden=(4, 4), compare=True)
    c.send(Replace(other, load_data(other), 7))
    taken = c.expect(SnapshotTaken)
    while taken.generation != 7:  # one of the old run may still have been on its way
        taken = c.expect(SnapshotTaken)
    assert [s.run for s in taken.snapshots] == ["bn", "plain"]
    assert len(taken.snapshots[0].layers) == 2
    # an unknown probe is an answer, not a crash
    reply = c.call(ProbeRequest("no_such_probe"))
    assert not reply.ok and "no probe named 'no_such_probe'" in str(reply.value)
    c.stop()


def test_a_probe_arrives_only_while_requested_and_at_its_rate(child):
    c = child()
    every5 = request("test_every_5_steps", offset=1000)
    assert every5.kwargs == {"offset": 1000} and every5.module == "tests.session_probes"
    assert c.snapshot(every5).probes == {every5: 1000}  # asked for the first time: runs at once
    assert c.snapshot().probes == {}  # not asked for: not run
    c.send(Step(), Step(), Step())
    assert c.snapshot(every5).probes == {every5: 1003}  # asked again: at once
    c.send(Step(), Step())
    assert c.snapshot(every5).probes == {}  # 2 steps since: not due
    c.send(Step(), Step(), Step())
    assert c.snapshot(every5).probes == {every5: 1008}
    assert c.snapshot(every5).probes == {}  # no step since: not due
    minute = request("test_once_a_minute")
    assert c.snapshot(minute, STEP_COUNT).probes == {minute: 8, STEP_COUNT: 8}
    c.send(Step())
    assert c.snapshot(minute, STEP_COUNT).probes == {STEP_COUNT: 9}  # on request: every time
    assert c.errors() == []


def test_a_raising_probe_is_an_error_event_and_the_session_goes_on(child):
    c = child()
    broken, unpicklable = request("test_raises"), request("test_unpicklable")
    taken = c.snapshot(broken, STEP_COUNT)
    assert taken.probes == {STEP_COUNT: 0}
    assert c.errors() == ["probe test_raises: ValueError: broken on purpose"]
    c.send(Step())
    assert c.snapshot(broken, STEP_COUNT).probes == {STEP_COUNT: 1}
    assert c.errors() == []  # the same error is reported once
    taken = c.snapshot(unpicklable, STEP_COUNT)
    assert taken.probes == {STEP_COUNT: 1}
    (message,) = c.errors()
    assert message.startswith("probe test_unpicklable:")
    reply = c.call(broken)
    assert not reply.ok and "broken on purpose" in str(reply.value)
    c.send(Play(True))
    while c.snapshot().snapshots[0].step < 10:  # still training
        pass


def test_a_data_set_travels_out_of_band_and_arrives_whole():
    """send_command sends a Replace's arrays as raw buffers after a small header; recv_command
    puts them back; a command without arrays, or one sent by ``Connection.send``, reads too."""
    from bnviz.train.protocol import Buffered, recv_command, send_command

    data = load_data(SMALL)
    recv, send = mp.Pipe(duplex=False)
    send_command(send, Replace(SMALL, data, 7))
    header = recv.recv()
    assert isinstance(header, Buffered) and header.n_buffers >= 4  # X, y of train and val
    buffers = [recv.recv_bytes() for _ in range(header.n_buffers)]
    assert sum(len(b) for b in buffers) >= data.X_train.nbytes + data.X_val.nbytes
    send_command(send, Replace(SMALL, data, 8))
    send_command(send, Play(True))
    send.send(Step())
    got = recv_command(recv)
    assert isinstance(got, Replace) and got.generation == 8 and got.config == SMALL
    for name in ("X_train", "y_train", "X_val", "y_val", "mean", "std"):
        np.testing.assert_array_equal(getattr(got.data, name), getattr(data, name))
    assert recv_command(recv) == Play(True)
    assert recv_command(recv) == Step()


def test_a_session_reads_a_replace_sent_out_of_band(child):
    from bnviz.train.protocol import send_command

    c = child()
    other = TrainConfig(n_samples=300, hidden=(5, 4), batchnorm=False)
    send_command(c.commands, Replace(other, load_data(other), 3))
    taken = c.expect(SnapshotTaken)
    while taken.generation != 3:  # the first run's snapshot may come first
        taken = c.expect(SnapshotTaken)
    assert len(taken.snapshots[0].layers) == 2


def test_layer_statistics_are_spaced_while_playing_and_fresh_when_paused():
    commands, _ = mp.Pipe(duplex=False)
    events, sent = mp.Pipe(duplex=False)
    s = session.Session(commands, sent, SMALL, load_data(SMALL))
    s.playing = True

    def snap() -> np.ndarray:
        s.wanted = ()
        s._send_snapshot(time.perf_counter())
        taken = events.recv()
        assert isinstance(taken, SnapshotTaken)
        return taken.snapshots[0].layers[0].percentiles

    first = snap()  # the first is always fresh
    assert s.stats_interval > 0  # the next is spaced by the cost of this one
    s.trainer.run(50)
    s.stats_interval = 60.0  # as for a network whose statistics cost a lot
    np.testing.assert_array_equal(snap(), first)  # the last statistics, carried
    s.playing = False  # paused: a single step must show at once
    changed = snap()
    assert not np.array_equal(changed, first)
