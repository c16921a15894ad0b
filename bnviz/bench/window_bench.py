"""The window half of ``bnviz bench --gui``: the main window measured in a fresh process.

A fresh process, so that ``load_s`` counts what a user waits for: from launching Python to the
first snapshot of the configured run drawn on screen (imports, the window, reading the data
file, the training process's start). A data file is loaded as the window loads one (in the
background, the built-in run going on meanwhile). The event loop's latency is sampled from the
window's first paint to the end, so work on the GUI thread while the file loads shows in it
(``latency_ms_p99_any_moment`` weighs each wait by how long it lasted: a 2 s block is one
sample of the timer, but 2 s of a user's clicks);
redraws/s, steps/s and the render time are counted over the last ``seconds`` only, after a
warm-up. Qt is imported inside the functions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bnviz.train.config import TrainConfig
from bnviz.train.probes import ProbeContext, probe

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication

    from bnviz.gui.panel import Frame

PROBE_MS = 5
WINDOW_SIZE = (1600, 1000)
LAUNCH_ENV = "BNVIZ_BENCH_LAUNCHED"
RESULT_TAG = "bnviz-window-bench"
LOAD_TIMEOUT_S = 180.0  # a file that takes longer than this to show is reported as a failure


@probe("bench_step_count")
def step_count(ctx: ProbeContext) -> int:
    """The training process's step count, read between two steps."""
    return ctx.step


@probe("bench_network")
def trained_network(ctx: ProbeContext) -> dict:
    """What the training process trains: its data set's name and every network's layer sizes
    (the report shows that the flags reached it)."""
    return {"data": ctx.data.name, "sizes": [list(r.net.sizes) for r in ctx.runs]}


def measure_in_fresh_process(
    config: TrainConfig, seconds: float, warmup: float, profile: str | None = None
) -> dict:
    """Run :func:`measure_window` in a new Python process (one BLAS thread, as the app has);
    ``profile``: a file for the cProfile statistics of that process's GUI thread."""
    from bnviz.bench.bench import blas_env

    job = {"config": config.to_dict(), "seconds": seconds, "warmup": warmup, "profile": profile}
    code = f"from bnviz.bench.window_bench import _child; _child({json.dumps(job)!r})"
    env = dict(blas_env(1), **{LAUNCH_ENV: repr(time.time())})
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT_S + warmup + seconds + 60,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    raise RuntimeError(f"the window benchmark failed: {proc.stdout[-500:]} {proc.stderr[-2000:]}")


def _child(job_json: str) -> None:
    job = json.loads(job_json)
    launched = float(os.environ.get(LAUNCH_ENV, time.time()))
    config = TrainConfig.from_dict(job["config"])
    profiler = None
    if job.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    result = measure_window(config, job["seconds"], job["warmup"], launched)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(job["profile"])
    print(RESULT_TAG + json.dumps(result), flush=True)


