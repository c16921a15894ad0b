"""Training speed, measured the way these machines allow.

Shared CPUs here drift by up to 2x within seconds, so a ratio is only meaningful when both sides
are measured side by side: every workload runs in a fresh process in which the NumPy trainer and
its PyTorch twin (when torch is installed), with and without BN, take turns in short rounds;
ratios are medians of per-round ratios. Each process also reports how busy the other CPUs were
(``other_cpu``, in cores, from /proc/stat), so a shared CPU is said, not guessed.

Run ``python -m bnviz.bench.bench JOB_JSON`` to do one job in this process and print its JSON;
:func:`run_bench` starts those processes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported where used, so ``bnviz bench`` starts without the trainer
    from bnviz.data import Dataset
    from bnviz.train.trainer import Trainer

SHARED_CPU = 0.25  # other processes' load, in cores, above which a measurement is flagged
SNAPSHOT_HZ = 30.0
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Workload:
    """A network shape and batch size; ``target`` is the wanted NumPy/PyTorch steps/s ratio."""

    name: str
    n_in: int
    hidden: tuple[int, ...]
    activation: str
    n_classes: int
    batch: int
    target: float

    @property
    def sizes(self) -> list[int]:
        return [self.n_in, *self.hidden, self.n_classes]


# Targets from issue 21 (3x for the small networks, whose steps are mostly per-call overhead on
# both sides; 1x for W3, whose GEMMs run at the core's peak in both libraries).
WORKLOADS = (
    Workload("W1", 2, (64, 64, 64, 64), "relu", 4, 128, 3.0),
    # The shape of the BN paper's MNIST experiment (3 x 100 sigmoid, batch 60) on 8x8 digits.
    Workload("W2", 64, (100, 100, 100), "sigmoid", 10, 60, 3.0),
    Workload("W3", 784, (256, 256), "relu", 10, 256, 1.0),
)
BY_NAME = {w.name: w for w in WORKLOADS}


def torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


# -- measuring inside one process ------------------------------------------------------------
class CpuMonitor:
    """Average load of *other* processes over an interval, in cores (None off Linux)."""

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[float, float, float] | None:
        """(wall time, busy CPU seconds of the machine, CPU seconds of this process)."""
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)
        t = os.times()
        return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), t.user + t.system

    def other_cores(self) -> float | None:
        end = self._read()
        if self._start is None or end is None:
            return None
        wall = end[0] - self._start[0]
        others = (end[1] - self._start[1]) - (end[2] - self._start[2])
        return round(max(0.0, others / max(wall, 1e-9)), 2)


def _timed(step: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return time.perf_counter() - t0


def interleaved(
    contestants: dict[str, Callable[[], object]],
    rounds: int,
    seconds: float,
    modes: dict[str, Callable[[], object]] | None = None,
) -> dict[str, list[float]]:
    """Steps/s of every contestant (name -> step callable) per round, taking turns (the order
    rotates each round) so slow drift hits all of them alike. ``modes[name]``, when given, is
    called before each of that contestant's turns (e.g. to set the thread's subnormal mode)."""
    modes = modes or {}
    steps = {}
    for name, step in contestants.items():
        modes.get(name, _nothing)()
        n, t = 1, _timed(step, 1)  # warm-up, then calibrate to ``seconds`` a round
        while t < seconds / 4:
            n *= 2
            t = _timed(step, n)
        steps[name] = max(1, int(n * seconds / t))
    rates: dict[str, list[float]] = {name: [] for name in contestants}
    names = list(contestants)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            modes.get(name, _nothing)()
            rates[name].append(steps[name] / _timed(contestants[name], steps[name]))
    return rates


def _nothing() -> None:
    return None


def synthetic_data(w: Workload, seed: int = 0) -> Dataset:
    """A Dataset of Gaussian clusters with the workload's shape (speed does not depend on it)."""
    from bnviz.data import Dataset

    rng = np.random.default_rng(seed)
    n = max(16 * w.batch, 1024)
    centers = rng.standard_normal((w.n_classes, w.n_in)).astype(np.float32)
    y = rng.integers(0, w.n_classes, 2 * n)
    X = (rng.standard_normal((2 * n, w.n_in)).astype(np.float32) + centers[y]).astype(np.float32)
    ones, zeros = np.ones(w.n_in, np.float32), np.zeros(w.n_in, np.float32)
    return Dataset(w.name, X[:n], y[:n], X[n:], y[n:], w.n_classes, zeros, ones)


