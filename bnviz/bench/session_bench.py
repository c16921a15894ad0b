"""``bnviz bench --gui --session``: a scripted session, and how long each action froze the window.

A user feels a freeze as a click that is not answered; the p99 of a timer's lateness hides a
1 s block among thousands of ticks. So a watchdog timer fires every :data:`WATCH_MS` ms in the
GUI thread and records each gap: a gap of ``G`` ms past its interval is a block of the GUI thread
that long. Each block is charged to the action during which it began (or whose start it
contains: the script starts an action between two ticks), and an action's figure is its longest
block (``"actions": {NAME: ms}``). The window's construction (before the event loop
can run anything) counts as a block of ``start``.

The session, in a fresh process on the app's defaults (one network; speed at max, auto-pause
off), each action taken the way a user takes it (the menus' actions, the keys):

``start`` (the window built, shown and drawing), ``train`` (training for a while), ``press_b``
(the B key), ``lesson:NAME`` for each view of :func:`bnviz.gui.lessons.lesson_classes` (from the
Lessons menu), ``training_tab`` (back to the plots), ``open_file`` (File > Open of the MNIST-size
file of ``--make-bigdata``, until its run is drawn), ``hyperparameters_tab``, ``search_round`` (a
small round of the explorer, until it ends), ``export_plot`` (File > Export plot, the loss
panel), ``classroom_on`` (View > Classroom mode, its dialog accepted) and ``classroom_off``.

``latency_ms_p99_any_moment`` is over the whole session from the first paint on (what a click at
a random moment waits; see :func:`bnviz.bench.window_bench._waits`). Qt is imported inside the
functions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from bnviz.bench.window_bench import WINDOW_SIZE, _cpu_seconds, _percentile, _spin, _waits
from bnviz.train.config import TrainConfig

if TYPE_CHECKING:  # Qt and the profiler are imported where used
    import cProfile

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialog, QMenu

WATCH_MS = 2
PYCACHE = Path(tempfile.gettempdir()) / "bnviz-bench-pycache"
RESULT_TAG = "bnviz-session-bench"
TRAIN_S = 3.0  # the "train" action: the window trains this long
DWELL_S = 1.5  # after each action: what it set going (a lesson's probes, a new run) is drawn
QUICK_TRAIN_S, QUICK_DWELL_S = 1.0, 0.6
FILE_TIMEOUT_S = 180.0  # a file's run not drawn by then fails the session
ROUND_TIMEOUT_S = 240.0
SEARCH_TRIALS, SEARCH_EPOCHS = 2, 1  # "small": the round's point is its start and its results
EXPORTED_PANEL = "loss"
# Diagnosis: set to a folder, and each action's cProfile statistics go there (ACTION.prof)
PROFILE_ENV = "BNVIZ_SESSION_PROFILE"
# Diagnosis: set to a file, and the GUI thread's Python stacks sampled while it is blocked go
# there (JSON: per action, the stacks seen most, one sample every STACK_SAMPLE_MS)
STACKS_ENV = "BNVIZ_SESSION_STACKS"
STACK_SAMPLE_MS, STACK_BLOCKED_MS, STACK_DEPTH = 3.0, 12.0, 10
BLOCK_FELT_MS = 16.7  # a block longer than a 60 Hz frame: what actions_blocked_ms sums
TARGETS = {"action_ms": ("<=", 100.0), "latency_ms_p99_any_moment": ("<=", 30.0)}


def session_config() -> TrainConfig:
    """The session's first run: the app's defaults, one network (B flips its BN)."""
    return TrainConfig()


def run_session_bench(args: object, data_file: str | None = None) -> int:
    """Run the session (``data_file``: the file it opens; None: an MNIST-size file generated
    into a temporary folder); print a table, or one JSON object with ``args.json``."""
    as_json = bool(getattr(args, "json", False))
    quick = bool(getattr(args, "quick", False))
    say = (lambda text: None) if as_json else (lambda t: print(f"... {t}", file=sys.stderr))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    stacks = os.environ.get(STACKS_ENV)
    if stacks and not Path(stacks).parent.is_dir():  # said now, not after a 40 s session
        sys.stderr.write(f"bnviz bench --gui --session: {STACKS_ENV}={stacks}: no such folder\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="bnviz-session-") as tmp:
        if data_file is None:
            from bnviz.bench.bigdata import MNIST_NAME, write_mnist_like

            say("writing an MNIST-size file (bnviz bench --make-bigdata writes it to keep)")
            data_file = str(write_mnist_like(Path(tmp) / MNIST_NAME))
        elif not Path(data_file).is_file():
            sys.stderr.write(f"bnviz bench --gui --session: {data_file}: file not found\n")
            return 2
        say(f"a scripted session in a fresh window process, opening {data_file}")
        gui = measure_session_in_fresh_process(data_file, quick, tmp)
    gui["platform"] = os.environ["QT_QPA_PLATFORM"]
    report = {"gui": gui}
    print(json.dumps(report, indent=1) if as_json else format_session(report))
    return 0


def format_session(report: dict) -> str:
    g = report["gui"]
    limit = TARGETS["action_ms"][1]
    lines = [
        f"GUI session, {g['platform']}, {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]} window, file "
        f"{Path(g['file']).name}; the longest block of the GUI thread per action "
        f"(watchdog every {g['watch_ms']} ms; target <= {limit:g} ms)"
    ]
    for name, ms in g["actions"].items():
        cpu, blocked = g["actions_cpu_ms"][name], g["actions_blocked_ms"][name]
        lines.append(f"  {name:34} {ms:>8.1f} ms  {'ok' if ms <= limit else 'MISS':4}  "
                     f"(GUI CPU in it {cpu:.0f} ms; blocked {blocked:.0f} ms in all)")  # fmt: skip
    p99 = g["latency_ms_p99_any_moment"]
    target = TARGETS["latency_ms_p99_any_moment"][1]
    lines.append(
        f"latency p99 at any moment {p99} ms (target <= {target:g}: "
        f"{'ok' if p99 <= target else 'MISS'}); p99 of ticks {g['latency_ms_p99']} ms, max "
        f"{g['latency_ms_max']} ms; window construction {g['construct_ms']} ms; trainer "
        f"{g['trainer_cpu_cores']} of a core"
    )
    return "\n".join(lines)


def measure_session_in_fresh_process(data_file: str, quick: bool, scratch: str) -> dict:
    from bnviz.bench.bench import blas_env

    job = {"file": data_file, "quick": quick, "scratch": scratch}
    code = f"from bnviz.bench.session_bench import _child; _child({json.dumps(job)!r})"
    # the explorer's default study goes to the scratch folder, not the user's; modules are
    # imported from compiled bytecode as an installed app's are (compiling bnviz's sources took
    # 0.4 s of the window's construction with $PYTHONDONTWRITEBYTECODE set)
    env = dict(blas_env(1), XDG_DATA_HOME=scratch, PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True,
        timeout=FILE_TIMEOUT_S + ROUND_TIMEOUT_S + 300,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    raise RuntimeError(
        f"the session benchmark failed (exit {proc.returncode}): "
        f"{proc.stdout[-500:]} {proc.stderr[-2500:]}"
    )


def _child(job_json: str) -> None:
    job = json.loads(job_json)
    result = Session(job["file"], job["quick"], Path(job["scratch"])).run()
    print(RESULT_TAG + json.dumps(result), flush=True)


class Session:
    """The scripted session in this process (see the module docstring)."""

    def __init__(self, data_file: str, quick: bool, scratch: Path) -> None:
        self.file = data_file
        self.scratch = scratch
        self.train_s = QUICK_TRAIN_S if quick else TRAIN_S
        self.dwell_s = QUICK_DWELL_S if quick else DWELL_S
        self.marks: list[tuple[str, float]] = []  # (action, start in ms of the clock)
        # (when, gap beyond WATCH_MS, CPU time of this thread during the gap), ms
        self.ticks: list[tuple[float, float, float]] = []
        self.last: float | None = None
        self.last_cpu = 0.0
        self.sampling = False
        self.profile: cProfile.Profile | None = None
        self.stacks: dict[str, dict[str, int]] = {}

    # -- the watchdog ----------------------------------------------------------------------------
    def now_ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1e3

    def _tick(self) -> None:
        now, cpu = self.now_ms(), time.thread_time() * 1e3
        if self.sampling and self.last is not None:
            self.ticks.append((now, max(0.0, now - self.last - WATCH_MS), cpu - self.last_cpu))
        self.last, self.last_cpu = now, cpu

    def mark(self, name: str) -> None:
        self.marks.append((name, self.now_ms()))
        folder = os.environ.get(PROFILE_ENV)
        if folder:  # one profile per action, of this (the GUI) thread
            import cProfile

            if self.profile is not None:
                self.profile.disable()
                previous = self.marks[-2][0].replace(":", "-")
                self.profile.dump_stats(str(Path(folder) / f"{previous}.prof"))
            self.profile = cProfile.Profile()
            self.profile.enable()

    def _sample_stacks_while_blocked(self) -> None:
        """A thread that records the GUI thread's Python stack whenever the watchdog has not
        ticked for STACK_BLOCKED_MS (it misses C++ work that holds the GIL)."""
        import threading

        gui = threading.get_ident()

        def sample() -> None:
            while self.marks[-1][0] != "end":
                time.sleep(STACK_SAMPLE_MS / 1e3)
                last = self.last
                if last is None or self.now_ms() - last < STACK_BLOCKED_MS:
                    continue
                frame = sys._current_frames().get(gui)
                lines: list[str] = []
                while frame is not None and len(lines) < STACK_DEPTH:
                    code = frame.f_code
                    where = code.co_filename.rsplit("site-packages/", 1)[-1]
                    lines.append(f"{where}:{frame.f_lineno} {code.co_name}")
                    frame = frame.f_back
                seen = self.stacks.setdefault(self.marks[-1][0], {})
                key = "\n".join(lines)
                seen[key] = seen.get(key, 0) + 1

        threading.Thread(target=sample, name="stack-sampler", daemon=True).start()

    # -- the session -----------------------------------------------------------------------------
    def run(self) -> dict:
        from PySide6.QtCore import QSettings, Qt, QTimer

        from bnviz.gui.app import freeze_startup_heap, make_app

        app = make_app()
        self.app = app
        self.t0 = time.perf_counter()
        settings = QSettings(str(self.scratch / "settings.ini"), QSettings.Format.IniFormat)
        watchdog = QTimer()
        watchdog.setTimerType(Qt.TimerType.PreciseTimer)
        watchdog.timeout.connect(self._tick)
        self.mark("start")
        from bnviz.gui.main_window import MainWindow

        built, built_cpu = time.perf_counter(), time.thread_time()
        win = MainWindow(session_config(), settings=settings)
        self.win = win
        c = win.controls
        c.speed.setValue(c.speed.maximum())
        c.patience.setValue(0)  # a plateau must not pause the session's training
        c.max_epochs.setValue(0)
        win.resize(*WINDOW_SIZE)
        win.show()
        freeze_startup_heap()  # as the app does (gui/app.py)
        construct_ms = (time.perf_counter() - built) * 1e3
        construct_cpu_ms = (time.thread_time() - built_cpu) * 1e3
        watchdog.start(WATCH_MS)
        self.sampling = True
        stacks_file = os.environ.get(STACKS_ENV)
        if stacks_file:
            self._sample_stacks_while_blocked()
        self._wait_drawn(0, 60.0)
        self.spin(self.dwell_s)
        self.mark("train")
        self.spin(self.train_s)
        trainer0, t0 = _cpu_seconds(win.worker.pid), time.perf_counter()
        self.mark("press_b")
        self._key(Qt.Key.Key_B)
        self.spin(self.dwell_s)
        self._lessons()
        self.mark("training_tab")
        win.tabs.setCurrentIndex(0)
        self.spin(self.dwell_s)
        trainer1, t1 = _cpu_seconds(win.worker.pid), time.perf_counter()
        self.mark("open_file")
        from bnviz.gui import classroom_menus, menus

        generation = win.generation
        menus.open_data_file(win, self.file)
        self._wait_drawn(generation + 1, FILE_TIMEOUT_S)
        self.spin(self.dwell_s)
        self._search_round()
        self.mark("export_plot")
        win.tabs.setCurrentIndex(0)
        menus.export_plot(win, EXPORTED_PANEL, str(self.scratch / "plot.png"))
        self.spin(self.dwell_s)
        self.mark("classroom_on")
        QTimer.singleShot(200, self._accept_dialog)
        win.classroom_action.trigger()  # its dialog runs its own event loop until accepted
        on = classroom_menus.classroom_state(win) is not None
        self.spin(self.dwell_s)
        self.mark("classroom_off")
        win.classroom_action.trigger()
        self.spin(self.dwell_s)
        self.mark("end")
        watchdog.stop()
        if stacks_file:
            _write_stacks(stacks_file, self.stacks)
        win.close()
        app.processEvents()
        win.worker.stop()
        return self._result(construct_ms, construct_cpu_ms, on, trainer0, t0, trainer1, t1)

    def _lessons(self) -> None:
        from bnviz.gui.lessons import lesson_classes
        from bnviz.gui.menus import menu_text

        menu = self._menu("Lessons")
        actions = {a.text(): a for a in menu.actions()}
        for name, cls in lesson_classes().items():
            self.mark(f"lesson:{name}")
            action = actions.get(menu_text(cls.title))
            if action is None:
                raise RuntimeError(f"the Lessons menu has no {cls.title!r}")
            action.trigger()
            self.spin(self.dwell_s)

    def _search_round(self) -> None:
        win = self.win
        explorer = getattr(win, "explorer", None)
        if explorer is None:
            raise RuntimeError("the window has no hyperparameter explorer")
        self.mark("hyperparameters_tab")
        win.tabs.setCurrentWidget(explorer)  # opens the default study (in the scratch folder)
        self.spin(self.dwell_s)
        explorer.controls.epochs.setValue(SEARCH_EPOCHS)
        self.mark("search_round")
        if not explorer.start_round(n=SEARCH_TRIALS):
            raise RuntimeError(f"the round did not start: {win.status_message.text()}")
        self.spin(ROUND_TIMEOUT_S, lambda: not explorer.busy)
        if explorer.busy:
            raise RuntimeError(f"the search round did not end in {ROUND_TIMEOUT_S:g} s")
        self.spin(self.dwell_s)

    # -- helpers ---------------------------------------------------------------------------------
    def spin(self, seconds: float, done: Callable[[], bool] = lambda: False) -> None:
        _spin(self.app, done, seconds)

    def _key(self, key: Qt.Key) -> None:
        """A key press the way a user's reaches the window (its shortcuts)."""
        from PySide6.QtTest import QTest

        self.win.activateWindow()
        QTest.keyClick(self.win, key)

    def _menu(self, title: str) -> QMenu:
        for action in self.win.menuBar().actions():
            if action.text().replace("&", "") == title:
                return cast("QMenu", action.menu())  # a menu bar action's menu
        raise RuntimeError(f"no {title} menu")

    def _accept_dialog(self) -> None:
        from PySide6.QtWidgets import QApplication

        dialog = QApplication.activeModalWidget()
        if dialog is None:  # not open yet (a loaded machine)
            from PySide6.QtCore import QTimer

            QTimer.singleShot(100, self._accept_dialog)
            return
        cast("QDialog", dialog).accept()  # the modal widget is the dialog just opened

    def _wait_drawn(self, generation: int, timeout: float) -> None:
        """Spin until a frame of run ``generation`` is on the Training tab."""
        win = self.win
        self.spin(timeout, lambda: win.generation == generation and win.frame is not None)
        if win.generation != generation or win.frame is None:
            raise RuntimeError(f"no frame of run {generation} in {timeout:g} s: "
                               f"{win.status_message.text()}")  # fmt: skip

    def _result(
        self, construct_ms: float, construct_cpu_ms: float, classroom_on: bool,
        trainer0: float | None, t0: float, trainer1: float | None, t1: float,
    ) -> dict:  # fmt: skip
        """Each block charged to the action it began in; the construction is one of start's.
        A block with an action's mark inside it is that action's: the script marks and then
        starts an action between two ticks, so the action's own work begins the block."""
        starts = [t for _, t in self.marks]
        names = [n for n, _ in self.marks[:-1]]
        longest = dict.fromkeys(names, 0.0)
        longest["start"] = construct_ms
        cpu = dict.fromkeys(names, 0.0)
        cpu["start"] = construct_cpu_ms
        blocked = dict.fromkeys(names, 0.0)
        blocked["start"] = construct_ms
        target = TARGETS["latency_ms_p99_any_moment"][1]
        excess = dict.fromkeys(names, 0.0)
        for when, gap, used in self.ticks:
            i = max(0, sum(1 for s in starts if s <= when) - 1)
            if i >= len(names):  # after the last action ended
                continue
            if gap > BLOCK_FELT_MS:
                blocked[names[i]] += gap
            excess[names[i]] += max(0.0, gap - target)
            if gap > longest[names[i]]:
                longest[names[i]], cpu[names[i]] = gap, used
        lags = sorted(g for _, g, _c in self.ticks) or [0.0]
        cores = None
        if trainer0 is not None and trainer1 is not None and t1 > t0:
            cores = round((trainer1 - trainer0) / (t1 - t0), 2)
        return {
            "session": True,
            "actions": {n: round(ms, 1) for n, ms in longest.items()},
            # the GUI thread's CPU time within that longest block: far below the block, the
            # process waited for a core (a loaded machine), not for its own work
            "actions_cpu_ms": {n: round(ms, 1) for n, ms in cpu.items()},
            # all of an action's blocks longer than a 60 Hz frame, summed: a view that stutters
            # while shown, which its longest block does not tell
            "actions_blocked_ms": {n: round(ms, 1) for n, ms in blocked.items()},
            # each block's part over the p99 target, summed: the p99 at any moment exceeds the
            # target when these add up to over 1% of the session (what to shorten first)
            "actions_excess_ms": {n: round(ms, 1) for n, ms in excess.items()},
            "action_started_s": {n: round(t / 1e3, 2) for n, t in self.marks},
            "latency_ms_p99_any_moment": round(_percentile(_waits(lags, WATCH_MS), 99), 1),
            "latency_ms_p99": round(_percentile(lags, 99), 1),
            "latency_ms_max": round(lags[-1], 1),
            "construct_ms": round(construct_ms, 1),
            "classroom_turned_on": classroom_on,
            # the share of a core the trainer got while the session trained and drew lessons
            "trainer_cpu_cores": cores,
            "watch_ms": WATCH_MS,
            "file": self.file,
            "seconds": round(self.marks[-1][1] / 1e3, 1),
        }


def _write_stacks(path: str, stacks: dict[str, dict[str, int]], most: int = 6) -> None:
    """Per action, its ``most`` commonest blocked stacks, innermost frame first."""
    out = {
        action: [
            {"samples": n, "stack": k.splitlines()}
            for k, n in sorted(seen.items(), key=lambda kv: -kv[1])[:most]
        ]  # fmt: skip
        for action, seen in stacks.items()
    }
    Path(path).write_text(json.dumps(out, indent=1))
