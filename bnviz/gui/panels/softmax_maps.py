"""The softmax panel's left side: the map over the plane of 2-D data (argmax regions under the
training points, or the picked digit's image), and the small multiples of the per-class
probabilities a_c (one map per class, 0..1).

The argmax map shows where each class wins; the per-class maps show how sure the network is
there: every pixel's a_c sum to 1 over the maps, and with a temperature T (softmax(z / T)) they
sharpen or flatten while the argmax map's borders stay where they are.

The per-class maps open in a window of their own (:class:`ClassMapsWindow`), each at least
:data:`MAP_MIN_SIZE` pixels with its colour scale: squeezed into the softmax panel beside the
regions and the bars they were about 90 x 65 pixels at 1920 x 1080, and had no room at all at
1024 x 640.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bnviz.data import Dataset
from bnviz.gui import style
from bnviz.gui.panels._view import cache_axes, clip_title
from bnviz.gui.plot_pool import add_plot
from bnviz.train.snapshot import GridResult

# Region colour = white blended towards the class colour by how sure the net is; capped below 1
# so the class-coloured training points stay visible on top of their own region.
REGION_STRENGTH = 0.6
CLASS_RGB = np.array(style.CLASS_COLORS, dtype=np.float32)
WHITE = np.float32(255.0)
MAP_TITLE_SIZE = "8pt"
MAP_BACKGROUND = (215, 215, 215)
MAP_MIN_SIZE = 160.0  # px, each per-class map (its own window: the panel had no room)
COLOR_BAR_WIDTH = 14
COLOR_BAR_ROOM = 60  # px beside each map: the bar and its tick labels
LAYOUT_ROOM = 60  # px: the window's and the layout's margins and spacing
TITLE_ROOM = 40  # px above each map (its title) and the layout's margins
GREY_LUT = np.repeat(np.linspace(255, 0, 256).astype(np.uint8)[:, None], 3, axis=1)
LINE_PEN = pg.mkPen((0, 0, 0), width=1.5, style=Qt.PenStyle.DashLine)
# At most this many training points are drawn: a fixed random subset (seeded, so points do not
# jump between frames or runs), which keeps the scatter's paint cost independent of the data size.
MAX_POINTS = 3000
POINTS_SEED = 0


def plotted_indices(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """The rows of an ``n``-row training set that are drawn: all of them up to ``limit``, else
    a fixed random subset of ``limit`` rows (the same for every call), in ascending order."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(POINTS_SEED).choice(n, limit, replace=False))


def region_rgb(proba: np.ndarray) -> np.ndarray:
    """(ny, nx, C) probabilities -> (ny, nx, 3) uint8: argmax class colour, white at chance."""
    C = proba.shape[-1]
    cls = proba.argmax(axis=-1)
    top = np.take_along_axis(proba, cls[..., None], axis=-1)[..., 0]
    sure = np.clip((top - 1.0 / C) / (1.0 - 1.0 / C), 0.0, 1.0) * REGION_STRENGTH
    sure = np.nan_to_num(sure, nan=0.0)[..., None].astype(np.float32)
    rgb = WHITE + (CLASS_RGB[cls % len(CLASS_RGB)] - WHITE) * sure
    return rgb.astype(np.uint8)


def grid_rect(grid: GridResult) -> QRectF:
    """Where a grid's image goes: pixel centres on the grid points, so half a cell beyond them."""
    x, y = grid.x, grid.y
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
    return QRectF(x[0] - dx / 2, y[0] - dy / 2, dx * len(x), dy * len(y))


def class_lut(rgb: tuple[int, int, int]) -> np.ndarray:
    """(256, 3) uint8: white at a_c = 0 to the class's colour at a_c = 1."""
    s = np.linspace(0.0, 1.0, 256)[:, None]
    return (255.0 + (np.asarray(rgb, dtype=np.float64) - 255.0) * s).round().astype(np.uint8)


def map_shape(n_classes: int) -> tuple[int, int]:
    """(rows, cols) of the per-class maps in their window: as square as possible, wider than
    tall (screens are)."""
    cols = max(1, math.ceil(math.sqrt(n_classes)))
    return max(1, math.ceil(n_classes / cols)), cols


