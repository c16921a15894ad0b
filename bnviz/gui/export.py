"""Export one plot (a PlotItem or a GraphicsLayout) as PNG or SVG.

PNG goes through pyqtgraph's ImageExporter. SVG is drawn with Qt's own QSvgGenerator: pyqtgraph
0.14's SVGExporter fails on PySide6 6.11 ("not enough values to unpack", pyqtgraph issue #3485).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRectF, QSize
from PySide6.QtGui import QPainter, QRegion
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QWidget

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
    painter = QPainter()
    try:
        if not painter.begin(gen):
            raise OSError(f"{path} could not be written")
        QWidget.render(view, painter, QPoint(0, 0), QRegion(rect))  # the widget paint, not scene
    finally:
        if painter.isActive():
            painter.end()
        for i, mode in cached:
            i.setCacheMode(mode)