def make_trainer(
    w: Workload, batchnorm: bool, optimizer: str, data: Dataset | None = None
) -> Trainer:
    from bnviz.train.config import TrainConfig
    from bnviz.train.trainer import Trainer

    config = TrainConfig(
        dataset=w.name,
        hidden=w.hidden,
        activation=w.activation,
        batchnorm=batchnorm,
        optimizer=optimizer,
        lr=1e-3 if optimizer == "adam" else 1e-2,
        batch_size=w.batch,
    )
    return Trainer(config, data if data is not None else synthetic_data(w))


def measure_workload(
    w: Workload,
    optimizer: str,
    rounds: int,
    seconds: float,
    with_torch: bool,
    torch_flushed: bool = False,
) -> dict:
    """One workload, BN off and on, NumPy and (optionally) PyTorch, interleaved in this process.

    Each side runs in its own default subnormal mode (:mod:`bnviz.nn.fpenv`): bnviz's trainer
    flushes subnormals to zero, PyTorch keeps them unless ``torch.set_flush_denormal(True)``.
    ``torch_flushed`` adds PyTorch with subnormals flushed too ("torch-flush-{bn}")."""
    from bnviz.nn import fpenv

    data = synthetic_data(w)
    contestants: dict[str, Callable[[], object]] = {}
    modes: dict[str, Callable[[], object]] = {}
    info: dict[str, Any] = {}
    twins = {}
    for bn in (False, True):
        trainer = make_trainer(w, bn, optimizer, data)
        # flushed for good, as in the app's training process and the worker pools
        contestants[f"numpy-{bn}"], modes[f"numpy-{bn}"] = trainer.step, fpenv.flush_denormals
        if with_torch:
            from bnviz.bench.torchref import TorchTwin, torch_version

            run = trainer.runs[0]
            twins[bn] = TorchTwin(
                run.net, data.X_train, data.y_train, optimizer, run.opt.hyper, w.batch
            )
            contestants[f"torch-{bn}"] = twins[bn].step
            modes[f"torch-{bn}"] = lambda: fpenv.set_subnormals_flushed(False)
            info["torch"] = f"torch {torch_version()}, 1 thread, {twins[bn].optimizer_name}"
            if torch_flushed:
                twin = TorchTwin(
                    run.net, data.X_train, data.y_train, optimizer, run.opt.hyper, w.batch
                )
                contestants[f"torch-flush-{bn}"] = twin.step
                modes[f"torch-flush-{bn}"] = lambda: fpenv.set_subnormals_flushed(True)
    monitor = CpuMonitor()
    before = fpenv.subnormals_flushed()
    try:
        rates = interleaved(contestants, rounds, seconds, modes)
    finally:
        fpenv.set_subnormals_flushed(before)
    info.update(other_cpu=monitor.other_cores(), blas_threads=_blas_threads_in_use())
    info.update(subnormals_flushed=fpenv.steps_flushed())
    return {"workload": w.name, "rates": rates, **info}


def measure_snapshots(compare: bool, rounds: int, seconds: float) -> dict:
    """Steps/s of the first release's default trainer (2 x 64 ReLU, Adam; the setup README's
    figures were measured on) with and without ``snapshot()`` every 1/30 s."""
    from bnviz.train.config import TrainConfig
    from bnviz.train.trainer import Trainer

    trainer = Trainer(
        TrainConfig(compare=compare, hidden=(64, 64), activation="relu", optimizer="adam",
                    lr=0.01, batch_size=64)
    )  # fmt: skip
    trainer.run(20)
    costs: list[float] = []

    def plain(deadline: float) -> int:
        n = 0
        while time.perf_counter() < deadline:
            trainer.step()
            n += 1
        return n

    def with_snapshots(deadline: float) -> int:
        n, next_snap = 0, time.perf_counter()
        while (now := time.perf_counter()) < deadline:
            if now >= next_snap:
                trainer.snapshot()
                costs.append(time.perf_counter() - now)
                next_snap += 1 / SNAPSHOT_HZ
            trainer.step()
            n += 1
        return n

    monitor = CpuMonitor()
    plain_rates: list[float] = []
    snap_rates: list[float] = []
    snap_time = 0.0
    for r in range(rounds):
        for fn, out in ((plain, plain_rates), (with_snapshots, snap_rates))[:: 1 if r % 2 else -1]:
            t0 = time.perf_counter()
            n = fn(t0 + seconds)
            out.append(n / (time.perf_counter() - t0))
            snap_time += (time.perf_counter() - t0) if fn is with_snapshots else 0.0
    ratios = [s / p for s, p in zip(snap_rates, plain_rates)]
    return {
        "mode": "compare" if compare else "single",
        "steps_per_s": round(statistics.median(plain_rates), 1),
        "steps_per_s_with_snapshots": round(statistics.median(snap_rates), 1),
        "ratio": round(statistics.median(ratios), 3),
        # the share of wall time spent inside snapshot(): steadier than the ratio on a busy CPU
        "time_in_snapshots": round(sum(costs) / snap_time, 3) if snap_time else None,
        "snapshot_ms": round(1e3 * statistics.median(costs), 3) if costs else None,
        "probe_size": int(trainer._probe.shape[0]),
        "other_cpu": monitor.other_cores(),
    }


