"""``bnviz bench --gui``: how the app keeps up with a training run.

With every panel visible in compare mode on the default setup (spirals, 64-64 ReLU) the window is
measured for :data:`SECONDS` seconds after a warm-up:

- ``redraws_per_s``: frames that were drawn from a new snapshot *and* painted (a paint event on a
  panel's view after the window took new data), not timer ticks;
- ``latency_ms_p50`` / ``latency_ms_p99``: how late a 5 ms timer fires, i.e. how long the event
  loop is blocked (what a click or a key press waits for);
- ``train_ratio``: steps/s of the training process inside the app over the steps/s of a headless
  :class:`~bnviz.train.trainer.Trainer` of the same setup in a fresh process, measured back to back;
- ``first_paint_s``: from launching ``python -m bnviz --screenshot ...`` to the first paint of its
  main window (the child reports it when ``$BNVIZ_REPORT_FIRST_PAINT`` holds the launch time).

Qt's platform is ``$QT_QPA_PLATFORM`` when set, else ``offscreen`` (no display needed). Qt is
imported only inside the functions, so the headless child starts without it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bnviz.train.config import TrainConfig
from bnviz.train.probes import ProbeContext, probe

SECONDS = 8.0
WARMUP_S = 2.0
QUICK_SECONDS = 1.0
QUICK_WARMUP_S = 0.5
PROBE_MS = 5
WINDOW_SIZE = (1600, 1000)
FIRST_PAINT_ENV = "BNVIZ_REPORT_FIRST_PAINT"
FIRST_PAINT_TAG = "bnviz-first-paint"
FIRST_PAINT_RUNS = 3
# The workload every figure in README was measured on (the first release's default setup), kept
# fixed so that a change of the app's defaults does not change what the benchmark measures.
BENCH_CONFIG = TrainConfig(
    compare=True, hidden=(64, 64), activation="relu", optimizer="adam", lr=0.01, batch_size=64
)
TARGETS = {  # from the issue; reported, never asserted
    "redraws_per_s": (">=", 30.0),
    "latency_ms_p99": ("<=", 50.0),
    "train_ratio": (">=", 0.7),
    "first_paint_s": ("<=", 2.0),
}


@probe("bench_step_count")
def step_count(ctx: ProbeContext) -> int:
    """The training process's step count, read between two steps."""
    return ctx.step


def run_gui_bench(args) -> int:
    """Run the benchmark; print a table, or one JSON object with ``args.json``."""
    quick = bool(getattr(args, "quick", False))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    say = (lambda text: None) if args.json else (lambda t: print(f"... {t}", file=sys.stderr))
    seconds = QUICK_SECONDS if quick else SECONDS
    say("first paint of a fresh app")
    paints = [first_paint_s() for _ in range(1 if quick else FIRST_PAINT_RUNS)]
    say(f"headless trainer, {seconds:g} s")
    headless = headless_steps_per_s(seconds)
    say(f"window, {seconds:g} s after {QUICK_WARMUP_S if quick else WARMUP_S:g} s of warm-up")
    gui = measure_window(seconds, QUICK_WARMUP_S if quick else WARMUP_S)
    gui["headless_steps_per_s"] = round(headless, 1)
    gui["train_ratio"] = round(gui["app_steps_per_s"] / headless, 3) if headless > 0 else None
    gui["first_paint_s"] = round(statistics.median(paints), 3)
    gui["first_paint_runs_s"] = [round(p, 3) for p in paints]
    gui["platform"] = os.environ["QT_QPA_PLATFORM"]
    gui["seconds"] = seconds
    report = {"gui": gui}
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


def format_report(report: dict) -> str:
    g = report["gui"]
    lines = [
        f"GUI, compare mode, default setup, {g['platform']}, {g['seconds']:g} s "
        f"({WINDOW_SIZE[0]}x{WINDOW_SIZE[1]} window)"
    ]
    for key, (op, target) in TARGETS.items():
        value = g[key]
        ok = value is not None and (value >= target if op == ">=" else value <= target)
        lines.append(f"{key:16} {value!s:>8}   target {op} {target:g}  {'ok' if ok else 'MISS'}")
    lines.append(
        f"latency p50 {g['latency_ms_p50']} ms; render {g['render_ms_p50']} ms per frame (p50); "
        f"app {g['app_steps_per_s']:,.0f} vs headless {g['headless_steps_per_s']:,.0f} steps/s"
    )
    return "\n".join(lines)


