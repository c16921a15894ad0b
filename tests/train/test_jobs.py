"""Seeded experiments' jobs: in order, through an executor or inline, and cancellable."""

from __future__ import annotations

import pytest

from bnviz.search.executors import SerialExecutor
from bnviz.train.jobs import Cancelled, run_jobs


def _square(x: int) -> int:
    return x * x


def _fail(x: int) -> int:
    raise RuntimeError(f"job {x} broke")


@pytest.mark.parametrize("executor", [None, SerialExecutor()])
def test_results_come_back_in_job_order_with_a_line_per_job(executor):
    lines: list[str] = []
    out = run_jobs(_square, [(3,), (1,), (2,)], executor=executor, progress=lines.append,
                   describe=lambda i: f"square {i}")  # fmt: skip
    assert out == [9, 1, 4]
    assert lines == ["square 0 done (1/3)", "square 1 done (2/3)", "square 2 done (3/3)"]


@pytest.mark.parametrize("executor", [None, SerialExecutor()])
def test_cancel_stops_before_the_next_job(executor):
    ran: list[str] = []
    with pytest.raises(Cancelled):
        run_jobs(_square, [(1,), (2,), (3,)], executor=executor, progress=ran.append,
                 cancel=lambda: len(ran) >= 1)  # fmt: skip
    assert len(ran) == 1


def test_a_jobs_exception_propagates():
    with pytest.raises(RuntimeError, match="job 2 broke"):
        run_jobs(_fail, [(2,)], executor=SerialExecutor())
