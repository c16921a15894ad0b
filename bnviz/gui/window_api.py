"""What the modules that act on the main window may use of it, declared for the type checker.

The menus, the classroom mode, the exports and the report are functions of the window
(``export_as_code(win)``), kept out of :mod:`bnviz.gui.main_window` so that it stays small. They
cannot import :class:`~bnviz.gui.main_window.MainWindow` to name its type (it imports them, and
the package allows no import cycle), so they name :class:`AppWindow`: a QMainWindow with the
attributes and methods they use, which MainWindow derives from and fills in. Nothing here runs:
the attributes are annotations only, and every method is MainWindow's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QSplitter, QStackedWidget, QTabWidget, QWidget

from bnviz.data import Dataset
from bnviz.gui.controls import ControlPanel
from bnviz.gui.fold import NarrowFold
from bnviz.gui.lazy import LazyViews
from bnviz.gui.lesson_strip import LessonStrip
from bnviz.gui.lessons.base import LessonView
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.reflow import PanelPage
from bnviz.gui.worker import TrainingWorker
from bnviz.lessons.presets import Classroom, Preset
from bnviz.train.config import TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.recording import Recorder

if TYPE_CHECKING:  # an optional tab: imported only when present (gui/window_build.py)
    from bnviz.gui.search.explorer import HparamExplorer


class ClassroomState(Protocol):
    """The part of :class:`~bnviz.gui.classroom.ClassroomMode` the menus use (a protocol:
    classroom.py names :class:`AppWindow` itself)."""

    @property
    def state(self) -> Classroom: ...

    def set_state(self, state: Classroom) -> list[str]: ...

    @property
    def scale(self) -> float: ...


class AppWindow(QMainWindow):
    """The main window as its menus, modes and exports see it."""

    config: TrainConfig
    data: Dataset
    settings: QSettings
    worker: TrainingWorker
    generation: int
    histories: dict[str, RunHistory]
    frame: Frame | None
    controls: ControlPanel
    panel_classes: dict[str, type[Panel]]  # the panels' classes, known from the start
    lessons: LazyViews[LessonView]  # the lesson views by class name, built when first opened
    tabs: QTabWidget
    training_tab: QWidget
    #: The Hyperparameters tab, None until built (gui/window_build.py) and ``explorer_slot``
    #: its placeholder tab until then (None when its module is not installed).
    explorer_built: HparamExplorer | None
    explorer_slot: QWidget | None
    lesson_strip: LessonStrip
    classroom: ClassroomState
    preset: Preset | None
    recorder: Recorder | None
    playing: bool  # live training runs (False: paused)
    # menu actions, set by the modules that build them (classroom_menus, export_menus)
    record_action: QAction
    classroom_action: QAction
    guidance_action: QAction

    # What the staged build (gui/window_build.py) fills in after the first paint
    panels_built: dict[str, Panel]
    splitters_built: dict[str, QSplitter]
    panel_page_built: PanelPage | None
    training_stack: QStackedWidget  # the Training tab: a placeholder, then the panels' page
    paint_watch: QObject  # on each panel's view: a paint after a frame counts a redraw
    probe_views: list[Panel]  # every view that may ask for probes
    bottom_fold: NarrowFold | None
    help_buttons_built: dict[str, QWidget]

    def building_done(self) -> None:
        """The staged build's last step (or its failure): start what waited for it."""
        raise NotImplementedError

    # Built after the window's first paint (gui/window_build.py): reading one finishes the build.
    @property
    def panels(self) -> dict[str, Panel]:
        """The training panels by name."""
        raise NotImplementedError

    @property
    def splitters(self) -> dict[str, QSplitter]:
        """The training tab's splitters by name (their state is saved)."""
        raise NotImplementedError

    @property
    def explorer(self) -> HparamExplorer | None:
        """The Hyperparameters tab (None when its module is not installed)."""
        raise NotImplementedError

    def show_message(self, text: str, error: bool = False) -> None:
        """The status bar's message (red when ``error``)."""
        raise NotImplementedError

    def reset(self, config: TrainConfig, data: Dataset | None = None) -> bool:
        """Start a new run of ``config``; False (and the current run kept) when refused."""
        raise NotImplementedError

    def babysit(self, config: TrainConfig, description: str) -> bool:
        """Train ``config`` live and show it (the explorer's babysit); False if refused."""
        raise NotImplementedError

    def step_once(self) -> None:
        """One mini-batch step (the N key)."""
        raise NotImplementedError

    def toggle_bn(self) -> None:
        """Batch norm on or off (the B key)."""
        raise NotImplementedError

    def pause_for_round(self, what: str = "the search round runs") -> None:
        """Pause live training while a search round (or an experiment) needs the cores."""
        raise NotImplementedError

    def toggle_play(self) -> None:
        """Pause a playing run, or play a paused one (the Space key)."""
        raise NotImplementedError

    def open_lesson(self, name: str) -> LessonView:
        """Show lesson view ``name`` (a class name) as a tab."""
        raise NotImplementedError


#: How the menu modules add an entry: ``action(win, menu, text, slot)`` (``menus._action``;
#: ``slot`` takes nothing, or the checked state of a checkable entry).
MenuAction = Callable[[AppWindow, QMenu, str, Callable[..., object]], QAction]
