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
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from bnviz.gui.keyboard import make_keyboard_friendly
from bnviz.gui.panel import Panel
from bnviz.gui.reflow import FlowLayout, reflow_plots, stack_splitters
from bnviz.train.config import TrainConfig


class LessonView(Panel):
    """A panel under the Lessons menu: explanation and formula on top, the lesson's own
    plots and controls in :attr:`body` below."""

    title = "lesson"
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

    _seen: object = None
    _reflowed = False

    def fresh_result(self, frame) -> object | None:
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

    def add_experiment_row(self, widgets: list, run, cancel) -> None:
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

    def shutdown(self) -> None:
        """The window closes: stop whatever the view runs (worker processes, timers)."""

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

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
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
