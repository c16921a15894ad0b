"""The base of every lesson view: a panel with a short explanation and the formula it shows.

A lesson view is a :class:`~bnviz.gui.panel.Panel` (it draws from frames and asks for probes by
name) that the Lessons menu opens as a tab of its own. While its tab is not shown it is not
visible, so it asks for no probe and is not drawn: a hidden lesson costs nothing.

Subclasses set :attr:`title`, :attr:`explanation` and :attr:`formula` (Qt rich text: two or three
sentences from the course and the equation) and put their plots and controls into
:attr:`body` (a QVBoxLayout under the explanation).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from bnviz.gui.panel import Panel


class LessonView(Panel):
    """A panel under the Lessons menu: explanation and formula on top, the lesson's own
    plots and controls in :attr:`body` below."""

    title = "lesson"
    #: Rich text: what the view shows and what to look for (two or three sentences).
    explanation = ""
    #: Rich text: the formula the view illustrates.
    formula = ""

    def __init__(self) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
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

    def connect_window(self, window: Any) -> None:
        """Called once by the main window when it is built: a view that acts on the training
        process (``window.worker``) or follows another panel connects here. Nothing by
        default."""
