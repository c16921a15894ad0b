"""Where trials run: one ``concurrent.futures.Executor`` interface over local worker processes,
a Dask cluster, or the calling thread.

Starting a pool or a cluster takes about a second, so :func:`make_executor` is separate from
running a sweep: the GUI calls it off its thread, early, and reuses the result across rounds.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

CONNECT_TIMEOUT = "3s"  # an unreachable scheduler must fail fast, not hang the GUI
WARM_TIMEOUT_S = 60.0
WATCH_S = 2.0  # how often a running round asks a Dask cluster whether it still has workers
IN_FLIGHT_PER_WORKER = 2  # trials queued per worker: enough to keep it busy, no more
DEFAULT_IN_FLIGHT = 64  # for an executor that cannot say how many workers it has
_ADDRESS = re.compile(r"(?:(?:tcp|tls|ws|wss|inproc|ucx)://)?[A-Za-z0-9_.\-\[\]:]+")


class SweepError(ValueError):
    """A sweep that cannot start (bad config, unreachable scheduler); one line for the user."""


class SerialExecutor(Executor):
    """Runs each call in the calling thread at ``submit``: for tests, debugging, one worker.

    Exceptions go into the future as with a pool; KeyboardInterrupt still propagates.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        f: Future = Future()
        f.set_running_or_notify_cancel()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as e:
            f.set_exception(e)
        return f


def worker_count(asked: int | None, trials: int | None = None, cores: int | None = None) -> int:
    """The worker processes to start: ``asked`` (default one per core), never more than the
    trials (extra workers would idle) nor :data:`~bnviz.train.params.WORKERS_PER_CORE` per core
    (they would only wait their turn, each holding an interpreter's memory). The GUI and the CLI
    both ask here, so they agree."""
    from bnviz.train.params import WORKERS_PER_CORE

    cores = max(1, cores or os.cpu_count() or 1)
    n = min(asked or cores, WORKERS_PER_CORE * cores)
    if trials is not None:
        n = min(n, trials)
    return max(1, n)


def check_scheduler(address: str) -> str:
    """``address`` if it can name a Dask scheduler (``local``, ``host:port``, ``tcp://...``),
    else SweepError: ``'not a url'`` is refused here, not as a ValueError deep in Dask."""
    text = address.strip()
    if text == "local" or _ADDRESS.fullmatch(text):
        return text
    raise SweepError(
        f"--scheduler: {address!r} is not a Dask scheduler address; use tcp://host:8786, "
        "host:8786 or 'local'"
    )


def _warm_worker(delay: float) -> int:
    """Import the trainer (the slow part of a worker's first trial) and name the process."""
    import bnviz.train.trainer  # noqa: F401

    time.sleep(delay)  # long enough that one quick worker cannot take every warm-up call
    return os.getpid()


def _init_worker() -> None:
    """Pool worker initializer: a worker only trains, so its thread flushes subnormals for good
    (:mod:`bnviz.nn.fpenv`), and it exits with its parent."""
    from bnviz.nn.fpenv import flush_denormals

    flush_denormals()
    _exit_with_parent()


def _exit_with_parent() -> None:
    """Pool worker initializer: exit when the parent dies, even by SIGKILL.

    A spawned worker holds both ends of its call queue's pipe, so it never sees EOF there and
    would wait for work forever; the parent's sentinel closes when the parent is gone.
    """

    parent = multiprocessing.parent_process()
    if parent is None:  # not a child process: nothing to watch
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class ExecutorHandle(Executor):
    """An executor plus whatever must be closed with it (a Dask client and local cluster).

    Submit through it like any Executor; :meth:`close` (or ``with``) releases everything.
    ``description`` says what it is, for progress lines and the GUI.
    """

    def __init__(
        self,
        executor: Executor,
        description: str,
        closers: tuple[Callable[[], object], ...] = (),
        client: Any = None,
        workers: int = 0,
    ) -> None:
        self.executor = executor
        self.description = description
        self.client = client  # a distributed.Client when Dask runs the trials
        self.workers = workers  # processes started here (0: a cluster's own, or in-process)
        self._closers = closers
        self._closed = False

    @property
    def in_flight(self) -> int:
        """How many trials to keep submitted at once: a few per worker, so a round of a
        million trials queues a handful, not a million futures."""
        n = self.workers or (self.workers_alive() or 0)
        return max(1, IN_FLIGHT_PER_WORKER * n) if n else DEFAULT_IN_FLIGHT

    def workers_alive(self) -> int | None:
        """Workers the Dask cluster has now (0: all lost, or the scheduler is gone); None for
        local processes, which the pool replaces itself."""
        if self.client is None:
            return None
        try:
            return len(self.client.nthreads())
        except Exception:  # the scheduler itself went away: no worker will come back
            return 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self.executor.submit(fn, *args, **kwargs)

    def warm(self, workers: int) -> float:
        """Start every worker now and import the trainer there; returns the seconds it took.

        A process pool starts its workers lazily at the first submits, which would land the
        start-up cost (~0.5 s per spawned interpreter) in the first trials instead.
        """
        t0 = time.perf_counter()
        if self.client is not None:  # Dask: every connected worker, however many there are
            self.client.run(_warm_worker, 0.0)
            return time.perf_counter() - t0
        seen: set[int] = set()
        while len(seen) < workers and time.perf_counter() - t0 < WARM_TIMEOUT_S:
            futures = [self.submit(_warm_worker, 0.05) for _ in range(workers)]
            seen |= {f.result() for f in futures}
        return time.perf_counter() - t0

    def close(self, wait: bool = True) -> None:
        """Shut down; ``wait=False`` drops queued calls and returns without joining workers."""
        if self._closed:
            return
        self._closed = True
        if isinstance(self.executor, ProcessPoolExecutor):
            workers = _workers(self.executor)  # shutdown() forgets them
            self.executor.shutdown(wait=wait, cancel_futures=True)
            if not wait:
                # a trial still running would hold the interpreter's exit until it finished
                # (closing the app mid-round took 3.2 s); its result is not wanted
                for process in workers:
                    # SIGKILL: SIGTERM can sit blocked in a worker that inherited a blocked
                    # signal mask (seen in the full test run), and nothing in it needs cleaning
                    process.kill()
        else:
            self.executor.shutdown(wait=wait)
        for close in self._closers:
            close()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.close(wait=wait)


