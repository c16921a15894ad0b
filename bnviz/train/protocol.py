"""The messages between the app and its training process, one frozen dataclass each.

The app (:class:`bnviz.gui.worker.TrainingWorker`) sends a :data:`Command` down one pipe; the
training process (:class:`bnviz.train.session.Session`) sends :data:`SessionEvent` s up the
other. Both ends match on the type (``match cmd: case Play(on=on): ...``). Every message is
picklable; a :class:`SnapshotTaken` holds only immutable snapshots and probe results.

Snapshots are pulled, not pushed: the app sends :class:`WantSnapshot` when it has drawn the
last one and the session answers with one :class:`SnapshotTaken`, so they never pile up and no
loss value between two of them is dropped. :class:`Replace` starts a new run under a new
generation number; every :class:`SnapshotTaken` carries the generation it belongs to, so the
app drops one from a trainer it has since replaced.

Probes (:mod:`bnviz.train.probes`) ride on the same two messages: a view that is shown adds a
:class:`ProbeRequest` to every :class:`WantSnapshot`, and the probe's result comes back in
``SnapshotTaken.probes`` whenever its rate says it is due. :class:`RunProbe` runs one at once
and answers with :class:`Replied` (the app's metrics export and model save do this). A new
probe needs no new message.

Actions (:mod:`bnviz.train.actions`) are the one way the app changes a network other than by
training it (a lesson setting a unit's gamma and beta): :class:`RunAction` runs one between two
steps and is answered with :class:`Replied` like :class:`RunProbe`.
"""

from __future__ import annotations

import pickle
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, ClassVar

from bnviz.data import Dataset
from bnviz.train.config import TrainConfig
from bnviz.train.snapshot import Snapshot


@dataclass(frozen=True)
class Request:
    """A registered function asked for by name, with its keyword arguments: a
    :class:`ProbeRequest` or an :class:`ActionRequest`.

    ``args`` are (name, value) pairs sorted by name, values hashable (numbers, strings, tuples),
    so a request is a dictionary key. ``module`` registers the function; the training process
    imports it if it has not yet (a lesson's or a test's).
    """

    kind: ClassVar[str] = "call"

    name: str
    args: tuple[tuple[str, Hashable], ...] = ()
    module: str = ""

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)


@dataclass(frozen=True)
class ProbeRequest(Request):
    """A probe asked for (make one with :func:`bnviz.train.probes.request`); the key of its
    result in :attr:`SnapshotTaken.probes`."""

    kind: ClassVar[str] = "probe"


@dataclass(frozen=True)
class ActionRequest(Request):
    """An action asked for (make one with :func:`bnviz.train.actions.request`)."""

    kind: ClassVar[str] = "action"


# -- commands: app -> training process ---------------------------------------------------------
@dataclass(frozen=True)
class Play:
    """Train continuously (``on``) or pause; answered by :class:`StateChanged`."""

    on: bool


@dataclass(frozen=True)
class Step:
    """Train one mini-batch (while paused: the single-step button)."""


@dataclass(frozen=True)
class SetHparams:
    """Change live hyperparameters (:meth:`Trainer.set_hparams`) from the next step on; a
    refused change comes back as :class:`ErrorRaised`."""

    changes: Mapping[str, float]


@dataclass(frozen=True)
class SetBatchnorm:
    """Switch batch norm on or off in the live network(s), without a jump in the loss."""

    on: bool


@dataclass(frozen=True)
class SetSpeed:
    """Train at most ``max_steps_per_s`` steps a second; None = as fast as it goes."""

    max_steps_per_s: float | None


@dataclass(frozen=True)
class Replace:
    """Start a new run on ``config`` and ``data``; its snapshots carry ``generation``. The
    session sends the new run's first snapshot unasked."""

    config: TrainConfig
    data: Dataset
    generation: int


@dataclass(frozen=True)
class WantSnapshot:
    """Send the next :class:`SnapshotTaken`, with the results of those ``probes`` that are due."""

    probes: tuple[ProbeRequest, ...] = ()


@dataclass(frozen=True)
class RunProbe:
    """Run ``probe`` now, whatever its rate, and answer with :class:`Replied` (``call_id``)."""

    call_id: int
    probe: ProbeRequest


@dataclass(frozen=True)
class RunAction:
    """Run ``request`` (an action: it may change the networks) now, between two steps, and
    answer with :class:`Replied` (``call_id``)."""

    call_id: int
    request: ActionRequest


@dataclass(frozen=True)
class Stop:
    """End the session; answered by :class:`Stopped`."""


Command = (
    Play
    | Step
    | SetHparams
    | SetBatchnorm
    | SetSpeed
    | Replace
    | WantSnapshot
    | RunProbe
    | RunAction
    | Stop
)


# -- sending big commands ----------------------------------------------------------------------
@dataclass(frozen=True)
class Buffered:
    """A command pickled with its arrays left out (pickle protocol 5, out of band); the arrays
    follow as ``n_buffers`` raw byte messages. ``Connection.send`` would copy a data set into
    one pickle while holding the GIL (220 MB for an MNIST-size file: the app's window froze
    for 1-2 s); raw buffers are written straight from the arrays, the GIL let go meanwhile."""

    pickled: bytes
    n_buffers: int


def send_command(conn: Connection, cmd: Command) -> None:
    """Send ``cmd`` down ``conn``, its large arrays as raw buffers (read by
    :func:`recv_command`; a command without arrays goes as ``conn.send`` sends it)."""
    buffers: list[pickle.PickleBuffer] = []
    pickled = pickle.dumps(cmd, protocol=5, buffer_callback=buffers.append)
    if not buffers:
        conn.send_bytes(pickled)
        return
    conn.send(Buffered(pickled, len(buffers)))
    for buffer in buffers:
        conn.send_bytes(buffer.raw())


def recv_command(conn: Connection) -> Command:
    """The next command from ``conn``, sent by :func:`send_command` or ``conn.send``."""
    msg = conn.recv()
    if isinstance(msg, Buffered):
        buffers = [conn.recv_bytes() for _ in range(msg.n_buffers)]
        msg = pickle.loads(msg.pickled, buffers=buffers)
    return msg


# -- events: training process -> app -----------------------------------------------------------
@dataclass(frozen=True)
class SnapshotTaken:
    """One snapshot per network (BN first in compare mode), the training speed, and the
    results of the requested probes that ran for it (a probe not due is absent)."""

    generation: int
    snapshots: tuple[Snapshot, ...]
    steps_per_s: float
    probes: Mapping[ProbeRequest, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorRaised:
    """Something went wrong that the user should read (a refused setting, a training error,
    a probe that raised); the session goes on."""

    message: str


@dataclass(frozen=True)
class StateChanged:
    """Training is now playing or paused (also when the session paused itself: divergence)."""

    playing: bool


@dataclass(frozen=True)
class Replied:
    """The answer to :class:`RunProbe` or :class:`RunAction` ``call_id``: the probe's or the
    action's result when ``ok``, else the error's message."""

    call_id: int
    ok: bool
    value: object


@dataclass(frozen=True)
class Stopped:
    """The session has ended; nothing follows."""


SessionEvent = SnapshotTaken | ErrorRaised | StateChanged | Replied | Stopped
