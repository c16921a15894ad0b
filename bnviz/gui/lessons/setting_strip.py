"""The strip at the top of a lesson view that says whether the window is on the lesson's setting.

Off it (:func:`bnviz.lessons.setting.setting_differences` not empty), the strip is amber, names the
lesson's preset and the settings that differ, and offers "Use this lesson's setting"; on it, one
pale green line. After the button, "Undo" puts the user's own settings back. The strip only
shows; what the buttons do is the window's (:meth:`LessonView.connect_setting`).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from bnviz.lessons.setting import Difference

CHECK_MS = 400  # how often a shown view compares the window's settings with its own
MAX_LISTED = 4  # differences named in the strip; the rest in its tooltip
# Colours by palette, not style sheet: a styled widget takes no font from its parent, and
# classroom mode enlarges the window's font.
OFF_COLOR = QColor("#fff4d6")  # amber: its point may not show here
ON_COLOR = QColor("#eaf6ec")  # pale green: on the lesson's setting


class SettingStrip(QFrame):
    """One line (wrapping when it must): what the setting is, and the two buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("setting_strip")
        self.setAutoFillBackground(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.matching: bool | None = None  # None: not checked yet / no preset
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.use_button = QPushButton("Use this lesson's setting")
        self.use_button.setAccessibleName("Use this lesson's setting")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo: back to your settings")
        self.undo_button.setToolTip("Back to the settings you had before (a new run)")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.addWidget(self.label, 1)
        row.addWidget(self.use_button)
        row.addWidget(self.undo_button)
        self.undo_button.hide()
        self.hide()

    def show_state(
        self, preset_title: str, preset_name: str, differences: tuple[Difference, ...]
    ) -> None:
        """Off the setting (``differences``), or on it (none)."""
        self.matching = not differences
        name = f"<b>{html.escape(preset_title)}</b> (preset {html.escape(preset_name)})"
        if self.matching:
            self._fill(ON_COLOR)
            self.label.setText(f"&#10003; On this lesson's setting: {name}.")
            self.label.setToolTip("")
        else:
            self._fill(OFF_COLOR)
            listed = "; ".join(html.escape(d.describe()) for d in differences[:MAX_LISTED])
            more = len(differences) - MAX_LISTED
            listed += f"; and {more} more" if more > 0 else ""
            self.label.setText(
                f"&#9888; This lesson's point shows on the setting of {name}; here its point "
                f"may not show. Yours differs: {listed}."
            )
            self.label.setToolTip("\n".join(d.describe() for d in differences))
        self.use_button.setVisible(not self.matching)
        self.use_button.setToolTip(
            f"Open preset {preset_name}: its settings start a new run (Undo brings yours back)"
        )
        self.show()

    def _fill(self, color: QColor) -> None:
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, color)
        self.setPalette(palette)

    def set_undo(self, available: bool) -> None:
        self.undo_button.setVisible(available)


class WhileShown(QObject):
    """Calls ``tick`` when ``widget`` is shown and every ``interval_ms`` while it stays shown.

    An event filter rather than a ``showEvent`` override, so the view's own ``showEvent``
    stays free for its layout (and for subclasses)."""

    def __init__(self, widget: QWidget, tick: Callable[[], None], interval_ms: int = CHECK_MS):
        super().__init__(widget)
        self.tick = tick
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(tick)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Show:
            self.tick()
            self.timer.start()
        elif event.type() == QEvent.Type.Hide:
            self.timer.stop()
        return False  # the widget handles the event as ever