def _workers(pool: ProcessPoolExecutor) -> list:
    """The pool's worker processes (a private attribute: Python < 3.14 has no public one)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def make_executor(
    workers: int | None = None, scheduler: str | None = None, *, warm: bool = True
) -> ExecutorHandle:
    """The executor for a sweep: local processes, or a Dask cluster.

    Takes about a second (spawning interpreters, connecting): the GUI calls it off its thread,
    before the user presses Run.

    Parameters
    ----------
    workers : int or None
        Local worker processes (default: one per core); 1 runs trials in-process. With
        ``scheduler="local"``, the number of Dask workers.
    scheduler : str or None
        A Dask scheduler address (``tcp://host:8786``), or ``"local"`` for a Dask
        ``LocalCluster`` of ``workers`` processes. Needs ``dask[distributed]``.
    warm : bool
        Start every worker now rather than at the first trials.

    Raises
    ------
    SweepError
        Dask missing, or the scheduler cannot be reached within a few seconds.
    """
    from bnviz.nn.blas import set_env_before_numpy

    set_env_before_numpy(1)  # inherited by spawned workers before they import NumPy
    n = worker_count(workers)
    if scheduler:
        handle = _dask_executor(check_scheduler(scheduler), n)
    elif n == 1:
        return ExecutorHandle(SerialExecutor(), "in-process (1 worker)")
    else:
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(n, mp_context=spawn, initializer=_init_worker)
        handle = ExecutorHandle(pool, f"{n} local worker processes", workers=n)
    if warm:
        try:
            handle.warm(n)
        except BaseException:  # Ctrl-C while the workers start: none may outlive the handle
            handle.close(wait=False)
            raise
    return handle


def _dask_executor(scheduler: str, workers: int) -> ExecutorHandle:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(
            # said the same in the app's scheduler field and after bnviz sweep --scheduler
            f"the Dask scheduler {scheduler!r} needs Dask: pip install 'bnviz[dask]' "
            "(dask[distributed])"
        ) from None
    if scheduler == "local":
        try:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        except Exception as e:  # Dask wraps whatever went wrong in a worker in RuntimeError
            raise SweepError(f"cannot start a local Dask cluster: {e}") from None
        client = Client(cluster)
        return ExecutorHandle(
            client.get_executor(),
            f"Dask LocalCluster, {workers} workers",
            (client.close, cluster.close),
            client,
        )
    address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as e:  # a bad port says ValueError
        raise SweepError(f"cannot reach Dask scheduler at {address}: {e}") from None
    n = len(client.scheduler_info().get("workers", {}))
    return ExecutorHandle(
        client.get_executor(), f"Dask scheduler {address} ({n} workers)", (client.close,), client
    )


class NoWorkers(SweepError):
    """The Dask cluster had no worker for longer than the sweep's timeout."""


class WorkersLost(SweepError):
    """The local worker pool broke (a worker was killed, by the OOM killer or by hand): no
    trial can be submitted to it any more; a new executor is needed."""


class WorkerWatch:
    """Asks a Dask cluster every :data:`WATCH_S` whether it still has workers; says when
    it has none (and when they are back), and raises :class:`NoWorkers` past ``timeout``."""

    def __init__(
        self, executor: Executor, on_status: Callable[[str], None] | None, timeout: float | None
    ) -> None:
        self.alive = getattr(executor, "workers_alive", None)
        self.on_status, self.timeout = on_status, timeout
        self.last = time.monotonic()
        self.since: float | None = None  # when the cluster was first seen with no worker

    def check(self) -> None:
        now = time.monotonic()
        if self.alive is None or now - self.last < WATCH_S:
            return
        self.last = now
        n = self.alive()
        if n is None:
            return
        if n and self.since is not None:
            self.since = None
            self._say(f"the Dask cluster has {n} worker{'s' if n > 1 else ''} again")
        elif not n and self.since is None:
            self.since = now
            until = (f"stopping after {self.timeout:g} s" if self.timeout
                     else "waiting for workers (--timeout SECONDS stops)")  # fmt: skip
            self._say(f"the Dask cluster has no workers left: {until}")
        if self.since is not None and self.timeout is not None and now - self.since > self.timeout:
            raise NoWorkers(
                f"the Dask cluster had no workers for {self.timeout:g} s: round stopped, "
                "the trials that finished are stored"
            )

    def _say(self, message: str) -> None:
        if self.on_status is not None:
            self.on_status(message)