def _blas_threads_in_use() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return None
    blas = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(blas) if blas else None


def run_job(job: dict) -> dict:
    """Do one job (``kind`` in workload, snapshots) in this process."""
    if job["kind"] == "snapshots":
        return measure_snapshots(job["compare"], job["rounds"], job["seconds"])
    return measure_workload(
        BY_NAME[job["workload"]], job["optimizer"], job["rounds"], job["seconds"], job["torch"],
        bool(job.get("torch_flushed")),
    )  # fmt: skip


# -- fresh processes ---------------------------------------------------------------------------
def blas_env(threads: int) -> dict[str, str]:
    """The environment of a worker with ``threads`` BLAS threads (0: the library's default)."""
    from bnviz.nn.blas import BLAS_THREADS_ENV

    env = dict(os.environ)
    for var in BLAS_ENV:
        env.pop(var, None)
        if threads:
            env[var] = str(threads)
    env[BLAS_THREADS_ENV] = str(threads)
    return env


def run_fresh(job: dict, blas_threads: int = 1) -> dict:
    """Run :func:`run_job` in a new Python process and return its result."""
    proc = subprocess.run(
        [sys.executable, "-m", "bnviz.bench.bench", json.dumps(job)],
        env=blas_env(blas_threads),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench worker failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _round(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


def _extra_pct(plain_rates: list[float], bn_rates: list[float]) -> float | None:
    """BN's extra time per step in percent, ``t_bn / t_plain - 1``, median over rounds."""
    return _round(_median([100 * (p / b - 1) for p, b in zip(plain_rates, bn_rates)]))


def workload_entries(w: Workload, result: dict) -> list[dict]:
    """The two report entries (BN off, on) of one :func:`measure_workload` result."""
    rates, out = result["rates"], []
    has_torch = "torch-False" in rates
    for bn in (False, True):
        mine, base = rates[f"numpy-{bn}"], rates["numpy-False"]
        entry = {
            "name": w.name,
            "bn": bn,
            "steps_per_s": _round(_median(mine)),
            "torch_steps_per_s": _round(_median(rates[f"torch-{bn}"])) if has_torch else None,
            "sizes": w.sizes,
            "activation": w.activation,
            "batch": w.batch,
            "ratio_vs_torch": None,
            "target_ratio": w.target,
            "meets_target": None,
            "bn_extra_time_pct": None,
            "torch_bn_extra_time_pct": None,
            "rounds": len(mine),
            "other_cpu": result.get("other_cpu"),
            "shared_cpu": (result.get("other_cpu") or 0) > SHARED_CPU,
        }
        if has_torch:
            # every run has rounds >= 1 rates, so these medians exist
            ratio = statistics.median([a / b for a, b in zip(mine, rates[f"torch-{bn}"])])
            entry["ratio_vs_torch"] = round(ratio, 2)
            entry["meets_target"] = ratio >= w.target
        flushed = rates.get(f"torch-flush-{bn}")
        if flushed:
            entry["torch_flushed_steps_per_s"] = _round(_median(flushed))
            ratio = statistics.median([a / b for a, b in zip(mine, flushed)])
            entry["ratio_vs_torch_flushed"] = round(ratio, 2)
        if bn:
            # extra time per step = t_bn / t_plain - 1 = rate_plain / rate_bn - 1, per round
            entry["bn_extra_time_pct"] = _extra_pct(base, mine)
            if has_torch:
                entry["torch_bn_extra_time_pct"] = _extra_pct(
                    rates["torch-False"], rates["torch-True"]
                )
        out.append(entry)
    return out


@dataclass(frozen=True)
class BenchOptions:
    """What :func:`run_bench` measures. ``blas_threads`` 0 means the BLAS library's default."""

    workloads: tuple[str, ...] = tuple(BY_NAME)
    optimizer: str = "adam"
    rounds: int = 7
    seconds: float = 0.25
    blas_threads: int = 1
    blas_compare: bool = False
    snapshots: bool = False
    fresh: bool = True
    with_torch: bool = True
    torch_flushed: bool = False


def run_bench(opt: BenchOptions, progress: Callable[[str], object] | None = None) -> dict:
    """Every measurement ``opt`` asks for, as the JSON-able report ``bnviz bench`` prints."""
    say: Callable[[str], object] = progress or (lambda text: None)
    use_torch = opt.with_torch and torch_available()
    report: dict = {
        "settings": {
            "dtype": "float32",
            "optimizer": opt.optimizer,
            "blas_threads": opt.blas_threads or "default",
            "fresh_processes": opt.fresh,
            "rounds": opt.rounds,
            "seconds_per_round": opt.seconds,
            "torch": None if use_torch else "torch not installed",
            "cpus": os.cpu_count(),
        },
        "workloads": [],
    }
    for name in opt.workloads:
        say(f"measuring {name}")
        job: dict[str, Any] = {"kind": "workload", "workload": name, "optimizer": opt.optimizer}
        job.update(rounds=opt.rounds, seconds=opt.seconds, torch=use_torch)
        job.update(torch_flushed=use_torch and opt.torch_flushed)
        result = run_fresh(job, opt.blas_threads) if opt.fresh else run_job(job)
        report["settings"]["subnormals_flushed"] = result.get("subnormals_flushed")
        if use_torch:
            report["settings"]["torch"] = result["torch"]
        report["workloads"] += workload_entries(BY_NAME[name], result)
    if opt.blas_compare:
        report["blas"] = [blas_comparison(BY_NAME[n], opt, say) for n in opt.workloads]
    if opt.snapshots:
        report["snapshots"] = []
        for compare in (False, True):
            say(f"measuring snapshots ({'compare' if compare else 'single'} mode)")
            job = {"kind": "snapshots", "compare": compare}
            job.update(rounds=2 * opt.rounds, seconds=max(opt.seconds, 0.1))
            result = run_fresh(job, opt.blas_threads) if opt.fresh else run_job(job)
            report["snapshots"].append(result)
    return report


def blas_comparison(w: Workload, opt: BenchOptions, say: Callable[[str], object]) -> dict:
    """NumPy steps/s with 1 BLAS thread and with the library default, in alternating fresh
    processes (two processes each), BN off and on."""
    say(f"measuring {w.name} with 1 BLAS thread and with the default")
    job: dict[str, Any] = {"kind": "workload", "workload": w.name, "optimizer": opt.optimizer}
    job.update(rounds=max(2, opt.rounds // 2), seconds=opt.seconds, torch=False)
    runs: dict[int, list[dict]] = {1: [], 0: []}
    for _ in range(2 if opt.fresh else 1):  # a process's BLAS pool cannot grow: always fresh
        for threads in (1, 0):
            runs[threads].append(run_fresh(job, threads))
    out: dict[str, Any] = {"name": w.name, "default_threads": runs[0][0].get("blas_threads")}
    for bn in (False, True):
        one = [x for r in runs[1] for x in r["rates"][f"numpy-{bn}"]]
        dflt = [x for r in runs[0] for x in r["rates"][f"numpy-{bn}"]]
        key = "bn" if bn else "plain"
        out[f"{key}_steps_per_s_1_thread"] = _round(_median(one))
        out[f"{key}_steps_per_s_default"] = _round(_median(dflt))
        out[f"{key}_default_over_1"] = _round(statistics.median(dflt) / statistics.median(one), 3)
    out["other_cpu"] = max((r.get("other_cpu") or 0) for rs in runs.values() for r in rs)
    return out


if __name__ == "__main__":  # a worker: python -m bnviz.bench.bench JOB_JSON
    print(json.dumps(run_job(json.loads(sys.argv[1]))))