def measure_window(config: TrainConfig, seconds: float, warmup: float, launched: float) -> dict:
    """Open the main window on ``config`` in this process and measure it (see the module
    docstring); ``launched``: the time.time() this process was launched at."""
    from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QSettings, Qt, QTimer

    from bnviz.gui.app import make_app
    from bnviz.gui.main_window import MainWindow, is_file

    app = make_app()
    scratch = tempfile.mkdtemp(prefix="bnviz-bench-")
    settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(config, settings=settings)
    win.controls.speed.setValue(win.controls.speed.maximum())  # as fast as it goes
    win.controls.patience.setValue(0)  # a plateau must not pause the run being measured
    win.controls.max_epochs.setValue(0)
    win.resize(*WINDOW_SIZE)
    # A file's run replaces the built-in one that trains while it loads: generation 1.
    target_generation = 1 if is_file(config.dataset) else 0
    state: dict = {"painted": 0, "frame": None, "lags": [], "last": None, "on": False}
    state.update(render=[], sampling=False, load_s=None)

    class PaintCounter(QObject):
        """A frame counts once new data was taken and a panel's view was then painted; the
        first such paint of the configured run ends ``load_s``."""

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and win.frame is not state["frame"]:
                state["frame"] = win.frame
                if win.frame is not None and win.generation == target_generation:
                    if state["load_s"] is None:
                        state["load_s"] = time.time() - launched
                    if state["on"]:
                        state["painted"] += 1
            return False

    class FirstPaint(QObject):
        """Latency is sampled from the window's first paint on."""

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and not state["sampling"]:
                state.update(sampling=True, last=None)
                obj.removeEventFilter(self)
            return False

    counter, first = PaintCounter(), FirstPaint()
    import pyqtgraph as pg

    win.installEventFilter(first)
    # win.panels: the panels are built after the first paint (gui/window_build.py); this
    # finishes their build now, in the construction (load_s counts it either way)
    for view in (v for p in win.panels.values() for v in p.findChildren(pg.GraphicsView)):
        view.viewport().installEventFilter(counter)
    for panel in win.panels.values():  # Python time spent in render(), per frame
        # the benchmark wraps each panel's render (a method) to time it, on this window only
        panel.render = _timed_render(panel.render, state)  # type: ignore[method-assign,assignment]

    clock = QElapsedTimer()
    clock.start()

    def sample() -> None:
        now = clock.nsecsElapsed() / 1e6
        if state["sampling"] and state["last"] is not None:
            state["lags"].append(max(0.0, now - state["last"] - PROBE_MS))
        state["last"] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(sample)
    timer.start(PROBE_MS)
    win.show()
    _spin(app, lambda: state["load_s"] is not None, LOAD_TIMEOUT_S)
    if state["load_s"] is None:
        raise RuntimeError(f"no snapshot of {config.dataset} drawn in {LOAD_TIMEOUT_S:g} s")
    _spin(app, lambda: False, warmup)
    from bnviz.bench.bench import CpuMonitor

    steps0, t0 = win.worker.call("bench_step_count").result(10), time.perf_counter()
    cpu0, machine = time.process_time(), CpuMonitor()
    trainer_cpu0 = _cpu_seconds(win.worker.pid)
    state.update(on=True, render=[])
    _spin(app, lambda: False, seconds)
    state["on"] = False
    steps1, t1 = win.worker.call("bench_step_count").result(10), time.perf_counter()
    gui_cpu, others = time.process_time() - cpu0, machine.other_cores()
    trainer_cpu1 = _cpu_seconds(win.worker.pid)
    trainer_cores = None
    if trainer_cpu0 is not None and trainer_cpu1 is not None:
        trainer_cores = round((trainer_cpu1 - trainer_cpu0) / (t1 - t0), 2)
    trained = win.worker.call("bench_network").result(10)
    timer.stop()
    painted, lags = state["painted"], sorted(state["lags"]) or [0.0]
    win.close()
    app.processEvents()
    win.worker.stop()
    del settings  # written on close: the scratch folder goes after it (runs left them in /tmp)
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "redraws_per_s": round(painted / (t1 - t0), 1),
        "latency_ms_p50": round(_percentile(lags, 50), 1),
        "latency_ms_p99": round(_percentile(lags, 99), 1),
        "latency_ms_max": round(lags[-1], 1),
        "latency_ms_p99_any_moment": round(_percentile(_waits(lags), 99), 1),
        "load_s": round(state["load_s"], 3),
        "app_steps_per_s": round((steps1 - steps0) / (t1 - t0), 1),
        "render_ms_p50": round(_percentile(sorted(state["render"]) or [0.0], 50), 2),
        "frames_painted": painted,
        # CPU of this (GUI) process per painted frame: steadier than wall time on a busy machine
        "gui_cpu_ms_per_frame": round(1e3 * gui_cpu / max(painted, 1), 1),
        "gui_cpu_cores": round(gui_cpu / (t1 - t0), 2),
        # other processes, the app's own training process included (it wants one core)
        "other_cpu_cores": others,
        # the share of a core the training process got: below ~0.95 it was starved of CPU
        # (other jobs on the machine), which train_ratio then shows too
        "trainer_cpu_cores": trainer_cores,
        "trained": trained,
    }


def _waits(lags: list[float], step: float = PROBE_MS) -> list[float]:
    """What an input arriving at a random moment waits, one value per ``step`` ms of time (the
    timer's interval): a tick late by ``L`` ms stands for the ticks that could not fire
    meanwhile, waiting L, L - 5, ... ms (so a 2 s block counts as 2 s of waits, not as one
    sample in ~2,000)."""
    out: list[float] = []
    for lag in lags:
        if lag > 0:
            out.extend(float(w) for w in np.arange(lag, 0.0, -step))
        else:
            out.append(0.0)
    return sorted(out)


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) process ``pid`` has used, or None (not Linux, gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _timed_render(render: Callable[[Frame], None], state: dict) -> Callable[[Frame], None]:
    def timed(frame: Frame) -> None:
        t = time.perf_counter()
        render(frame)
        if state["on"]:
            # one entry per frame: the panels of a frame are summed in the order they draw
            if state.get("frame_at") is not frame:
                state["frame_at"] = frame
                state["render"].append(0.0)
            state["render"][-1] += 1e3 * (time.perf_counter() - t)

    return timed


def _spin(app: QCoreApplication, done: Callable[[], bool], timeout: float) -> None:
    """Run the event loop until ``done()`` or ``timeout`` seconds, sleeping between events as
    ``app.exec()`` does (a processEvents() loop would poll and burn a core, which the training
    process needs)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    end = time.perf_counter() + timeout
    poll = QTimer()
    poll.setInterval(20)

    def check() -> None:
        if done() or time.perf_counter() >= end:
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    if not done():
        loop.exec()
    poll.stop()


def _percentile(sorted_values: list[float], q: float) -> float:
    i = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[i]
