"""The one-line hint under the menu bar that tells a newcomer what to try; once dismissed it
stays away (the choice is kept in the window's settings)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

DISMISSED_KEY = "hint/dismissed"


class HintBar(QWidget):
    """A pale strip with the hint and a close button."""

    def __init__(self, text: str, settings: QSettings) -> None:
        super().__init__()
        self.settings = settings
        self.setObjectName("hint_bar")
        self.setStyleSheet("#hint_bar { background: #fff8dc; border-bottom: 1px solid #e0d8b0; }")
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.close_button = close_button("Dismiss this hint (it will not come back)", self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 3, 4, 3)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # a QWidget's own colour
        self.setVisible(not self._dismissed())

    def _dismissed(self) -> bool:
        return str(self.settings.value(DISMISSED_KEY, "false")).lower() == "true"

    def dismiss(self) -> None:
        self.settings.setValue(DISMISSED_KEY, "true")
        self.hide()


def close_button(tooltip: str, slot: Callable[[], object]) -> QToolButton:
    """The x that closes a strip (this hint, a lesson's guidance)."""
    b = QToolButton()
    b.setText("\u2715")
    b.setToolTip(tooltip)
    b.setAutoRaise(True)
    b.clicked.connect(slot)
    return b
