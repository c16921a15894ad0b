"""Event filters that watch painting: what "a redraw" means in the status bar and the GUI
benchmark is a paint of new data, not a timer tick."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject


class PaintWatch(QObject):
    """Calls ``painted`` on every paint event of the widgets it is installed on."""

    def __init__(self, painted: Callable[[], object], parent: QObject) -> None:
        super().__init__(parent)
        self.painted = painted

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.painted()
        return False


class FirstPaintReporter(QObject):
    """Prints ``bnviz-first-paint SECONDS`` (since ``launched``, a time.time()) at the window's
    first paint event, then uninstalls itself."""

    def __init__(self, launched: float, parent: QObject) -> None:
        super().__init__(parent)
        self.launched = launched

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            print(f"bnviz-first-paint {time.time() - self.launched:.3f}", flush=True)
            obj.removeEventFilter(self)
        return False
