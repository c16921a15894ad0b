"""The base of every lesson view: a panel with a short explanation and the formula it shows.

A lesson view is a :class:`~bnviz.gui.panel.Panel` (it draws from frames and asks for probes by
name) that the Lessons menu opens as a tab of its own. While its tab is not shown it is not
visible, so it asks for no probe and is not drawn: a hidden lesson costs nothing.

Subclasses set :attr:`title`, :attr:`explanation` and :attr:`formula` (Qt rich text: two or three
sentences from the course and the equation) and put their plots and controls into
:attr:`body` (a QVBoxLayout under the explanation).

The whole page scrolls down (never sideways), and when the view is first shown a row of plots
in a GraphicsLayoutWidget becomes a :class:`~bnviz.gui.reflow.PlotReflow` (stacking when
narrow), panes side by side in a QSplitter stack upright when the page is too narrow for them,
and the inputs get accessible names and a Tab order (:mod:`bnviz.gui.keyboard`): a subclass
needs nothing of its own to fit a 1024 x 640 screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from bnviz.gui.keyboard import make_keyboard_friendly
from bnviz.gui.lessons.evidence_panel import EvidencePanel, Experiment
from bnviz.gui.lessons.setting_strip import SettingStrip, WhileShown
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.reflow import FlowLayout, reflow_plots, stack_splitters
from bnviz.lessons.presets import Preset
from bnviz.lessons.setting import setting_differences, view_preset
from bnviz.train.config import ConfigError, TrainConfig


class LessonView(Panel):
    """A panel under the Lessons menu: explanation and formula on top, the lesson's own
    plots and controls in :attr:`body` below.

    A lesson shows its point on one setting, its preset's
    (:func:`bnviz.lessons.setting.view_preset`). A strip on top (:class:`SettingStrip`) says
    whether the window is on it, checked while the view is shown, and offers "Use this lesson's
    setting" and "Undo" (what they do is the window's: :meth:`connect_setting`)."""

    title = "lesson"
    #: A lesson's plots grow from its probes' results, a few a second: drawn 10 times a second
    #: (every frame, up to 33 a second, kept three of them heavy to repaint: a GUI thread blocked
    #: a fifth of the time and clicks waiting 30-50 ms)
    render_interval_s = 0.1
    #: Rich text: what the view shows and what to look for (two or three sentences).
    explanation = ""
    #: Rich text: the formula the view illustrates.
    formula = ""

    #: The window's current settings (set by :meth:`connect_window`): for a view that runs its own
    #: trainings (an experiment) on what the user set up.
    config_provider: Callable[[], TrainConfig] | None = None
    #: Pause live training, saying why (set by :meth:`connect_window`): an experiment's worker
    #: processes need the cores.
    pause_training: Callable[[str], None] | None = None
    #: Settings that do not matter for this lesson (besides the seed and those idle in its
    #: preset): those its experiment varies itself, BN on/off where it trains both.
    setting_ignores: tuple[str, ...] = ()
    #: Open a preset by name the way Lessons > Presets does; returns what to give
    #: :attr:`restore_setting` to undo it, or None if it was refused (set by the window).
    use_setting: Callable[[str], object | None] | None = None
    #: Put back the state :attr:`use_setting` returned; False if refused (set by the window).
    restore_setting: Callable[[object], bool] | None = None

    #: The claim over seeds (:meth:`add_evidence_panel`), for an experiment lesson.
    evidence_panel: EvidencePanel | None = None

    _seen: object = None
    _reflowed = False

    def fresh_result(self, frame: Frame) -> object | None:
        """The result of this view's (first) probe in ``frame`` if it is new since the last
        call, else None: the probe runs every so many steps, the frames come 30 times a
        second, and a view redraws only when there is something new. :meth:`forget_result`
        makes the next one count as new."""
        requests = self.probe_requests()
        result = frame.probes.get(requests[0]) if requests else None
        if result is None or result is self._seen:
            return None
        self._seen = result
        return result

    def forget_result(self) -> None:
        self._seen = None

    def add_experiment_row(
        self, widgets: list[QWidget | str], run: Callable[[], object], cancel: Callable[[], object]
    ) -> None:
        """For a view that runs its own trainings: ``widgets`` (labels and fields), then Run
        (calls ``run``) and Cancel (``cancel``; enabled while running), in one row of
        :attr:`body`, and under it the status line :attr:`status`."""
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(cancel)
        row = FlowLayout()  # wraps at a narrow width instead of squeezing every field
        for w in [*widgets, self.run_button, self.cancel_button]:
            row.addWidget(QLabel(w) if isinstance(w, str) else w)
        self.body.addLayout(row)
        self.status = QLabel("Press Run: the trainings use the settings of the Controls dock.")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.status)

    def add_evidence_panel(
        self, experiment: Experiment, options: Callable[[], dict] | None = None
    ) -> EvidencePanel:
        """Under the view's plots: the lesson's claim measured over seeds by ``experiment``
        (its function of LESSON_API.md) on the window's settings; ``options`` gives the
        experiment's keyword options from the view's own fields."""
        self.evidence_panel = EvidencePanel(self.slug(), experiment, self, options)
        self.body.addWidget(self.evidence_panel)
        return self.evidence_panel

    def shutdown(self) -> None:
        """The window closes: stop whatever the view runs (worker processes, timers); a view
        that runs more calls this too."""
        if self.evidence_panel is not None:
            self.evidence_panel.shutdown()

    @classmethod
    def slug(cls) -> str:
        """The view's name on the command line: its title, lower-case, words joined by "-"
        ("Loss landscape" -> "loss-landscape")."""
        return re.sub(r"[^a-z0-9]+", "-", cls.title.lower()).strip("-")

    def __init__(self) -> None:
        super().__init__()
        # The whole page scrolls: at 1024 x 640 a lesson gets about 690 x 450 px, less than
        # its explanation, controls and readable plots; squeezed, they overlapped and were cut.
        self.page_scroll = QScrollArea()
        self.page_scroll.setWidgetResizable(True)
        self.page_scroll.setFrameShape(QFrame.Shape.NoFrame)
        page = QWidget()
        self.page_scroll.setWidget(page)
        frame = QVBoxLayout(self)
        frame.setContentsMargins(0, 0, 0, 0)
        frame.addWidget(self.page_scroll)
        outer = QVBoxLayout(page)
        outer.setContentsMargins(6, 6, 6, 6)
        try:
            self.preset: Preset | None = view_preset(self.slug())
        except ConfigError:  # a broken shipped preset: the view still opens, without a strip
            self.preset = None
        self._previous: object | None = None  # what Undo restores
        self._checked: TrainConfig | None = None
        self.setting_strip = SettingStrip()
        self.setting_strip.use_button.clicked.connect(self.use_lesson_setting)
        self.setting_strip.undo_button.clicked.connect(self.undo_lesson_setting)
        outer.addWidget(self.setting_strip)
        # checked at once when the view is shown, then while it stays shown
        self._setting_watch = WhileShown(self, self.check_setting)
        self.explanation_label = QLabel(self.explanation)
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setTextFormat(Qt.TextFormat.RichText)
        self.formula_label = QLabel(self.formula)
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)
        self.formula_label.setWordWrap(True)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label.setStyleSheet(
            "QLabel { background: #f4f6fb; border: 1px solid #d6dbe8; padding: 4px;"
            " font-family: serif; font-size: 13px; }"
        )
        header = QFrame()
        hl = QVBoxLayout(header)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.explanation_label)
        hl.addWidget(self.formula_label)
        outer.addWidget(header)
        content = QWidget()
        self.body = QVBoxLayout(content)
        self.body.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(content, 1)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        # The subclass has built its plots by now: rows of plots stack when narrow.
        if not self._reflowed:
            self._reflowed = True
            reflow_plots(self)
            stack_splitters(self, self.page_scroll)
            make_keyboard_friendly(self.page_scroll)
        super().showEvent(event)

    def connect_window(self, window: Any) -> None:
        """Called once by the main window when it is built: keeps how to read the window's
        settings and pause its training; a view that acts on the training process
        (``window.worker``) or follows another panel connects here too (call this first)."""
        self.config_provider = window.controls.config
        self.pause_training = window.pause_for_round

    def connect_setting(
        self, use: Callable[[str], object | None], restore: Callable[[object], bool]
    ) -> None:
        """What "Use this lesson's setting" and "Undo" do (the window's preset machinery)."""
        self.use_setting, self.restore_setting = use, restore

    # -- the lesson's setting ------------------------------------------------------------------
    def check_setting(self) -> None:
        """Compare the window's settings with the lesson's and show the answer in the strip
        (nothing to do while they are the ones last checked)."""
        if self.preset is None or self.preset.lesson is None or self.config_provider is None:
            return
        try:
            config = self.config_provider()
        except ConfigError:
            return  # a field being typed: the last answer stands
        if config == self._checked:
            return
        self._checked = config
        differences = setting_differences(self.preset.config, config, self.setting_ignores)
        self.setting_strip.show_state(self.preset.lesson.title, self.preset.name, differences)
        self.setting_strip.set_undo(self._previous is not None)

    def use_lesson_setting(self) -> bool:
        """Open this lesson's preset (a new run on its settings); Undo then goes back."""
        if self.preset is None or self.use_setting is None:
            return False
        previous = self.use_setting(self.preset.name)
        if previous is None:
            return False
        if self._previous is None:  # a second click keeps the user's own settings to go back to
            self._previous = previous
        self._checked = None
        self.check_setting()
        return True

    def undo_lesson_setting(self) -> bool:
        """Back to the settings the user had before "Use this lesson's setting"."""
        if self._previous is None or self.restore_setting is None:
            return False
        if not self.restore_setting(self._previous):
            return False
        self._previous = None
        self._checked = None
        self.check_setting()
        return True
