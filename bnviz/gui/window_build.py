"""The window's heavy parts, built after its first paint, a slice per turn of the event loop.

The window shows at once with its controls, menus and tabs, a light placeholder where each
training panel goes and a placeholder Hyperparameters tab; :func:`build_steps` then replaces
them one by one (the explorer in seven slices, then a panel per two), each slice under 50 ms, so a
click is answered while the window fills in (0.4 s of one block before). Run by a
:class:`~bnviz.gui.staged.StagedBuild`; the window's ``panels``, ``explorer`` and
``help_buttons`` finish it first when asked for before it is done.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsView, QLabel, QSplitter, QTabBar, QWidget

from bnviz.gui import plot_pool
from bnviz.gui.fold import NarrowFold
from bnviz.gui.help_button import add_help_buttons
from bnviz.gui.keyboard import make_keyboard_friendly
from bnviz.gui.panel import Panel
from bnviz.gui.reflow import PanelPage
from bnviz.gui.staged import paint_in_turns
from bnviz.gui.window_api import AppWindow

EXPLORER_MODULE = "bnviz.gui.search.explorer"
# Imported one group per slice before the explorer is built (70 ms in one go): its heaviest
# dependencies first. Only the order of the work changes; a missing one fails as before.
EXPLORER_IMPORTS = (
    ("bnviz.search.study", "bnviz.search.sweep"),
    ("bnviz.gui.search.controls", "bnviz.gui.search.scatter", "bnviz.gui.search.parallel_view"),
    (EXPLORER_MODULE,),
)
EXPLORER_TITLE = "Hyperparameters"
PLACEHOLDER_STYLE = "color: #888888; background: white;"
# Below this width the bottom row folds the percentile panel away (softmax and confusion
# need ~400 and ~300 px to be read; the activations panel shows the same z~ in the top row).
FOLD_BOTTOM_PX = 900


def panel_classes() -> dict[str, type[Panel]]:
    """The training panels' classes by name, imported here so a missing optional panel cannot
    stop the app (25 ms: done in the window's constructor, for the menus' titles)."""
    from bnviz.gui.panels.activations import ActivationsPanel
    from bnviz.gui.panels.confusion import ConfusionPanel
    from bnviz.gui.panels.loss import LossPanel
    from bnviz.gui.panels.percentiles import PercentilePanel
    from bnviz.gui.panels.softmax import SoftmaxPanel

    return {
        "activations": ActivationsPanel,
        "loss": LossPanel,
        "percentiles": PercentilePanel,
        "softmax": SoftmaxPanel,
        "confusion": ConfusionPanel,
    }


def make_panels() -> dict[str, Panel]:
    """The training panels, built now (a replay, a test)."""
    return {name: cls() for name, cls in panel_classes().items()}


def arrange_panels(panels: Mapping[str, QWidget]) -> tuple[QSplitter, QSplitter, QSplitter]:
    """The training panels' layout, shared by the window and a replay: activations and loss
    on top, percentiles, softmax and confusion below; returns (top, bottom, outer). The
    window arranges placeholders, replaced by the panels as they are built."""
    top = QSplitter(Qt.Orientation.Horizontal)
    top.addWidget(panels["activations"])
    top.addWidget(panels["loss"])
    bottom = QSplitter(Qt.Orientation.Horizontal)
    for name in ("percentiles", "softmax", "confusion"):
        bottom.addWidget(panels[name])
    bottom.setSizes([400, 420, 320])
    outer = QSplitter(Qt.Orientation.Vertical)
    outer.addWidget(top)
    outer.addWidget(bottom)
    return top, bottom, outer


def placeholder(text: str) -> QLabel:
    """What shows where a view is still being built (a fraction of a second)."""
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(PLACEHOLDER_STYLE)
    return label


def explorer_available() -> bool:
    """Whether the Hyperparameters tab's module is installed (it is imported later)."""
    try:
        return importlib.util.find_spec(EXPLORER_MODULE) is not None
    except ImportError:  # its package is missing
        return False


def build_steps(win: AppWindow) -> Iterator[None]:
    """Build the explorer, then the training panels, into ``win``'s placeholders."""
    # The explorer first: its least width (the tab's) sets the Controls dock's, which the
    # panels' layout depends on. Nothing is lost: the trainer's first snapshot comes later.
    yield from _build_explorer(win)
    yield from plot_pool.pool().fill()  # the panels' plot items, 5 ms a step
    panels: dict[str, Panel] = {}
    for name, cls in win.panel_classes.items():
        panels[name] = cls()
        yield  # building a panel and setting its data set take up to 40 ms each (softmax)
        panels[name].set_dataset(win.data)
        yield
    _arrange(win, panels)
    win.help_buttons_built = dict(add_help_buttons(win))
    for button in win.help_buttons_built.values():
        button.show()  # a child made after its parent was shown is hidden until then
    win.building_done()


def _arrange(win: AppWindow, panels: dict[str, Panel]) -> None:
    """Lay the panels out in the Training tab, in place of its placeholder, all at once (the
    layout then is the one a window built in its constructor has)."""
    from bnviz.gui import menus

    top, bottom, outer = arrange_panels(panels)
    win.bottom_fold = NarrowFold(bottom, 0, FOLD_BOTTOM_PX, grow=1)
    views = []
    for panel in panels.values():
        make_keyboard_friendly(panel)  # pickers and boxes: named, Tab in layout order
        views += panel.findChildren(QGraphicsView)
        win.probe_views.append(panel)
    for view in views:
        view.viewport().installEventFilter(win.paint_watch)
    paint_in_turns(views)  # their first paints one per turn, not all with the layout (75 ms)
    win.splitters_built.update(top=top, bottom=bottom, outer=outer)
    menus.restore_splitters(win)
    page = PanelPage(outer, [top, bottom])  # scrolls when too small to read
    page.set_scale(win.classroom.scale)
    win.panel_page_built = page
    stack = win.training_stack
    stack.addWidget(page.scroll)
    stack.setCurrentWidget(page.scroll)
    placeholder = stack.widget(0)
    assert placeholder is not None  # the window put it there
    stack.removeWidget(placeholder)
    placeholder.deleteLater()
    win.panels_built.update(panels)


def _build_explorer(win: AppWindow) -> Iterator[None]:
    slot = win.explorer_slot
    if slot is None:
        return
    try:
        for group in EXPLORER_IMPORTS:
            for module in group:
                importlib.import_module(module)
            yield
        from bnviz.gui import menus
        from bnviz.gui.search.explorer import HparamExplorer
    except ImportError:  # an optional dependency missing: no tab, as before
        win.tabs.removeTab(win.tabs.indexOf(slot))
        win.explorer_slot = None
        return
    explorer = HparamExplorer(
        win.controls.config, win.babysit, win.show_message, round_started=win.pause_for_round,
        live_run=lambda: menus.live_run(win), build_later=True,
    )  # fmt: skip
    for _ in explorer.build_steps:
        yield
    yield
    index = win.tabs.indexOf(slot)
    current = win.tabs.currentIndex() == index
    win.tabs.insertTab(index, explorer, EXPLORER_TITLE)
    win.tabs.tabBar().setTabButton(index, QTabBar.ButtonPosition.RightSide, None)
    if current:
        win.tabs.setCurrentIndex(index)
    win.tabs.removeTab(win.tabs.indexOf(slot))
    slot.deleteLater()
    win.explorer_slot = None
    win.explorer_built = explorer
    for view in explorer.findChildren(Panel):
        win.probe_views.append(view)
