"""Loading a data file off the GUI thread, with a progress bar and Cancel in the status bar.

A 1,000,000-row file takes seconds to read; on the GUI thread the window froze for all of it.
:class:`DataLoader` reads on a Python thread (the parsing runs in NumPy's C code in chunks,
so the GUI thread gets the interpreter between them), reports progress through queued Qt
signals and drops the result of a load that was cancelled or replaced (a load id, as the
trainer's generation id does for snapshots).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from bnviz.data import DataError
from bnviz.data.files import LoadCancelled
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.trainer import load_data


class DataLoader(QObject):
    """Loads ``config``'s data on a thread; one load at a time, the newest wins."""

    progressed = Signal(int, float)  # load id, share done 0..1
    loaded = Signal(int, object, object)  # load id, TrainConfig, Dataset
    failed = Signal(int, str)  # load id, the file's message
    cancelled = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.load_id = 0
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, config: TrainConfig) -> int:
        """Begin loading (cancelling any load in flight); returns this load's id."""
        self.cancel()
        self.load_id += 1
        self._cancel = threading.Event()
        self._thread = threading.Thread(
            target=self._load, args=(self.load_id, config, self._cancel), daemon=True
        )
        self._thread.start()
        return self.load_id

    def cancel(self) -> None:
        """Stop the load in flight at its next chunk; its result, if any, is dropped."""
        if self.busy:
            self._cancel.set()
            self.cancelled.emit(self.load_id)

    def wait(self, timeout: float = 5.0) -> None:
        """Join the loading thread (closing the window)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _load(self, load_id: int, config: TrainConfig, cancel: threading.Event) -> None:
        def progress(share: float) -> None:
            if cancel.is_set():
                raise LoadCancelled
            self.progressed.emit(load_id, share)

        try:
            config = config.validated()
            data = load_data(config, progress=progress)
        except LoadCancelled:
            return
        except (ConfigError, DataError, OSError) as e:
            if not cancel.is_set():
                self.failed.emit(load_id, str(e))
            return
        except Exception as e:  # a loader bug must reach the user, not die on a thread
            if not cancel.is_set():
                self.failed.emit(load_id, f"{type(e).__name__}: {e}")
            return
        if not cancel.is_set():
            self.loaded.emit(load_id, config, data)


class LoadingBar(QWidget):
    """The status bar's "loading FILE [=====] Cancel", shown while a file loads."""

    def __init__(self, loader: DataLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setMaximumWidth(220)
        self.cancel = QPushButton("Cancel")
        self.cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel.clicked.connect(loader.cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.label, self.bar, self.cancel):
            row.addWidget(w)
        loader.progressed.connect(lambda _id, share: self.bar.setValue(round(100 * share)))
        self.hide()

    def begin(self, name: str) -> None:
        self.label.setText(f"loading {name}")
        self.bar.setValue(0)
        self.show()