def class_colormap(rgb: tuple[int, int, int]) -> pg.ColorMap:
    """White at a_c = 0 to the class's colour at a_c = 1 (the map's :func:`class_lut`)."""
    return pg.ColorMap([0.0, 1.0], [(255, 255, 255), tuple(rgb)])


class RegionsPlot(pg.PlotItem):
    """The argmax regions under the training points (2-D data), the picked example's ring and
    the dashed line of the C = 2 curves; or the picked example's image (digits)."""

    def __init__(self) -> None:
        super().__init__()
        self.setAspectLocked(True)
        self.setToolTip(
            "Decision regions in eval mode (BN uses its running mean and variance): each "
            "pixel has the colour of argmax a, paler where the top probability is near chance."
        )
        for name in ("left", "bottom"):
            self.getAxis(name).setPen("k")
            self.getAxis(name).setTextPen("k")
        self.regions = pg.ImageItem(axisOrder="row-major")
        self.regions.setZValue(-10)
        self.points = pg.ScatterPlotItem(size=7, pen=pg.mkPen((30, 30, 30), width=0.8))
        self.points.setToolTip("Click a training point to follow it through the softmax.")
        self.marker = pg.ScatterPlotItem(
            size=18, symbol="o", brush=None, pen=pg.mkPen("k", width=2.5)
        )
        self.digit = pg.ImageItem(axisOrder="row-major")
        self.digit.setLookupTable(GREY_LUT)
        self.line = pg.PlotDataItem(pen=LINE_PEN)  # C = 2: the line the curves run along
        for item in (self.regions, self.points, self.marker, self.digit, self.line):
            self.addItem(item)
        self.digit_levels = (0.0, 1.0)
        cache_axes(self)
        clip_title(self)  # "T = 0.05: same borders, ..." must not widen the plot past the panel

    def set_dataset(self, data: Dataset, colors: list[tuple[int, int, int]]) -> None:
        """New data: the points (2-D) or the image's grey levels (images); nothing drawn yet."""
        planar, images = data.n_features == 2, data.image_shape is not None
        self.regions.clear()
        self.line.setData([], [])
        self.enableAutoRange()
        for item in (self.regions, self.points, self.marker, self.line):
            item.setVisible(planar)
        self.digit.setVisible(images)
        self.marker.setData([], [])  # a 2-D set's ring must not stay on a digit's image
        for name in ("left", "bottom"):
            self.showAxis(name, not images)  # pixel numbers would mean nothing
        if planar:
            idx = plotted_indices(len(data.X_train))
            X, y = data.X_train[idx], data.y_train[idx]
            brushes = [pg.mkBrush(c) for c in colors]
            self.points.setData(x=X[:, 0], y=X[:, 1], data=idx, brush=[brushes[k] for k in y])
            self.set_temperature(1.0)
            self.invertY(False)
        else:
            self.points.setData([], [])
        if images:  # grey levels from the plotted subset: the whole set took 0.25 s for MNIST
            shown = data.X_train[plotted_indices(len(data.X_train))]
            # x std + mean keeps each pixel's order (std >= 0), so the extremes of the raw subset
            # are those of its columns' extremes: 784 values undone, not 2.4 million (10-15 ms)
            low, high = data.raw(shown.min(axis=0)), data.raw(shown.max(axis=0))
            self.digit_levels = (float(low.min()), float(high.max()))

    def set_temperature(self, temperature: float) -> None:
        """The title says what T does to the regions: nothing to their borders."""
        if temperature == 1.0:
            self.setTitle("argmax a", color="k")
        else:
            self.setTitle(f"T = {temperature:.3g}: same borders", color="k")

    def show_regions(self, grid: GridResult | None, proba: np.ndarray | None) -> None:
        """Colour the plane by ``proba`` (ny, nx, C) of ``grid``; None clears it."""
        if grid is None or proba is None:
            self.regions.clear()
            return
        self.regions.setImage(region_rgb(proba), autoLevels=False, levels=(0, 255))
        self.regions.setRect(grid_rect(grid))  # after setImage: it scales by image size

    def show_digit(self, image: np.ndarray, title: str) -> None:
        """The picked example's image (h, w), upright."""
        # Row-major images draw row 0 at the bottom; flip so the picture is upright.
        self.digit.setImage(image[::-1], autoLevels=False, levels=self.digit_levels)
        h, w = image.shape
        self.digit.setRect(QRectF(0, 0, w, h))
        self.setTitle(title, color="k")


