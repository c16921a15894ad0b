"""How much faster a sweep runs on a pool of worker processes than in one process.

The figure the issue asks for: 16 trials of ``bnviz sweep``'s default setup, 2 workers vs 1.
Starting a pool costs about half a second (spawned processes import NumPy and the trainer), so
the pool's start-up and its trials are timed apart; both speed-ups are reported.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bnviz.search.executors import make_executor
from bnviz.search.spaces import DEFAULT_SPACES
from bnviz.search.study import Study
from bnviz.search.sweep import Sweep
from bnviz.train.config import TrainConfig


def _round(study: Study, base: TrainConfig, trials: int, epochs: int, seed: int) -> Sweep:
    return Sweep(study, base, list(DEFAULT_SPACES.values()), n=trials, seed=seed, epochs=epochs)


def measure_sweep_speedup(
    trials: int = 16, epochs: int = 20, workers: int = 2, repeats: int = 3
) -> dict:
    """Serial and pooled runs of the same trials, interleaved ``repeats`` times.

    Returns seconds (medians) for the serial run, the pool's start-up and its trials, and the
    speed-ups ``serial / trials`` (pool already running) and ``serial / (start-up + trials)``.
    """
    base = TrainConfig(optimizer="momentum")
    serial, startup, pooled = [], [], []
    with tempfile.TemporaryDirectory(prefix="bnviz-sweep-bench-") as tmp:
        study = Study(Path(tmp) / "bench.sqlite")
        try:
            for r in range(repeats):
                with make_executor(1) as ex:
                    t0 = time.perf_counter()
                    _round(study, base, trials, epochs, seed=r).run(ex)
                    serial.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                ex = make_executor(workers)
                t1 = time.perf_counter()
                try:
                    _round(study, base, trials, epochs, seed=r).run(ex)
                    t2 = time.perf_counter()
                finally:
                    ex.close()
                startup.append(t1 - t0)
                pooled.append(t2 - t1)
        finally:
            study.close()
    s, u, p = (statistics.median(x) for x in (serial, startup, pooled))
    return {
        "trials": trials,
        "epochs": epochs,
        "workers": workers,
        "repeats": repeats,
        "serial_s": round(s, 3),
        "pool_startup_s": round(u, 3),
        "pool_trials_s": round(p, 3),
        "speedup_trials": round(s / p, 2),
        "speedup_wall": round(s / (u + p), 2),
    }