# -- the window ----------------------------------------------------------------------------------
def measure_window(seconds: float, warmup: float) -> dict:
    """Open the main window in this process and measure it for ``seconds``."""
    from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QSettings, Qt, QTimer

    from bnviz.gui.app import make_app
    from bnviz.gui.main_window import MainWindow

    app = make_app()
    scratch = tempfile.mkdtemp(prefix="bnviz-bench-")
    settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(BENCH_CONFIG, settings=settings)
    win.controls.speed.setValue(win.controls.speed.maximum())  # as fast as it goes
    win.controls.patience.setValue(0)  # a plateau must not pause the run being measured
    win.controls.max_epochs.setValue(0)
    win.resize(*WINDOW_SIZE)
    win.show()
    state = {"painted": 0, "frame": None, "lags": [], "last": None, "on": False, "render": []}

    class PaintCounter(QObject):
        """A frame counts once new data was taken and a panel's view was then painted."""

        def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Paint and win.frame is not state["frame"]:
                state["frame"] = win.frame
                if state["on"] and win.frame is not None:
                    state["painted"] += 1
            return False

    counter = PaintCounter()
    import pyqtgraph as pg

    for view in win.tabs.widget(0).findChildren(pg.GraphicsView):
        view.viewport().installEventFilter(counter)
    for panel in win.panels.values():  # Python time spent in render(), per frame
        panel.render = _timed_render(panel.render, state)

    clock = QElapsedTimer()
    clock.start()

    def probe() -> None:
        now = clock.nsecsElapsed() / 1e6
        if state["on"] and state["last"] is not None:
            state["lags"].append(max(0.0, now - state["last"] - PROBE_MS))
        state["last"] = now

    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.timeout.connect(probe)
    timer.start(PROBE_MS)
    _spin(app, lambda: win.frame is not None, 20.0)
    _spin(app, lambda: False, warmup)
    from bnviz.bench.bench import CpuMonitor

    steps0, t0 = win.worker.call("bench_step_count").result(10), time.perf_counter()
    cpu0, machine = time.process_time(), CpuMonitor()
    state.update(on=True, render=[], last=None)
    _spin(app, lambda: False, seconds)
    state["on"] = False
    steps1, t1 = win.worker.call("bench_step_count").result(10), time.perf_counter()
    gui_cpu, others = time.process_time() - cpu0, machine.other_cores()
    timer.stop()
    painted, lags = state["painted"], sorted(state["lags"]) or [0.0]
    win.close()
    app.processEvents()
    win.worker.stop()
    return {
        "redraws_per_s": round(painted / (t1 - t0), 1),
        "latency_ms_p50": round(_percentile(lags, 50), 1),
        "latency_ms_p99": round(_percentile(lags, 99), 1),
        "train_ratio": None,  # filled in by the caller
        "first_paint_s": None,
        "app_steps_per_s": round((steps1 - steps0) / (t1 - t0), 1),
        "render_ms_p50": round(_percentile(sorted(state["render"]) or [0.0], 50), 2),
        "frames_painted": painted,
        # CPU of this (GUI) process per painted frame: steadier than wall time on a busy machine
        "gui_cpu_ms_per_frame": round(1e3 * gui_cpu / max(painted, 1), 1),
        "gui_cpu_cores": round(gui_cpu / (t1 - t0), 2),
        # other processes, the app's own training process included (it wants one core)
        "other_cpu_cores": others,
    }


def _timed_render(render, state: dict):
    def timed(frame) -> None:
        t = time.perf_counter()
        render(frame)
        if state["on"]:
            # one entry per frame: the panels of a frame are summed in the order they draw
            if state.get("frame_at") is not frame:
                state["frame_at"] = frame
                state["render"].append(0.0)
            state["render"][-1] += 1e3 * (time.perf_counter() - t)

    return timed


def _spin(app, done, timeout: float) -> None:
    """Run the event loop until ``done()`` or ``timeout`` seconds, sleeping between events as
    ``app.exec()`` does (a processEvents() loop would poll and burn a core, which the training
    process needs)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    end = time.perf_counter() + timeout
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: (done() or time.perf_counter() >= end) and loop.quit())
    poll.start()
    if not done():
        loop.exec()
    poll.stop()


def _percentile(sorted_values: list[float], q: float) -> float:
    i = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[i]


# -- fresh processes -----------------------------------------------------------------------------
def headless_steps_per_s(seconds: float) -> float:
    """Steps/s of the default compare-mode Trainer, alone in a fresh process (as the app's
    training process is: one BLAS thread)."""
    from bnviz.bench.bench import blas_env

    code = f"from bnviz.bench.gui_bench import _headless; print(_headless({seconds!r}))"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=blas_env(1), capture_output=True, text=True, check=True
    )
    return float(proc.stdout.strip().splitlines()[-1])


def _headless(seconds: float) -> float:
    from bnviz.nn.blas import limit_blas_threads
    from bnviz.train.trainer import Trainer

    limit_blas_threads()
    trainer = Trainer(BENCH_CONFIG)
    trainer.run(20)  # warm caches and allocations
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        trainer.step()
        n += 1
    return n / (time.perf_counter() - t0)


def first_paint_s() -> float:
    """Seconds from launching ``python -m bnviz --screenshot`` to its window's first paint."""
    with tempfile.TemporaryDirectory(prefix="bnviz-bench-") as tmp:
        env = dict(os.environ, **{FIRST_PAINT_ENV: repr(time.time())})
        cmd = [sys.executable, "-m", "bnviz", "--compare", "--screenshot", f"{tmp}/shot.png"]
        proc = subprocess.run(
            [*cmd, "--run-for", "0.3"], env=env, capture_output=True, text=True, timeout=120
        )
    for line in proc.stdout.splitlines():
        if line.startswith(FIRST_PAINT_TAG):
            return float(line.split()[1])
    raise RuntimeError(f"no first paint reported: {proc.stdout[-500:]} {proc.stderr[-1500:]}")
