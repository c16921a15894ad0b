"""Menus and file actions of the main window: open data and settings, export plots, metrics
and the model, and keep layout and settings between launches (QSettings).

Every file action reports failure in the status bar and leaves the current run as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from bnviz.gui import classroom_menus, export_menus, lesson_setting
from bnviz.gui.file_dialog import SETTINGS_SUFFIX
from bnviz.gui.file_dialog import ask as _ask
from bnviz.gui.window_api import AppWindow
from bnviz.lessons.presets import write_settings_file
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.trainer import write_metrics

if TYPE_CHECKING:
    from bnviz.gui.search.explorer import HparamExplorer

CALL_TIMEOUT_S = 5.0


def build_menus(win: AppWindow) -> None:
    bar = win.menuBar()
    file = bar.addMenu("&File")
    _action(win, file, "Open data file...", lambda: open_data_file(win), "Ctrl+O")
    _action(win, file, "Open settings...", lambda: open_settings(win))
    _action(win, file, "Save settings...", lambda: save_settings(win))
    file.addSeparator()
    _action(win, file, "Export metrics (CSV)...", lambda: export_metrics(win))
    _action(win, file, "Save model (.npz)...", lambda: save_model(win))
    export = file.addMenu("Export plot")
    for name, (title, _) in export_sources(win).items():
        # ``triggered`` passes ``checked`` first: it must not land in the name's default
        _action(win, export, f"{title}...", lambda _checked=False, n=name: export_plot(win, n))
    export.addSeparator()
    _action(win, export, "Export all plots to a folder...", lambda: export_all(win))
    if win.explorer_slot is not None:  # the tab is still to be built (gui/window_build.py)
        _action(win, file, "Export study to Optuna...", lambda: _explorer(win).export_to_optuna())
    classroom_menus.add_file_actions(win, file, _action)
    export_menus.add_file_actions(win, file, _action)
    file.addSeparator()
    _action(win, file, "Quit", win.close, "Ctrl+Q")
    run = bar.addMenu("&Run")
    _action(win, run, "Play / pause (Space)", win.toggle_play)
    _action(win, run, "Step one mini-batch (N)", win.step_once)
    _action(win, run, "Reset (R)", lambda: win.reset(win.controls.config()))
    _action(win, run, "Toggle batch norm (B)", win.toggle_bn)
    lessons = bar.addMenu("&Lessons")
    for name, cls in win.lessons.classes.items():  # a view is built when first opened
        _action(win, lessons, cls.title, lambda _checked=False, n=name: win.open_lesson(n))
    if not win.lessons:
        lessons.addAction("(no lesson views installed)").setEnabled(False)
    classroom_menus.add_preset_menu(win, lessons, _action)
    lesson_setting.connect_views(win)  # each lesson view's "Use this lesson's setting"
    classroom_menus.add_view_menu(win, bar, _action)


def menu_text(text: str) -> str:
    """``text`` as a menu shows it: Qt reads "&" as the mark of a keyboard mnemonic ("Loss
    & accuracy" read "Loss _accuracy"), "&&" as an "&"."""
    return text.replace("&", "&&")


def _action(
    win: AppWindow, menu: QMenu, text: str, slot: Callable[..., object], shortcut: str | None = None
) -> QAction:
    """A menu item showing ``text`` as written (no mnemonic)."""
    a = QAction(menu_text(text), win)
    if shortcut:
        a.setShortcut(shortcut)
    a.triggered.connect(slot)
    menu.addAction(a)
    return a


def open_data_file(win: AppWindow, path: str | None = None) -> bool:
    path = _ask(win, False, "Open data", "Data (*.npz *.csv);;All files (*)", path)
    if not path:
        return False
    from dataclasses import replace

    # Loaded in the background (MainWindow.reset): a bad file's message arrives when it is read.
    return win.reset(replace(win.controls.config(), dataset=str(path)))


def open_settings(win: AppWindow, path: str | None = None) -> bool:
    path = _ask(win, False, "Open settings", "bnviz settings (*.json);;All files (*)", path)
    if not path:
        return False
    # A settings file may carry a lesson and classroom mode: opened like a preset.
    return classroom_menus.open_preset(win, path)


def save_settings(win: AppWindow, path: str | None = None) -> bool:
    path = _ask(win, True, "Save settings", "bnviz settings (*.json)", path, SETTINGS_SUFFIX)
    if not path:
        return False
    try:
        # Classroom mode, when on, goes into the file: a teacher hands out the file in that state.
        write_settings_file(path, win.controls.config(),
                            classroom=classroom_menus.classroom_state(win))  # fmt: skip
    except OSError as e:
        win.show_message(f"could not save settings: {e}", error=True)
        return False
    win.show_message(f"settings saved to {path}")
    return True


def export_metrics(win: AppWindow, path: str | None = None) -> bool:
    path = _ask(win, True, "Export metrics", "CSV (*.csv)", path)
    if not path:
        return False
    try:
        rows = win.worker.call("metrics").result(CALL_TIMEOUT_S)
        write_metrics(path, rows)
    except Exception as e:  # OSError, a timeout: report, never crash
        win.show_message(f"could not export metrics: {e}", error=True)
        return False
    win.show_message(f"{len(rows)} metric rows written to {path}")
    return True


def save_model(win: AppWindow, path: str | None = None) -> bool:
    path = _ask(win, True, "Save model", "NumPy archive (*.npz)", path)
    if not path:
        return False

    try:
        written = win.worker.call("save_models", path=str(path)).result(CALL_TIMEOUT_S)
    except Exception as e:
        win.show_message(f"could not save the model: {e}", error=True)
        return False
    win.show_message(f"model saved: {', '.join(written)}")
    return True


def export_sources(win: AppWindow) -> dict[str, tuple[str, Callable[[], list]]]:
    """What File > Export plot offers: name -> (menu title, the plot items to write)."""

    def items(name: str) -> Callable[[], list]:  # the panels may be built after the menus
        return lambda: win.panels[name].export_items()

    out = {name: (cls.title, items(name)) for name, cls in win.panel_classes.items()}
    if win.explorer_slot is not None or win.explorer_built is not None:
        out["hyperparameters"] = ("Hyperparameters (scatter, samples, importance, curves)",
                                  lambda: _explorer(win).export_items())  # fmt: skip
    return out


def _explorer(win: AppWindow) -> HparamExplorer:
    explorer = win.explorer
    assert explorer is not None  # asked for only when the tab was planned (explorer_slot)
    return explorer


def export_plot(win: AppWindow, name: str, path: str | None = None) -> bool:
    """Export a view's plots as PNG or SVG (by the file's suffix), one file per plot item."""
    path = _ask(win, True, "Export plot", "PNG (*.png);;SVG (*.svg)", path)
    if not path:
        return False
    try:
        written = _export(win, name, Path(path))
    except Exception as e:  # OSError, a plot that cannot render: report, never crash
        win.show_message(f"could not export the plot: {e}", error=True)
        return False
    if not written:
        win.show_message("nothing to export in this view", error=True)
        return False
    win.show_message(f"exported {', '.join(written)}")
    return True


def export_all(win: AppWindow, folder: str | None = None, suffix: str = ".png") -> bool:
    """Every view's plots into ``folder``, one file per plot item, named after the view."""
    if folder is None:
        folder = QFileDialog.getExistingDirectory(win, "Export all plots to a folder") or None
    if not folder:
        return False
    written: list[str] = []
    try:
        for name in export_sources(win):
            written += _export(win, name, Path(folder) / f"{name}{suffix}")
    except Exception as e:
        win.show_message(f"could not export the plots: {e}", error=True)
        return False
    win.show_message(f"exported {len(written)} plots to {folder}")
    return bool(written)


def _export(win: AppWindow, name: str, path: Path) -> list[str]:
    """Write view ``name``'s items to ``path`` (``stem-1``, ``stem-2``... when several)."""
    from bnviz.gui.export import brought_up, export_item

    panel = win.panels.get(name)  # a training panel: drawn from the latest frame first
    page, views = (win.training_tab, [panel]) if panel is not None else (None, [])
    written = []
    with brought_up(win, page, views):
        items = export_sources(win)[name][1]()
        for i, item in enumerate(items):
            target = (
                path if len(items) == 1 else path.with_name(f"{path.stem}-{i + 1}{path.suffix}")
            )
            export_item(item, target)
            written.append(target.name)
    return written


def live_run(win: AppWindow) -> tuple[TrainConfig, RunHistory | None]:
    """The live run for "Save babysat run to study": the settings it trains with now (the
    user's changes included) and its first network's history (None before any snapshot)."""
    history = next(iter(win.histories.values()), None)
    return win.config, history


# -- persistence -------------------------------------------------------------------------------
def restore_config(settings: QSettings) -> TrainConfig | None:
    text = settings.value("last_config")
    if not text:
        return None
    try:
        return TrainConfig.from_dict(json.loads(text))
    except (ConfigError, ValueError, TypeError, RecursionError):  # a corrupt saved session
        return None


def restore_layout(win: AppWindow) -> None:
    s = win.settings
    if s.value("geometry") is not None:
        win.restoreGeometry(s.value("geometry"))
    else:
        win.resize(1500, 920)
    if s.value("window_state") is not None:
        win.restoreState(s.value("window_state"))


def restore_splitters(win: AppWindow) -> None:
    """The training tab's splitters as the user left them (when they are built)."""
    for name, sp in win.splitters.items():
        v = win.settings.value(f"splitter_{name}")
        if v is not None:
            sp.restoreState(v)


def save_layout(win: AppWindow) -> None:
    s = win.settings
    s.setValue("geometry", win.saveGeometry())
    s.setValue("window_state", win.saveState())
    for name, sp in win.splitters.items():
        s.setValue(f"splitter_{name}", sp.saveState())
    s.setValue("last_config", json.dumps(win.controls.config().to_dict()))
    s.sync()
