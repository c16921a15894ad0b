"""GUI test setup: every test's widgets are gone before the next test paints anything.

pytest-qt closes the widgets a test registered; their C++ objects are then deleted whenever
Python's garbage collector and Qt's deferred deletions get round to it, which could be in the
middle of the next test's first paint. pyqtgraph's ViewBox emits ``sigTransformChanged`` while
painting, and a slot of a half-deleted item there crashed the interpreter (once in about five
runs of this folder). Collecting and flushing deletions right after each test makes the order
deterministic.
"""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def flush_qt_deletions(request):
    yield
    if "qapp" not in request.fixturenames and "qtbot" not in request.fixturenames:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for _ in range(2):
        app.processEvents()
        gc.collect()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
