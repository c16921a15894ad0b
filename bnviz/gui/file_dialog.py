"""The file dialog of every File menu action, skipped when the caller names the path."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

SETTINGS_SUFFIX = ".json"


def ask(
    win: QWidget | None,
    save: bool,
    caption: str,
    filt: str,
    path: str | None,
    suffix: str = "",
) -> str | None:
    """A file dialog, unless ``path`` is given (tests and scripts pass it directly); a path
    without a suffix gets ``suffix`` (Qt's own dialog does not add the filter's)."""
    if path is None:
        fn = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, _ = fn(win, caption, "", filt)
    if not path:
        return None
    return path + suffix if suffix and not Path(path).suffix else path
