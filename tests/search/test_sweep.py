"""The sweep engine: trials, executors (serial, process pool, Dask), cancel, crash safety."""

from __future__ import annotations

import json
import math
import multiprocessing.connection
import socket
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import pytest

from bnviz.search.spaces import Space, parse_space
from bnviz.search.study import Study, TrialState
from bnviz.search.sweep import (
    SerialExecutor,
    Sweep,
    SweepError,
    TrialFailedWarning,
    TrialSpec,
    apply_params,
    make_executor,
    run_trial,
    sweep_json,
)
from bnviz.train.config import TrainConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = TrainConfig(
    n_samples=100, hidden=(8,), batch_size=16, optimizer="momentum", activation="relu"
)
SPACES = [parse_space("lr", "1e-3:1:log"), parse_space("beta", "0.9:0.999:1m")]


def tiny_sweep(path, n: int = 6, epochs: int = 1, spaces=SPACES, **kw) -> Sweep:
    return Sweep(Study(path), TINY, spaces, n=n, seed=3, epochs=epochs, **kw)


def losses(records) -> dict:
    """val_loss by sampled params (NaN as a string, so equal dicts compare equal)."""
    return {json.dumps(r.params, sort_keys=True): repr(r.val_loss) for r in records}


def test_run_trial_on_a_tiny_config():
    spec = TrialSpec(TINY.to_dict(), {"lr": 0.01}, epochs=2, index=0)
    r = run_trial(spec)
    assert r.params == {"lr": 0.01}
    assert not r.diverged and r.diverged_step is None
    assert r.steps == 2 * (80 // 16)  # 100 samples, 20% held out
    assert [step for step, _ in r.curve] == [5, 10]  # one evaluation per epoch of 5 steps
    assert all(math.isfinite(loss) for _, loss in r.curve)
    assert r.val_loss == r.curve[-1][1] and r.best_val_loss == min(loss for _, loss in r.curve)
    assert 0 <= r.val_acc <= 1 and r.seconds > 0


def test_a_diverging_trial_is_a_result_with_its_step(tmp_path):
    # lr is at most 10 (the registry's bound); RMSprop at 10 diverges within 2 steps
    config = apply_params(TINY, {"lr": 10.0, "optimizer": "rmsprop", "bn": False})
    r = run_trial(TrialSpec(config.to_dict(), {"lr": 10.0}, epochs=5, index=0))
    assert r.diverged and r.diverged_step is not None and r.diverged_step >= 1
    assert r.steps == r.diverged_step  # training stopped there
    base = apply_params(TINY, {"optimizer": "rmsprop", "bn": False})
    sweep = Sweep(Study(tmp_path / "s.sqlite"), base, [parse_space("lr", "5:10:log")], n=2,
                  epochs=20)  # fmt: skip
    records = sweep.run(SerialExecutor())
    assert all(t.diverged and t.diverged_step for t in Study(sweep.study.path).trials())
    assert json.dumps(sweep_json(sweep.study), allow_nan=False)  # NaN became null
    assert all(t["val_loss"] is None for t in sweep_json(sweep.study)["trials"])
    assert len(records) == 2


def test_apply_params_maps_flag_names_to_config_fields():
    c = apply_params(TrainConfig(hidden=(64, 64)), {"beta": 0.95, "width": 16, "bn": False})
    assert (c.momentum, c.hidden, c.batchnorm) == (0.95, (16, 16), False)
    assert apply_params(TrainConfig(hidden=(64, 64)), {"layers": 3}).hidden == (64, 64, 64)
    with pytest.raises(SweepError, match="cannot sample"):
        apply_params(TINY, {"colour": 1})


def test_bad_configs_are_rejected_before_anything_is_submitted(tmp_path):
    class Refusing(Executor):
        def submit(self, fn, /, *args, **kwargs):
            raise AssertionError("submitted")

    sweep = tiny_sweep(tmp_path / "s.sqlite", spaces=[Space("width", "int", 0, 4)], n=10)
    with pytest.raises(SweepError, match="hidden widths"):
        sweep.run(Refusing())
    assert sweep.study.rounds() == []


def test_process_pool_dask_and_serial_give_the_same_results(tmp_path):
    serial = tiny_sweep(tmp_path / "serial.sqlite").run(SerialExecutor())
    with make_executor(2) as pool:
        pooled = tiny_sweep(tmp_path / "pool.sqlite").run(pool)
    with make_executor(2, scheduler="local") as dask:
        assert "Dask" in dask.description
        dasked = tiny_sweep(tmp_path / "dask.sqlite").run(dask)
    assert len(serial) == 6
    assert losses(serial) == losses(pooled) == losses(dasked)


def test_a_failing_worker_is_stored_as_a_failed_trial(tmp_path):
    class FailsSecond(SerialExecutor):
        """Runs trials in-process, except the second, whose worker raises."""

        def submit(self, fn, /, *args, **kwargs):
            if args[0].index != 1:
                return super().submit(fn, *args, **kwargs)
            f: Future = Future()
            f.set_exception(MemoryError("out of\nmemory"))
            return f

    sweep = tiny_sweep(tmp_path / "s.sqlite", n=3)
    with pytest.warns(TrialFailedWarning, match="out of"):
        records = sweep.run(FailsSecond())
    assert [r.state for r in records] == [TrialState.COMPLETE, TrialState.FAILED, "complete"]
    failed = records[1]
    assert failed.error == "MemoryError: out of memory"  # one line
    assert not failed.diverged and failed.diverged_step is None and failed.val_loss is None
    assert records[0].error is None and math.isfinite(records[0].val_loss)
    stored = Study(sweep.study.path).trials()
    assert [(t.state, t.error) for t in stored] == [(r.state, r.error) for r in records]
    d = sweep_json(sweep.study)
    assert [t["state"] for t in d["trials"]] == ["complete", "failed", "complete"]
    assert [t["error"] for t in d["trials"]] == [None, "MemoryError: out of memory", None]
    # "diverged" keeps its first-release meaning in --json: no result (diverged or failed)
    assert [t["diverged"] for t in d["trials"]] == [False, True, False]
    assert d["best"] in (records[0].id, records[2].id)


def test_cancel_drops_pending_trials_and_returns_promptly(tmp_path):
    cancel = threading.Event()
    seen = []

    def on_result(record):
        seen.append(record)
        cancel.set()

    sweep = tiny_sweep(tmp_path / "s.sqlite", n=40, epochs=2)
    with make_executor(2) as pool:
        t0 = time.perf_counter()
        records = sweep.run(pool, on_result=on_result, cancel=cancel)
        elapsed = time.perf_counter() - t0
        pool.close(wait=False)
    assert 1 <= len(records) < 40 and records == seen
    assert len(sweep.study.trials()) == len(records)
    assert elapsed < 5


def test_closing_without_waiting_ends_workers_busy_with_a_trial():
    """Closing the app mid-round: the running trials' workers end now, not when they finish."""
    pool = make_executor(2)
    busy = [pool.submit(time.sleep, 60) for _ in range(2)]
    deadline = time.monotonic() + 10
    while not all(f.running() for f in busy) and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = list(pool.executor._processes.values())
    assert len(workers) == 2 and all(p.is_alive() for p in workers)
    pool.close(wait=False)
    # a process's sentinel is ready once it has exited; far less than the 60 s trial means
    # killed, not finished (no timing threshold). Not is_alive(): the pool's own thread reaps
    # the same processes, and a poll racing it gets ECHILD and answers "alive".
    sentinels = [p.sentinel for p in workers]
    ended = set()
    deadline = time.monotonic() + 30
    while len(ended) < len(sentinels) and time.monotonic() < deadline:
        ended.update(multiprocessing.connection.wait(sentinels, timeout=1))
    assert ended == set(sentinels)


def test_serial_sweep_can_be_cancelled_between_trials(tmp_path):
    cancel = threading.Event()
    records = tiny_sweep(tmp_path / "s.sqlite", n=5).run(
        SerialExecutor(), on_result=lambda r: cancel.set(), cancel=cancel
    )
    assert len(records) == 1


KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from bnviz.train.config import TrainConfig
    from bnviz.search.spaces import DEFAULT_SPACES
    from bnviz.search.study import Study, TrialState
    from bnviz.search.sweep import Sweep, make_executor

    def on_result(record):
        if record.id == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    if __name__ == "__main__":
        base = TrainConfig(n_samples=100, hidden=(8,), batch_size=16)
        sweep = Sweep(Study(sys.argv[1]), base, list(DEFAULT_SPACES.values()), n=12, epochs=2)
        with make_executor(2) as pool:
            sweep.run(pool, on_result=on_result)
    """
)


def test_a_killed_sweep_keeps_every_finished_trial(tmp_path):
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    path = tmp_path / "s.sqlite"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,  # orphaned workers must not keep a pipe open
        stderr=subprocess.DEVNULL,
    )
    assert proc.wait(timeout=60) == -9
    with Study(path) as study:
        trials = study.trials()
        assert [t.id for t in trials] == [1, 2, 3]
        assert all(len(t.curve) == 2 for t in trials)
        assert len(study.rounds()) == 1


def test_an_unreachable_scheduler_fails_fast_with_a_clear_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    with pytest.raises(SweepError, match=f"cannot reach Dask scheduler at tcp://127.0.0.1:{port}"):
        make_executor(scheduler=f"127.0.0.1:{port}")
    assert time.perf_counter() - t0 < 10


def test_one_worker_runs_in_process():
    with make_executor(1) as ex:
        assert isinstance(ex.executor, SerialExecutor)
