"""Menus and file actions of the main window: open data and settings, export plots, metrics
and the model, and keep layout and settings between launches (QSettings).

Every file action reports failure in the status bar and leaves the current run as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.trainer import write_metrics

CALL_TIMEOUT_S = 5.0


def build_menus(win) -> None:
    bar = win.menuBar()
    file = bar.addMenu("&File")
    _action(win, file, "Open data file...", lambda: open_data_file(win), "Ctrl+O")
    _action(win, file, "Open settings...", lambda: open_settings(win))
    _action(win, file, "Save settings...", lambda: save_settings(win))
    file.addSeparator()
    _action(win, file, "Export metrics (CSV)...", lambda: export_metrics(win))
    _action(win, file, "Save model (.npz)...", lambda: save_model(win))
    export = file.addMenu("Export plot")
    for name, panel in win.panels.items():
        _action(win, export, f"{panel.title}...", lambda n=name: export_plot(win, n))
    file.addSeparator()
    _action(win, file, "Quit", win.close, "Ctrl+Q")
    run = bar.addMenu("&Run")
    _action(win, run, "Play / pause (Space)", win.toggle_play)
    _action(win, run, "Step one mini-batch (N)", win.step_once)
    _action(win, run, "Reset (R)", lambda: win.reset(win.controls.config()))
    _action(win, run, "Toggle batch norm (B)", win.toggle_bn)


def _action(win, menu, text: str, slot, shortcut: str | None = None) -> QAction:
    a = QAction(text, win)
    if shortcut:
        a.setShortcut(shortcut)
    a.triggered.connect(slot)
    menu.addAction(a)
    return a


def _ask(win, save: bool, caption: str, filt: str, path: str | None) -> str | None:
    """A file dialog, unless ``path`` is given (tests and scripts pass it directly)."""
    if path is not None:
        return path
    fn = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
    chosen, _ = fn(win, caption, "", filt)
    return chosen or None


def open_data_file(win, path: str | None = None) -> bool:
    path = _ask(win, False, "Open data", "Data (*.npz *.csv);;All files (*)", path)
    if not path:
        return False
    from dataclasses import replace

    # Loaded in the background (MainWindow.reset): a bad file's message arrives when it is read.
    return win.reset(replace(win.controls.config(), dataset=str(path)))


def open_settings(win, path: str | None = None) -> bool:
    path = _ask(win, False, "Open settings", "bnviz settings (*.json);;All files (*)", path)
    if not path:
        return False
    try:
        config = TrainConfig.load(path)
    except ConfigError as e:
        win.show_message(str(e), error=True)
        return False
    return win.reset(config)


def save_settings(win, path: str | None = None) -> bool:
    path = _ask(win, True, "Save settings", "bnviz settings (*.json)", path)
    if not path:
        return False
    try:
        win.controls.config().save(path)
    except OSError as e:
        win.show_message(f"could not save settings: {e}", error=True)
        return False
    win.show_message(f"settings saved to {path}")
    return True


def export_metrics(win, path: str | None = None) -> bool:
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


def save_model(win, path: str | None = None) -> bool:
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


def export_plot(win, name: str, path: str | None = None) -> bool:
    """Export a panel's plots as PNG or SVG (by the file's suffix), one file per plot item."""
    from bnviz.gui.export import export_item

    path = _ask(win, True, "Export plot", "PNG (*.png);;SVG (*.svg)", path)
    if not path:
        return False
    items = win.panels[name].export_items()
    if not items:
        win.show_message("nothing to export in this panel", error=True)
        return False
    p = Path(path)
    written = []
    try:
        for i, item in enumerate(items):
            target = p if len(items) == 1 else p.with_name(f"{p.stem}-{i + 1}{p.suffix}")
            export_item(item, target)
            written.append(target.name)
    except Exception as e:
        win.show_message(f"could not export the plot: {e}", error=True)
        return False
    win.show_message(f"exported {', '.join(written)}")
    return True


def add_optional_tabs(win) -> None:
    """The hyperparameter explorer tab, when its module is present."""
    try:
        from bnviz.gui.search.explorer import HparamExplorer
    except ImportError:
        return
    win.explorer = HparamExplorer(win.controls.config, win.babysit, win.show_message)
    win.tabs.addTab(win.explorer, "Hyperparameters")


# -- persistence -------------------------------------------------------------------------------
def restore_config(settings) -> TrainConfig | None:
    text = settings.value("last_config")
    if not text:
        return None
    try:
        return TrainConfig.from_dict(json.loads(text))
    except (ConfigError, ValueError, TypeError):
        return None


def restore_layout(win) -> None:
    s = win.settings
    if s.value("geometry") is not None:
        win.restoreGeometry(s.value("geometry"))
    else:
        win.resize(1500, 920)
    if s.value("window_state") is not None:
        win.restoreState(s.value("window_state"))
    for name, sp in win.splitters.items():
        v = s.value(f"splitter_{name}")
        if v is not None:
            sp.restoreState(v)


def save_layout(win) -> None:
    s = win.settings
    s.setValue("geometry", win.saveGeometry())
    s.setValue("window_state", win.saveState())
    for name, sp in win.splitters.items():
        s.setValue(f"splitter_{name}", sp.saveState())
    s.setValue("last_config", json.dumps(win.controls.config().to_dict()))
    s.sync()
