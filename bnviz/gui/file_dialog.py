"""The file dialog of every File menu action, skipped when the caller names the path."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QWidget

SETTINGS_SUFFIX = ".json"


def ask(win: QWidget | None, save: bool, caption: str, filt: str, path: str | None) -> str | None:
    """A file dialog, unless ``path`` is given (tests and scripts pass it directly)."""
    if path is not None:
        return path
    fn = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
    chosen, _ = fn(win, caption, "", filt)
    return chosen or None
