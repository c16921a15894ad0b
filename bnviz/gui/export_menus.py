"""File > Export as code..., Export model as... and Record: the window's doors to
:mod:`bnviz.export` and :mod:`bnviz.train.recording`. Each reports in the status bar and leaves
the run as it was."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtWidgets import QMenu

from bnviz.export.code import export_code
from bnviz.export.model import export_model
from bnviz.gui.file_dialog import ask as _ask
from bnviz.gui.window_api import AppWindow, MenuAction
from bnviz.nn.network import MLP
from bnviz.train.recording import SUFFIX, Recorder, RecordingError

CALL_TIMEOUT_S = 5.0


def add_file_actions(win: AppWindow, file_menu: QMenu, action: MenuAction) -> None:
    """The export and record entries of the File menu (``action``: menus._action)."""
    file_menu.addSeparator()
    action(win, file_menu, "Export as code...", lambda: export_as_code(win))
    action(win, file_menu, "Export model as...", lambda: export_model_as(win))
    win.record_action = action(win, file_menu, "Record...", lambda on: set_recording(win, on))
    win.record_action.setCheckable(True)


def export_as_code(win: AppWindow, path: str | None = None) -> bool:
    """The current settings as a standalone NumPy script or a notebook (the run length of
    ``bnviz train``; the script takes --steps)."""
    path = _ask(win, True, "Export as code", "Python (*.py);;Notebook (*.ipynb)", path, ".py")
    if not path:
        return False
    try:
        plan, files = export_code(win.config, path, data=win.data)
    except (ValueError, OSError) as e:  # ExportError, ConfigError, DataError are ValueErrors
        win.show_message(f"could not export the code: {e}", error=True)
        return False
    note = f" ({plan.note})" if plan.note else ""
    win.show_message(f"code written: {', '.join(files)}{note}")
    return True


def export_model_as(win: AppWindow, path: str | None = None) -> bool:
    """The live network(s) as ONNX or a PyTorch script; in compare mode one file per network
    (NAME-bn.onnx, NAME-plain.onnx)."""
    filt = "ONNX (*.onnx);;PyTorch script (*.py)"
    path = _ask(win, True, "Export model as", filt, path, ".onnx")
    if not path:
        return False
    out = Path(path)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            saved = win.worker.call("save_models", path=str(Path(tmp) / "model.npz"))
            written: list[str] = []
            note = ""
            for model in saved.result(CALL_TIMEOUT_S):
                run = Path(model).stem.removeprefix("model")  # "" or "-bn", "-plain"
                files, note = export_model(MLP.load(model), out.with_stem(out.stem + run))
                written += files
    except Exception as e:  # ExportError, a missing onnx, a timeout: report, never crash
        win.show_message(f"could not export the model: {e}", error=True)
        return False
    win.show_message(f"model written: {', '.join(written)}" + (f" ({note})" if note else ""))
    return True


# -- recording ------------------------------------------------------------------------------------
def set_recording(win: AppWindow, on: bool, path: str | None = None) -> bool:
    """File > Record: ask for a file and record every frame drawn from now on; unticked,
    write the file. False (and the tick undone) when nothing was started or written."""
    if not on:
        return stop_recording(win)
    if win.recorder is not None:
        return True
    path = _ask(win, True, "Record to", f"bnviz recording (*{SUFFIX})", path, SUFFIX)
    ok = bool(path) and start_recording(win, str(path))
    _tick(win, ok)
    return ok


def start_recording(win: AppWindow, path: str) -> bool:
    try:
        recorder = Recorder(path)
    except RecordingError as e:
        win.show_message(f"could not record: {e}", error=True)
        return False
    recorder.seed(win.histories, win.generation)  # the curves drawn so far
    win.recorder = recorder
    _tick(win, True)
    win.show_message(f"recording every frame drawn to {path} (File > Record again to stop)")
    return True


def stop_recording(win: AppWindow) -> bool:
    """Write the recording (if one is on); the window calls it when it closes too."""
    recorder, win.recorder = win.recorder, None
    _tick(win, False)
    if recorder is None:
        return False
    try:
        size = recorder.save()
    except OSError as e:
        win.show_message(f"could not write the recording: {e}", error=True)
        return False
    win.show_message(f"recorded {recorder.frames} frames to {recorder.path} ({size / 1e3:.0f} kB)")
    return True


def _tick(win: AppWindow, on: bool) -> None:
    action = getattr(win, "record_action", None)
    if action is not None:
        action.blockSignals(True)
        action.setChecked(on)
        action.blockSignals(False)
