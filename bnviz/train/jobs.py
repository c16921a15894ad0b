"""Running a seeded experiment's jobs: in worker processes through an executor, or inline;
cancellable between jobs, with a progress line as each one ends.

A lesson's experiment is a handful of independent trainings (a seed's BN/plain twins, one
mini-batch size, one sampled point). :func:`run_jobs` submits them all to a
``concurrent.futures.Executor`` (made by the caller with ``bnviz.search.executors.make_executor``)
and gathers the results in submission order. Qt-free and generic, so both ``bnviz.lessons`` and
``bnviz.search`` use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

POLL_S = 0.1  # how often a waiting experiment looks at its cancel callback

Cancel = Callable[[], bool] | None
Progress = Callable[[str], None] | None


class Cancelled(Exception):
    """The experiment was cancelled (its ``cancel`` callback said so) before it ended."""


def run_jobs(
    fn: Callable[..., Any],
    jobs: Sequence[tuple],
    *,
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
    describe: Callable[[int], str] | None = None,
) -> list[Any]:
    """``[fn(*job) for job in jobs]``, each call in the executor's workers (None: here, one
    after the other).

    ``fn`` must be a module-level function and the jobs picklable (a process pool sends them).
    ``cancel`` is checked between jobs and every :data:`POLL_S` while waiting; when it returns
    True the jobs not started are dropped and :class:`Cancelled` is raised. ``progress`` gets
    one line per finished job: ``describe(i)`` of job i, and how many are done. An exception
    of a job propagates (the others are cancelled).
    """
    total = len(jobs)
    say = describe or (lambda i: f"job {i + 1}")

    def done_line(i: int, done: int) -> None:
        if progress is not None:
            progress(f"{say(i)} done ({done}/{total})")

    if executor is None:
        out = []
        for i, job in enumerate(jobs):
            _check(cancel)
            out.append(fn(*job))
            done_line(i, i + 1)
        return out
    pending: dict[Future, int] = {}
    results: dict[int, Any] = {}

    def collect(timeout: float) -> None:
        finished, _ = wait(list(pending), timeout=timeout, return_when=FIRST_COMPLETED)
        for f in sorted(finished, key=pending.__getitem__):
            i = pending.pop(f)
            results[i] = f.result()  # a job's exception propagates here
            done_line(i, len(results))

    try:
        for i, job in enumerate(jobs):
            _check(cancel)
            pending[executor.submit(fn, *job)] = i
            collect(0)  # an in-process executor has run it already: report it now
        while pending:
            _check(cancel)
            collect(POLL_S)
    finally:
        for f in pending:
            f.cancel()
    return [results[i] for i in range(total)]


def _check(cancel: Cancel) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled")
