"""``bnviz bench --gui --session``: a scripted session, and how long each action froze the window.

A user feels a freeze as a click that is not answered; the p99 of a timer's lateness hides a
1 s block among thousands of ticks. So a watchdog (:mod:`bnviz.bench.session_watch`) records
every block of the GUI thread and charges it to the action it began in; an action's figure is
its longest block (``"actions": {NAME: ms}``). The window's construction (before the event loop
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

from bnviz.bench.session_watch import P99_ANY_MOMENT_TARGET_MS, STACKS_ENV, Watchdog
from bnviz.bench.window_bench import WINDOW_SIZE, _cpu_seconds, _spin
from bnviz.train.config import TrainConfig

if TYPE_CHECKING:  # Qt and the profiler are imported where used
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialog, QMenu

PYCACHE = Path(tempfile.gettempdir()) / "bnviz-bench-pycache"
RESULT_TAG = "bnviz-session-bench"
TRAIN_S = 3.0  # the "train" action: the window trains this long
DWELL_S = 1.5  # after each action: what it set going (a lesson's probes, a new run) is drawn
QUICK_TRAIN_S, QUICK_DWELL_S = 1.0, 0.6
FILE_TIMEOUT_S = 180.0  # a file's run not drawn by then fails the session
ROUND_TIMEOUT_S = 240.0
SEARCH_TRIALS, SEARCH_EPOCHS = 2, 1  # "small": the round's point is its start and its results
EXPORTED_PANEL = "loss"
TARGETS = {"action_ms": ("<=", 100.0),
           "latency_ms_p99_any_moment": ("<=", P99_ANY_MOMENT_TARGET_MS)}  # fmt: skip


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
    # Every module compiled before the session, as pip compiles an installed app: otherwise the
    # first session after a change compiled the changed modules inside the window's
    # construction (110-132 ms against 70-86 in the runs after it). A no-op when up to date.
    package = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=env,
                   capture_output=True, timeout=300, check=False)  # fmt: skip
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
        self.watch = Watchdog()  # started again, its clock with it, when the session runs

    # -- the session -----------------------------------------------------------------------------
    def run(self) -> dict:
        from PySide6.QtCore import QSettings, Qt, QTimer

        from bnviz.gui.app import freeze_startup_heap, make_app

        app = make_app()
        self.app = app
        self.watch = Watchdog()
        settings = QSettings(str(self.scratch / "settings.ini"), QSettings.Format.IniFormat)
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
        self.watch.start()
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
        self.watch.stop()
        win.close()
        app.processEvents()
        win.worker.stop()
        cores = None
        if trainer0 is not None and trainer1 is not None and t1 > t0:
            cores = round((trainer1 - trainer0) / (t1 - t0), 2)
        return {
            "session": True,
            **self.watch.figures(construct_ms, construct_cpu_ms),
            "classroom_turned_on": on,
            # the share of a core the trainer got while the session trained and drew lessons
            "trainer_cpu_cores": cores,
            "file": self.file,
        }

    def mark(self, name: str) -> None:
        self.watch.mark(name)

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
