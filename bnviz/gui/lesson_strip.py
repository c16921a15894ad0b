"""The strip above the plots that shows an open preset's title and guidance.

At most :data:`MAX_LINES` lines high (a longer paragraph scrolls inside it), so at the smallest
window (1024 x 640) the plots keep most of the height; its x hides it until the next preset, and
View > Lesson guidance brings it back.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QWidget

from bnviz.gui.hint import close_button
from bnviz.lessons.presets import Lesson

MAX_LINES = 4


class LessonStrip(QWidget):
    """A pale blue strip: the lesson's title in bold, then its guidance."""

    def __init__(self) -> None:
        super().__init__()
        self.lesson: Lesson | None = None
        self.setObjectName("lesson_strip")
        self.setStyleSheet(
            "#lesson_strip { background: #eaf2fb; border-bottom: 1px solid #b9cde6; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.label)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setStyleSheet("background: transparent;")
        self.close_button = close_button(
            "Hide the guidance (View > Lesson guidance shows it again)", self.hide
        )
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 3, 4, 3)
        row.addWidget(self.scroll_area, 1)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.fit_height()
        self.hide()

    def show_lesson(self, lesson: Lesson | None) -> None:
        """Show ``lesson``'s title and guidance (None: hide the strip)."""
        self.lesson = lesson
        if lesson is None:
            self.label.clear()
            self.hide()
            return
        self.label.setText(
            f"<b>{html.escape(lesson.title)}</b> &mdash; {html.escape(lesson.guidance)}"
        )
        self.fit_height()
        self.show()

    def fit_height(self) -> None:
        """At most MAX_LINES lines of the current font (classroom mode enlarges it)."""
        line = self.label.fontMetrics().lineSpacing()
        self.scroll_area.setMaximumHeight(MAX_LINES * line + 6)
