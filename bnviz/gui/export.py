"""Export one plot (a PlotItem or a GraphicsLayout) as PNG or SVG.

PNG goes through pyqtgraph's ImageExporter. SVG is drawn with Qt's own QSvgGenerator: pyqtgraph
0.14's SVGExporter fails on PySide6 6.11 ("not enough values to unpack", pyqtgraph issue #3485).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRectF, QSize
from PySide6.QtGui import QPainter, QRegion
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QGraphicsItem, QWidget

from bnviz.gui.panel import Panel
from bnviz.gui.window_api import AppWindow
from bnviz.train.protocol import ProbeRequest

FORMATS = (".png", ".svg")


def export_item(item: Any, path: str | Path) -> None:  # a pyqtgraph PlotItem or layout
    """Write ``item`` to ``path`` (format by suffix); raises OSError when nothing was written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise OSError(f"{path.name}: choose a .png or .svg file name")
    if not path.resolve().parent.is_dir():
        raise OSError(f"folder of {path} does not exist")
    if suffix == ".svg":
        _export_svg(item, path)
    else:
        import pyqtgraph.exporters as ex

        ex.ImageExporter(item).export(str(path))
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"{path} could not be written")


def _export_svg(item: Any, path: Path) -> None:
    # Render the view widget, not the scene: axes draw in device coordinates, which only the
    # view's own paint sets up right.
    view = item.scene().views()[0]
    rect = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    w, h = max(1, rect.width()), max(1, rect.height())
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(w, h))
    gen.setViewBox(QRectF(0, 0, w, h))
    gen.setTitle("bnviz plot")
    # Cached items would be drawn as bitmaps: switch caches off so the SVG stays vector.
    scene = item.scene()
    cached = [
        (i, i.cacheMode())
        for i in scene.items()
        if i.cacheMode() != QGraphicsItem.CacheMode.NoCache
    ]
    for i, _ in cached:
        i.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    # In export mode a scatter draws each point as its own shape in its own colour; otherwise
    # it stamps fragments of its symbol atlas, which QSvgGenerator wrote as the whole atlas
    # (three circles, orange, green and blue) at every point.
    exporting = [i for i in scene.items() if hasattr(i, "setExportMode")]
    painter = QPainter()
    try:
        if not painter.begin(gen):
            raise OSError(f"{path} could not be written")
        for i in exporting:
            i.setExportMode(True, {"antialias": True, "painter": painter, "resolutionScale": 1.0})
        QWidget.render(view, painter, QPoint(0, 0), QRegion(rect))  # the widget paint, not scene
    finally:
        if painter.isActive():
            painter.end()
        for i in exporting:
            i.setExportMode(False)
        for i, mode in cached:
            i.setCacheMode(mode)


WAIT_S = 3.0  # at most this long for a view's probes after its tab comes up (then: as it is)


@contextmanager
def brought_up(win: AppWindow, page: QWidget | None, views: Sequence[Panel]) -> Iterator[None]:
    """Show tab ``page`` of ``win`` (a MainWindow) with ``views`` drawn from the latest data,
    for an export; then the tab shown before comes back.

    A hidden tab is not drawn (and its views' probes do not run), which keeps hidden views free
    while training; so its plots still showed whatever they showed when it was last in front (a
    blank plot, "waiting for the first evaluation" at step 1,400). Bringing the tab up asks for
    its probes; this waits for a frame that carries them, and draws the views from it."""
    before = win.tabs.currentWidget()
    try:
        if page is not None and before is not page:
            win.tabs.setCurrentWidget(page)
            wait_for_frame(win, [r for v in views for r in v.probe_requests()])
        if win.frame is not None:
            for v in views:
                v.render(win.frame)
        QApplication.processEvents()
        yield
    finally:
        if win.tabs.currentWidget() is not before:
            win.tabs.setCurrentWidget(before)


def wait_for_frame(
    win: AppWindow, probes: Sequence[ProbeRequest], timeout_s: float = WAIT_S
) -> bool:
    """Run the event loop until the window draws a new frame carrying ``probes`` (False when
    ``timeout_s`` passed first)."""
    start = win.frame
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QApplication.processEvents()
        frame = win.frame
        if frame is not None and frame is not start and all(r in frame.probes for r in probes):
            return True
        time.sleep(0.005)
    return False
