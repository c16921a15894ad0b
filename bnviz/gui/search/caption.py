"""The explorer's tab layout shared by its chart tabs: a summary line, the chart, a caption."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

CAPTION_STYLE = "color: #444; font-size: 11px;"


def summary_chart_caption(owner: QWidget, chart: QWidget, summary: str,
                          caption: str) -> tuple[QLabel, QLabel]:  # fmt: skip
    """Lay ``owner`` out as a wrapped summary above ``chart`` (which takes the room) and a
    small grey caption below; returns (summary, caption) labels."""
    top, bottom = QLabel(summary), QLabel(caption)
    top.setWordWrap(True)
    bottom.setWordWrap(True)
    bottom.setStyleSheet(CAPTION_STYLE)
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(top)
    layout.addWidget(chart, 1)
    layout.addWidget(bottom)
    return top, bottom
