"""Start the app: ``bnviz`` with no arguments, ``bnviz --screenshot FILE`` or
``bnviz --report FILE``."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from bnviz.data import Dataset
from bnviz.train.config import TrainConfig

APP_NAME = "bnviz"


def make_app():
    """The QApplication (created once), with pyqtgraph's light theme and antialiasing."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    pg.setConfigOptions(antialias=False, background="w", foreground="k")
    icon = Path(__file__).resolve().parent.parent / "assets" / "icon.png"
    if icon.exists():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    return app


def no_display_message() -> str | None:
    """Why Qt would abort at start-up on this machine (Linux without a display), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "bnviz: no display found (DISPLAY is not set). Run it on a desktop, under Xvfb, or "
        "with QT_QPA_PLATFORM=offscreen for --screenshot; the headless commands are "
        "bnviz train, bnviz sweep and bnviz bench."
    )


def run_app(
    config: TrainConfig | None = None,
    screenshot: str | None = None,
    run_for: float = 3.0,
    data: Dataset | None = None,
    lesson: str | None = None,
    preset=None,
    report: str | None = None,
    record: str | None = None,
) -> int:
    """Open the window and train at once; with ``screenshot``, save a PNG of the whole window
    after ``run_for`` seconds and exit (status 1 if the file could not be written). ``data``:
    the data ``config`` names, already loaded; ``lesson``: the class name of a lesson view to
    open (:func:`bnviz.gui.lessons.find_lesson`); ``preset``: a
    :class:`~bnviz.lessons.presets.Preset` whose guidance and classroom state to show (its
    settings are ``config``); ``report``: like ``screenshot``, but writes an HTML report;
    ``record``: record every frame drawn to this file (written when the window closes)."""
    problem = no_display_message()
    if problem:
        sys.stderr.write(problem + "\n")
        return 2
    for flag, out in (("--screenshot", screenshot), ("--report", report), ("--record", record)):
        if out and not Path(out).resolve().parent.is_dir():
            sys.stderr.write(f"bnviz: {flag}: folder of {out} does not exist\n")
            return 2
    headless = bool(screenshot or report)
    app = make_app()
    from PySide6.QtCore import QSettings, QTimer

    from bnviz.gui.main_window import MainWindow

    settings = None
    if headless:  # a screenshot must not depend on (or change) the user's saved layout
        scratch = tempfile.mkdtemp(prefix="bnviz-shot-")
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(config, settings=settings, data=data)
    if headless:
        win.resize(1600, 1000)
    if lesson is not None:
        win.open_lesson(lesson)
    if preset is not None:
        from bnviz.gui.classroom_menus import show_preset

        show_preset(win, preset)
    if record is not None:
        from bnviz.gui.export_menus import start_recording

        start_recording(win, record)
    win.show()
    freeze_startup_heap()
    result = {"status": 0}
    if screenshot:

        def shoot() -> None:
            ok = save_window_png(win, screenshot)
            if not ok:
                sys.stderr.write(f"bnviz: could not write {screenshot}\n")
                result["status"] = 1
            else:
                print(f"saved {screenshot} ({win.width()}x{win.height()})")
            win.close()

        QTimer.singleShot(int(run_for * 1000), win, shoot)
    elif report:

        def write() -> None:
            from bnviz.gui.report import write_report

            try:
                write_report(win, report)
                print(f"wrote {report}")
            except Exception as e:  # OSError, a plot that cannot render: say so, exit 1
                sys.stderr.write(f"bnviz: could not write {report}: {e}\n")
                result["status"] = 1
            win.close()

        QTimer.singleShot(int(run_for * 1000), win, write)
    app.exec()
    win.worker.stop()  # normally done by closeEvent; never leave the trainer thread behind
    if headless:
        shutil.rmtree(scratch, ignore_errors=True)
    return result["status"]


def freeze_startup_heap() -> None:
    """Exempt everything built so far (modules, the window, its widgets) from Python's garbage
    collector: the full collection :meth:`MainWindow.reset` runs to drop a run's plot items
    then scans only what was made since, 0.2 s less of a frozen window at each new run.
    Garbage made before this is never collected (the first run's dropped items, once)."""
    import gc

    gc.freeze()


def save_window_png(win, path: str) -> bool:
    """Grab the whole window (menus, docks, status bar) into a PNG."""
    return bool(win.grab().save(str(path), "PNG"))
