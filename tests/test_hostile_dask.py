"""A Dask cluster that loses every worker mid-round: said within seconds, and --timeout stops it.

A LocalCluster on loopback (in-process worker threads, so the test spawns nothing) runs a round
of slow fake trials; its workers are closed after the first result.
"""

from __future__ import annotations

import threading
import time

import pytest

from bnviz.search.executors import ExecutorHandle
from bnviz.search.spaces import parse_space
from bnviz.search.study import Study, TrialResult
from bnviz.search.sweep import NoWorkers, Sweep, TrialSpec
from bnviz.train.config import TrainConfig

distributed = pytest.importorskip("distributed")


def slow_segment(spec: TrialSpec, until: int, paused: object) -> tuple[TrialResult, None]:
    time.sleep(0.3)
    result = TrialResult(spec.params, 1.0, 0.5, 1.0, 0.5, False, None, 0.3, 10, ((10, 1.0),))
    return result, None


def test_losing_every_worker_is_said_and_the_timeout_stops_the_round(tmp_path):
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
        host="127.0.0.1", protocol="tcp://",
    )  # fmt: skip
    client = distributed.Client(cluster)
    handle = ExecutorHandle(client.get_executor(), "test cluster", (client.close, cluster.close),
                            client)  # fmt: skip
    study = Study(tmp_path / "s.sqlite")
    sweep = Sweep(study, TrainConfig(), [parse_space("lr", "1e-3:1:log")], n=40, epochs=1,
                  segment=slow_segment)  # fmt: skip
    said: list[tuple[float, str]] = []
    lost_at: list[float] = []

    def close_workers(record: object) -> None:
        if not lost_at:
            lost_at.append(time.monotonic())
            threading.Thread(target=cluster.scale, args=(0,)).start()

    with handle, pytest.raises(NoWorkers, match="no workers for 3 s"):
        sweep.run(handle, close_workers, on_status=lambda m: said.append((time.monotonic(), m)),
                  timeout=3.0)  # fmt: skip
    assert said and "no workers left" in said[0][1]
    assert said[0][0] - lost_at[0] < 10  # the bound; WATCH_S is 2 s
    stored = study.trials()
    assert 1 <= len(stored) < 40  # what finished is kept, the rest never ran
