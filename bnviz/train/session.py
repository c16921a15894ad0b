"""A training session that runs in its own process and talks through two pipes.

Why a process and not a thread: a NumPy trainer and a Qt GUI in one process fight over the GIL.
PySide releases and re-takes the GIL around its C++ calls, thousands per painted frame, and each
re-take may wait for the trainer thread; measured here, a thread-based app drew 2-4 frames a
second in compare mode. In a process of its own the trainer has a core to itself and the GUI
the other.

Protocol. Commands (parent -> child) are ``(name, arg)`` tuples: ``play`` (bool), ``step``,
``hparams`` (dict), ``batchnorm`` (bool), ``speed`` (max steps/s or None), ``replace``
((config, data, grid, generation)), ``want`` (send the next snapshot), ``call`` ((id, name,
args): one of :data:`QUERIES`), ``stop``. Events (child -> parent): ``("snapshot", generation,
snapshots, steps_per_s)``, ``("error", message)``, ``("state", playing)``, ``("reply", id, ok,
value)``, ``("stopped", None)``. The parent asks for a snapshot when it has drawn the last one,
so snapshots never pile up and no loss value between two of them is dropped.
"""

from __future__ import annotations

import time
from pathlib import Path

from bnviz.train.config import ConfigError
from bnviz.train.trainer import Trainer

EVAL_INTERVAL_S = 0.25
GRID_INTERVAL_S = 0.25
SLICE_S = 0.004  # train this long between looks at the command pipe
IDLE_WAIT_S = 0.05
IDLE_RATE_S = 1.0  # no step for this long: the rate shown is 0


# -- queries the parent may run on the trainer between two steps ---------------------------------
def step_count(t: Trainer) -> int:
    return t.step_count


def hyper(t: Trainer) -> dict:
    """The live optimizer settings of the first network, and the batch size."""
    h = t.runs[0].opt.hyper
    return {"lr": h.lr, "momentum": h.beta, "beta2": h.beta2, "batch_size": t.batch_size}


def batchnorm_flags(t: Trainer) -> list[bool]:
    return [r.net.batchnorm for r in t.runs]


def last_batch_output(t: Trainer) -> list:
    """Train-mode logits of every network on the last mini-batch (checks the BN flip)."""
    return [r.net.trace(t._last_batch, mode="train")[1] for r in t.runs]


def metrics(t: Trainer) -> list[dict]:
    return list(t.metrics)


def save_models(t: Trainer, path: str) -> list[str]:
    """Save each network; compare mode writes NAME-bn.npz and NAME-plain.npz."""
    p, out = Path(path), []
    for r in t.runs:
        target = p if len(t.runs) == 1 else p.with_name(f"{p.stem}-{r.name}.npz")
        r.net.save(target)
        out.append(str(target))
    return out


QUERIES = {
    f.__name__: f
    for f in (step_count, hyper, batchnorm_flags, last_batch_output, metrics, save_models)
}


class Session:
    """The child's loop: steps the trainer, obeys commands, answers snapshot requests."""

    def __init__(self, commands, events, config, data, grid) -> None:
        self.commands, self.events = commands, events
        self.trainer = Trainer(config, data)
        self.grid, self.generation = grid, 0
        self.playing, self.wanted, self.stopped = False, False, False
        self.max_steps_per_s: float | None = None
        self.rate = _Rate()
        self.last_eval = self.last_grid = 0.0

    def run(self) -> None:
        self.trainer.evaluate()
        while not self.stopped:
            wait = 0.0 if self.playing else IDLE_WAIT_S
            stepped = False
            if self.commands.poll(wait):
                stepped = self._obey(*self.commands.recv())
            elif self.playing:
                stepped = self._train_slice()
            now = time.perf_counter()
            if stepped and now - self.last_eval > EVAL_INTERVAL_S:
                self._safe(self.trainer.evaluate)
                self.last_eval = now
            if self.wanted and not self.stopped:
                self._send_snapshot(now)
        self.events.send(("stopped", None))

    def _obey(self, cmd: str, arg) -> bool:
        t = self.trainer
        if cmd == "play":
            self.playing = bool(arg)
            self.events.send(("state", self.playing))
        elif cmd == "step":
            self._safe(t.step)
            self.rate.add(1)
            self.last_eval = 0.0  # show the effect of a single step at once
            return True
        elif cmd == "hparams":
            self._safe(t.set_hparams, **arg)
        elif cmd == "batchnorm":
            self._safe(t.set_batchnorm, arg)
        elif cmd == "speed":
            self.max_steps_per_s = arg
        elif cmd == "want":
            self.wanted = True
        elif cmd == "replace":
            self._replace(*arg)
        elif cmd == "call":
            self._call(*arg)
        elif cmd == "stop":
            self.stopped = True
        return False

    def _replace(self, config, data, grid, generation) -> None:
        trainer = self._safe(Trainer, config, data)
        if trainer is None:
            return
        self.trainer, self.grid, self.generation = trainer, grid, generation
        self.rate = _Rate()
        self.last_eval = self.last_grid = 0.0
        self._safe(trainer.evaluate)
        self.wanted = True

    def _call(self, call_id: int, name: str, args: tuple) -> None:
        try:
            value = QUERIES[name](self.trainer, *args)
            self.events.send(("reply", call_id, True, value))
        except Exception as e:  # handed back to the caller, who reports it
            self.events.send(("reply", call_id, False, f"{type(e).__name__}: {e}"))

    def _train_slice(self) -> bool:
        t = self.trainer
        end, n = time.perf_counter() + SLICE_S, 0
        while time.perf_counter() < end:
            self._safe(t.step)
            n += 1
            if self.max_steps_per_s:
                time.sleep(1.0 / self.max_steps_per_s)
                break
            if self.commands.poll():
                break
        self.rate.add(n)
        if t.all_diverged:
            self.playing = False
            self.events.send(("state", False))
            self.events.send(
                (
                    "error",
                    "every network has diverged: lower the learning rate "
                    "(or switch BN on) and press Reset",
                )
            )
        return n > 0

    def _send_snapshot(self, now: float) -> None:
        self.wanted = False
        with_grid = self.grid is not None and now - self.last_grid > GRID_INTERVAL_S
        if with_grid:
            self.last_grid = now
        snaps = self._safe(self.trainer.snapshot, self.grid if with_grid else None)
        if snaps is not None:
            self.events.send(("snapshot", self.generation, snaps, self.rate.per_second()))

    def _safe(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as e:
            self.events.send(("error", str(e)))
        except Exception as e:  # a training error must not end the session
            self.events.send(("error", f"training error: {type(e).__name__}: {e}"))
        return None


def serve(commands, events, config, data, grid) -> None:
    """Entry point of the child process."""
    try:
        Session(commands, events, config, data, grid).run()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the parent went away: nothing left to do


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
