"""The main window: lays out the panels, wires the controls to the training worker, and
redraws from the latest snapshots on a ~30 Hz timer. Its frame loop is
:mod:`bnviz.gui.frame_loop`, what the controls do to live training
:mod:`bnviz.gui.training_actions` (both mixins it derives from); menus and file actions live in
:mod:`bnviz.gui.menus`; every plot lives in its own panel module."""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QGraphicsView,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bnviz.data import BUILTIN_DATASETS, DataError, Dataset, load_dataset
from bnviz.gui import export_menus, lesson_setting, menus, plot_pool
from bnviz.gui.autopause import AutoPause
from bnviz.gui.classroom import ClassroomMode
from bnviz.gui.controls import ControlPanel
from bnviz.gui.fold import NarrowFold
from bnviz.gui.frame_loop import FrameLoop
from bnviz.gui.hint import HintBar
from bnviz.gui.lazy import LazyViews
from bnviz.gui.lesson_strip import LessonStrip
from bnviz.gui.lessons import LessonView, lesson_classes
from bnviz.gui.loading import DataLoader, LoadingBar
from bnviz.gui.paint_watch import FirstPaintReporter, PaintWatch
from bnviz.gui.panel import Panel
from bnviz.gui.reflow import PanelPage, fit_scroll_width
from bnviz.gui.staged import StagedBuild, paint_in_turns
from bnviz.gui.training_actions import TrainingActions
from bnviz.gui.window_build import (
    EXPLORER_TITLE,
    arrange_panels,
    build_steps,
    explorer_available,
    make_panels,
    panel_classes,
    placeholder,
)
from bnviz.gui.worker import TrainingWorker
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.trainer import load_data

if TYPE_CHECKING:
    from bnviz.gui.search.explorer import HparamExplorer

__all__ = ["MainWindow", "arrange_panels", "make_panels"]  # the last two: where a replay finds them

SETTINGS_ORG, SETTINGS_APP = "bnviz", "bnviz"
# The smallest window laid out for: a 1024 x 640 screen (below it, fields and plots clip).
MIN_WINDOW = (1024, 640)
# ``bnviz bench --gui`` sets this to its launch time (time.time()) to learn when we first paint.
FIRST_PAINT_ENV = "BNVIZ_REPORT_FIRST_PAINT"
HINT = (
    "Try: <b>B</b> switches batch norm off and on (watch the pace of the loss change), "
    "<b>Space</b> pauses, <b>Compare</b> trains with and without BN side by side, the "
    "<b>Lessons</b> menu looks inside a BN unit, and the <b>Hyperparameters</b> tab searches "
    "alpha and beta on log scales."
)