class ClassMaps(pg.GraphicsLayout):
    """One map per class of a_c over the plane (levels 0..1, white to the class colour, with
    its colour scale), in a grid; :attr:`images` holds the ImageItems, whose ``image`` is a_c
    itself (ny, nx). Made once per data set (its classes), never per frame."""

    def __init__(self, names: list[str], colors: list[tuple[int, int, int]]) -> None:
        super().__init__()
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self.bars: list[pg.ColorBarItem] = []
        self.setToolTip(
            "a_c over the plane, one map per class: white 0, the class's colour 1 (the scale "
            "beside each map). At every point the maps sum to 1; the argmax map colours each "
            "point by the largest."
        )
        self.shape = map_shape(max(len(names), 1))
        cols = self.shape[1]
        for c, (name, rgb) in enumerate(zip(names, colors, strict=True)):
            plot = add_plot(self, row=c // cols, col=c % cols)
            plot.setTitle(f"a of class {name}", color=rgb, size="10pt")
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setAspectLocked(True)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMinimumSize(MAP_MIN_SIZE + COLOR_BAR_ROOM, MAP_MIN_SIZE + TITLE_ROOM)
            clip_title(plot, MAP_MIN_SIZE)
            # Auto-range on the one image (cheap) follows resizes: a range fitted once, before
            # the layout had sized the plot, showed part of the map.
            plot.getViewBox().setDefaultPadding(0.0)
            plot.getViewBox().setBackgroundColor(MAP_BACKGROUND)  # so a_c = 0 (white) shows
            plot.enableAutoRange()
            image = pg.ImageItem(axisOrder="row-major")
            image.setLookupTable(class_lut(rgb))
            plot.addItem(image)
            bar = pg.ColorBarItem(
                values=(0.0, 1.0),
                width=COLOR_BAR_WIDTH,
                interactive=False,
                colorMap=class_colormap(rgb),
                colorMapMenu=False,
                pen="k",
            )
            bar.setImageItem(image, insert_in=plot)
            bar.getAxis("right").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
            bar.getAxis("right").setTextPen("k")
            # The bar sets the image's levels and lookup table from its colour map: the same
            # white-to-class-colour scale, 0 to 1.
            self.plots.append(plot)
            self.images.append(image)
            self.bars.append(bar)

    def minimum_size(self) -> tuple[int, int]:
        """Pixels the grid needs at the maps' minimum size."""
        rows, cols = self.shape
        return (int(cols * (MAP_MIN_SIZE + COLOR_BAR_ROOM)) + LAYOUT_ROOM,
                int(rows * (MAP_MIN_SIZE + TITLE_ROOM)) + LAYOUT_ROOM)  # fmt: skip

    def show(self, grid: GridResult | None, proba: np.ndarray | None) -> None:
        """Draw ``proba`` (ny, nx, C) of ``grid``; None clears the maps."""
        if grid is None or proba is None:
            for image in self.images:
                image.clear()
            return
        rect = grid_rect(grid)
        for c, image in enumerate(self.images):
            image.setImage(proba[..., c], autoLevels=False, levels=(0.0, 1.0))
            image.setRect(rect)


class ClassMapsWindow(QWidget):
    """The per-class maps in a window of their own beside the main one (the softmax panel's
    "per class"); closing it emits :attr:`closed`, which unticks the box."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("bnviz: per-class probabilities a_c")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(style.BACKGROUND)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.view)
        self.maps: ClassMaps | None = None

    def set_maps(self, maps: ClassMaps | None) -> None:
        """Show ``maps`` (None: nothing); the window is sized to hold them at their minimum."""
        if maps is self.maps:
            return
        if self.maps is not None:
            self.view.removeItem(self.maps)
        self.maps = maps
        if maps is not None:
            self.view.addItem(maps)
            w, h = maps.minimum_size()
            self.setMinimumSize(w, h)
            self.resize(max(self.width(), w), max(self.height(), h))

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()
