"""GUI test setup: every test's widgets are gone before the next test paints anything.

pytest-qt closes the widgets a test registered; their C++ objects are then deleted whenever
Python's garbage collector and Qt's deferred deletions get round to it, which could be in the
middle of the next test's first paint. pyqtgraph's ViewBox emits ``sigTransformChanged`` while
painting, and a slot of a half-deleted item there crashed the interpreter (once in about five
runs of this folder). Collecting and flushing deletions right after each test makes the order
deterministic.

pytest-qt holds the widgets given to ``qtbot.addWidget`` by weak reference only, and paints
once more right after the test function returns: a widget only the test's locals held may then
be garbage-collected, and deleted, in the middle of that paint (a crash in
``QGraphicsView::paintEvent``, seen when the collector happened to run there). The ``qtbot``
below keeps them alive until pytest-qt has closed them.
"""

from __future__ import annotations

import gc

import pytest


@pytest.fixture
def qtbot(qtbot):
    kept = []
    add = qtbot.addWidget

    def add_widget(widget, **kwargs):
        kept.append(widget)
        add(widget, **kwargs)

    qtbot.addWidget = qtbot.add_widget = add_widget
    yield qtbot
    kept.clear()  # after pytest-qt closed them; flush_qt_deletions then deletes them


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


@pytest.fixture
def small_window(qtbot, tmp_path):
    """A shown main window training a small ReLU net, its QSettings in ``tmp_path`` (so no test
    reads or changes the user's), closed after the test."""
    from PySide6.QtCore import QSettings

    from bnviz.gui.main_window import MainWindow
    from bnviz.train.config import TrainConfig

    config = TrainConfig(n_samples=200, hidden=(8, 8), activation="relu", optimizer="adam", lr=0.01)
    win = MainWindow(config, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