class MainWindow(TrainingActions, FrameLoop):
    """bnviz's window. ``settings`` may be a QSettings for a test-only location; ``data``, the
    data ``config`` names, already loaded (the command line checks a file by loading it). A
    data file named by ``config`` without ``data`` is loaded in the background while the
    built-in defaults train."""

    classroom: ClassroomMode  # more than the menus' view of it (AppWindow.classroom)

    def __init__(
        self,
        config: TrainConfig | None = None,
        settings: QSettings | None = None,
        autoplay: bool = True,
        data: Dataset | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("bnviz: batch norm, softmax and hyperparameter search, live")
        # A click on anything that takes no focus itself (a plot, the status bar, a label)
        # takes it from a text field, so Space and R go to the shortcuts, not into the field.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumSize(*MIN_WINDOW)
        self.settings = settings or QSettings(SETTINGS_ORG, SETTINGS_APP)
        config = config or menus.restore_config(self.settings) or TrainConfig()
        self.histories: dict[str, RunHistory] = {}
        self.recorder = None  # a bnviz.train.recording.Recorder while File > Record is on
        self.autopause = AutoPause()
        # Why training stands still ("" while it plays): said again when a later message (the
        # B key's) would otherwise hide that the run is paused.
        self.pause_reason = ""
        self._init_frames()
        self.playing = autoplay
        deferred = None
        if data is not None:
            self.config, self.data = config.validated(), data
        elif is_file(config.dataset):
            deferred, (self.config, self.data) = config, self._load(TrainConfig())
        else:
            self.config, self.data = self._load(config, fallback=True)
        self.loader = DataLoader(self)
        self.generation = 0
        self.worker = TrainingWorker(self.config, self.data)
        self.worker.start()  # the training process starts while the window is built
        self._build_ui()
        self._wire()
        menus.restore_layout(self)
        self._start_frames()
        if deferred is not None:
            self.reset(deferred)
        if os.environ.get(FIRST_PAINT_ENV):
            self._first_paint = FirstPaintReporter(float(os.environ[FIRST_PAINT_ENV]), self)
            self.installEventFilter(self._first_paint)

    # -- the parts built after the first paint (gui/window_build.py) -------------------------
    # Each finishes the staged build first (the window then is as one built in __init__).
    @property
    def panels(self) -> dict[str, Panel]:
        return self._built().panels_built

    @property
    def explorer(self) -> HparamExplorer | None:
        return self._built().explorer_built

    @property
    def splitters(self) -> dict[str, QSplitter]:
        return self._built().splitters_built

    @property
    def panel_page(self) -> PanelPage | None:
        return self._built().panel_page_built

    @property
    def help_buttons(self) -> dict[str, QWidget]:  # name -> HelpButton
        return self._built().help_buttons_built

    def _built(self) -> MainWindow:
        self._build.finish()
        return self

    def _build_failed(self, message: str) -> None:
        self.show_message(message, error=True)
        self.building_done()  # the window goes on with what it has

    def building_done(self) -> None:
        """The staged build's last step: what waited for every panel. Training starts now
        (at full speed a small run spent its epoch budget before its first frame was drawn)."""
        if self.playing:  # autoplay, and no Space pressed meanwhile
            self.worker.play()
        if gc.get_freeze_count():  # the app froze its start-up heap (app.freeze_startup_heap):
            gc.freeze()  # what was built after the first paint is part of it
        if self.classroom.state.enabled:  # new plot items take classroom mode's sizes
            self.classroom.refresh()
        plot_pool.pool().warm()  # the lessons' plot items, built ahead between frames

    # -- construction ------------------------------------------------------------------------
    def _load(self, config: TrainConfig, fallback: bool = False) -> tuple[TrainConfig, Dataset]:
        """Validate ``config`` and load its data here, so a bad setting or file is reported at
        once and never reaches the training process."""
        try:
            config = config.validated()
            return config, load_data(config)
        except (ConfigError, DataError, OSError) as e:
            if not fallback:
                raise
            # A saved setting that no longer loads (a moved file) must not stop the app.
            self._startup_error = str(e)
            config = TrainConfig()
            return config, load_dataset(config.dataset, seed=config.seed)

    def _build_ui(self) -> None:
        # The panels and the explorer: after the first paint, a slice per turn of the event
        # loop (gui/window_build.py); asking for them finishes the build at once.
        self._build = StagedBuild(build_steps(self), self._build_failed, self)
        self.controls = ControlPanel(self.config)
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        fit_scroll_width(scroll)
        dock = QDockWidget("Controls", self)
        dock.setObjectName("controls_dock")
        dock.setWidget(scroll)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.tabs = QTabWidget()
        # The Training tab shows a placeholder until the staged build lays the panels out.
        self.panel_classes = panel_classes()
        self.panels_built: dict[str, Panel] = {}
        self.splitters_built: dict[str, QSplitter] = {}
        self.panel_page_built: PanelPage | None = None
        self.training_stack = QStackedWidget()  # the placeholder, then the panels' page
        self.training_stack.addWidget(placeholder("The training plots: building..."))
        self.training_tab = self.training_stack
        self.bottom_fold: NarrowFold | None = None  # the bottom row's, once it is built
        self.tabs.addTab(self.training_tab, "Training")
        self.explorer_built = None  # the HparamExplorer, once built
        self.explorer_slot: QWidget | None = None
        if explorer_available():
            self.explorer_slot = placeholder("The hyperparameter explorer: building...")
            self.tabs.addTab(self.explorer_slot, EXPLORER_TITLE)
        # Lesson views: each built when first opened from the Lessons menu (gui/lazy.py).
        self.lessons: LazyViews[LessonView] = LazyViews(lesson_classes(), self._lesson_built)
        self.tabs.setTabsClosable(True)
        for i in range(self.tabs.count()):  # the fixed tabs have no close button
            self.tabs.tabBar().setTabButton(i, QTabBar.ButtonPosition.RightSide, None)
        self.tabs.tabCloseRequested.connect(self._close_tab)
        self.hint = HintBar(HINT, self.settings)
        self.lesson_strip = LessonStrip()  # an open preset's guidance
        self.preset = None  # the open lesson preset (bnviz.lessons.presets.Preset), if any
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.hint)
        column.addWidget(self.lesson_strip)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        # Every view that may ask for probes, in whichever tab it sits (panels join as built).
        self.probe_views: list[Panel] = [*self.findChildren(Panel), *self.lessons.built()]
        self.paint_watch = PaintWatch(self._painted, self)  # a panel's paint counts a redraw
        self.help_buttons_built: dict[str, QWidget] = {}
        self.status_counts = QLabel()
        self.status_message = QLabel()
        self.statusBar().addWidget(self.status_counts)
        self.statusBar().addWidget(self.status_message, 1)
        self.loading_bar = LoadingBar(self.loader)
        self.statusBar().addPermanentWidget(self.loading_bar)
        self.classroom = ClassroomMode(self)
        menus.build_menus(self)
        if getattr(self, "_startup_error", None):
            self.show_message(f"saved settings could not be used: {self._startup_error}", True)

    def _wire(self) -> None:
        c, w = self.controls, self.worker
        c.reset_requested.connect(self.reset)
        c.reset_clicked.connect(lambda: self.reset(self.controls.config()))
        c.hparams_changed.connect(self._hparams)
        c.batchnorm_toggled.connect(self._batchnorm)
        c.invalid_input.connect(lambda m: self.show_message(m, error=True))
        c.open_file_requested.connect(lambda: menus.open_data_file(self))
        c.play_clicked.connect(self.toggle_play)
        c.step_clicked.connect(self.step_once)
        c.speed_changed.connect(w.set_speed)
        w.set_speed(c.max_speed())
        c.stop_rule_changed.connect(self._set_stop_rule)
        w.snapshot_ready.connect(self._snapshot_arrived)
        w.error_raised.connect(lambda m: self.show_message(m, error=True))
        w.state_changed.connect(self._state_changed)
        w.networks_changed.connect(self._networks_changed)
        for view in self.lessons.built():
            view.connect_window(self)
        self.loader.loaded.connect(self._data_loaded)
        self.loader.failed.connect(self._data_failed)
        self.loader.cancelled.connect(self._data_cancelled)
        for key, slot in (
            (Qt.Key.Key_Space, self.toggle_play),
            (Qt.Key.Key_B, self.toggle_bn),
            (Qt.Key.Key_N, self.step_once),
            (Qt.Key.Key_R, c.reset_clicked.emit),
        ):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)

    # -- user actions --------------------------------------------------------------------------
    def reset(self, config: TrainConfig, data: Dataset | None = None) -> bool:
        """Start a new run; on a bad setting or data file, say why and keep the current run.

        A data file is loaded in the background first (progress and Cancel in the status bar;
        the current run goes on meanwhile): True then means the load has started."""
        if data is None and is_file(config.dataset):
            self.loader.start(config)
            self.loading_bar.begin(os.path.basename(config.dataset))
            return True
        self.loader.cancel()  # a run chosen now wins over a file still loading
        try:
            if data is None:
                config, data = self._load(config)
            else:
                config = config.validated()
        except (ConfigError, DataError, OSError) as e:
            self.show_message(str(e), error=True)
            self.controls.set_config(self.config)
            return False
        self.config, self.data = config, data
        self.histories, self.frame, self._pending = {}, None, None
        self.autopause.rearm()
        self._rendered_at, self._probe_results = {}, {}
        self.generation = self.worker.replace_trainer(config, data)
        self._wake()
        for p in [*self.panels_built.values(), *self.lessons.built()]:
            p.set_dataset(self.data)  # a panel not yet built takes self.data when it is
        # Plot items the panels dropped go now, not halfway through a later paint (pyqtgraph's
        # ViewBox signals a half-deleted item while painting; see tests/gui/conftest.py).
        gc.collect()
        if self.classroom.state.enabled:  # new plot items take classroom mode's line widths
            self.classroom.refresh()  # (off, they are born at scale 1: nothing to do)
        self.controls.set_config(self.config)
        widths = ", ".join(map(str, config.hidden)) or "none"  # as the Widths field says it
        self.show_message(f"new run: {config.dataset}, hidden {widths}")
        return True

    def _data_loaded(self, load_id: int, config: TrainConfig, data: Dataset) -> None:
        if load_id == self.loader.load_id:
            self.loading_bar.hide()
            self.reset(config, data)

    def _data_failed(self, load_id: int, message: str) -> None:
        if load_id == self.loader.load_id:
            self.loading_bar.hide()
            self.show_message(message, error=True)
            self.controls.set_config(self.config)

    def _data_cancelled(self, load_id: int) -> None:
        self.loading_bar.hide()
        self.show_message("loading cancelled; the current run goes on")
        self.controls.set_config(self.config)

    def babysit(self, config: TrainConfig, description: str) -> bool:
        """Train ``config`` live and show it (the explorer's babysit); False if refused."""
        if not self.reset(config):
            return False
        self.tabs.setCurrentWidget(self.training_tab)
        self.show_message(description)
        return True

    def show_message(self, text: str, error: bool = False) -> None:
        self.status_message.setStyleSheet("color: #b00000;" if error else "")
        self.status_message.setText(text)

    # -- lessons -------------------------------------------------------------------------------
    def open_lesson(self, name: str) -> LessonView:
        """Show lesson view ``name`` (a class name of :func:`lesson_views`) as a tab, adding the
        tab if it is not open, and switch to it."""
        view = self.lessons[name]
        if self.tabs.indexOf(view) < 0:
            self.tabs.addTab(view, view.title)
        self.tabs.setCurrentWidget(view)
        self._wake()
        return view

    def _lesson_built(self, view: LessonView) -> None:
        """A lesson view was just built (opened the first time): wire it as the window's."""
        paint_in_turns(view.findChildren(QGraphicsView))  # its first paints: one per turn
        view.connect_window(self)
        lesson_setting.connect_view(self, view)
        view.set_dataset(self.data)
        self.probe_views.append(view)
        if self.classroom.state.enabled:  # its new plot items take classroom mode's sizes
            self.classroom.refresh()

    def _close_tab(self, index: int) -> None:
        """Close a lesson's tab (the view is kept, hidden, and asks for nothing)."""
        if isinstance(self.tabs.widget(index), LessonView):
            self.tabs.removeTab(index)

    # -- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()
        self._build.cancel()  # before save_layout: what is not built is not saved either
        plot_pool.pool().stop()
        menus.save_layout(self)
        export_menus.stop_recording(self)
        if self.explorer_built is not None:
            self.explorer_built.shutdown()  # cancel a sweep, join its threads, close the executor
        for view in self.lessons.built():
            view.shutdown()
        self.loader.cancel()
        self.loader.wait()
        self.worker.stop()
        super().closeEvent(event)


def is_file(dataset: str) -> bool:
    """Whether a config's ``dataset`` names a file (loaded in the background), not a generator."""
    return dataset.strip().lower() not in BUILTIN_DATASETS
