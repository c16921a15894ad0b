"""Screenshots of every tab of the window at one size: the training panels, the
Hyperparameters tab and every lesson view, for looking at the layout (issue 16, item 5).

Run from the repository under a display (Xvfb) or QT_QPA_PLATFORM=offscreen::

    python docs/screens/make_screens.py OUT_DIR --size 1024x640 [--classroom 1.5]
        [--train-s 4] [--run] [--only NAME,NAME]

``--run`` presses each experiment view's Run and waits for it to finish (slow); ``--only``
keeps the tabs whose file name stem is listed; ``--preset NAME`` trains on a lesson preset.
Each PNG is named after its tab (``training.png``, ``lesson-loss-landscape.png``...).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# This checkout's bnviz, not the installed one (the script's folder is first on sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

TRAIN_CONFIG = dict(n_samples=600, hidden=(16, 16), activation="relu", optimizer="adam", lr=0.01)


def wait(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", default="1024x640")
    ap.add_argument("--classroom", type=float, default=0.0, help="classroom scale (0 = off)")
    ap.add_argument("--train-s", type=float, default=4.0)
    ap.add_argument("--run", action="store_true")
    ap.add_argument("--run-timeout", type=float, default=240.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-hint", action="store_true", help="close the hint bar (as its x does)")
    ap.add_argument(
        "--preset", default="", help="train on this lesson preset's settings (its guidance shown)"
    )
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = {s for s in args.only.split(",") if s}

    import os

    # A fresh study folder: the shots neither read nor write the user's studies.
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="bnviz-screens-")
    from PySide6.QtCore import QSettings

    from bnviz.gui.app import make_app
    from bnviz.gui.main_window import MainWindow
    from bnviz.lessons.presets import Classroom
    from bnviz.train.config import TrainConfig

    app = make_app()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.IniFormat)
    preset = None
    if args.preset:
        from bnviz.lessons.presets import load_preset

        preset = load_preset(args.preset)
    config = preset.config if preset is not None else TrainConfig(**TRAIN_CONFIG)
    win = MainWindow(config, settings=settings)
    if preset is not None:
        from bnviz.gui.classroom_menus import show_preset

        show_preset(win, preset)
    if args.no_hint:
        win.hint.hide()
    win.resize(w, h)
    win.move(0, 0)
    win.show()
    if args.classroom:
        from bnviz.gui.classroom_menus import set_classroom

        set_classroom(win, Classroom(True, (), args.classroom))
    wait(app, args.train_s)
    shots = [("training", None), ("hyperparameters", win.explorer)]
    shots += [(f"lesson-{v.slug()}", name) for name, v in win.lessons.items()]
    for stem, target in shots:
        if only and stem not in only:
            continue
        if target is None:
            win.tabs.setCurrentWidget(win.training_tab)
        elif isinstance(target, str):
            view = win.open_lesson(target)
            if args.run and hasattr(view, "run_button"):
                wait(app, 0.5)
                view.run_button.click()
                t0 = time.perf_counter()
                while time.perf_counter() - t0 < args.run_timeout:
                    wait(app, 0.5)
                    if not view.cancel_button.isEnabled():
                        break
        else:
            win.tabs.setCurrentWidget(target)
        wait(app, 2.0)
        path = out / f"{stem}.png"
        win.grab().save(str(path), "PNG")
        print(f"{path} {win.width()}x{win.height()}", file=sys.stderr)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
