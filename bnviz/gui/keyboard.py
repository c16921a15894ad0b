"""Every control reachable from the keyboard, and named for a screen reader.

Qt's default Tab order is the order the widgets were created in, not the order they are laid out
in, and a field beside a QLabel has no accessible name of its own (a screen reader said "edit").
:func:`make_keyboard_friendly` walks a widget's layouts top to bottom, left to right, names each
input after its label (a form row's, the QLabel just before it in a row, or its own text), and
chains the Tab order in that same order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QWidget,
)

#: The widgets a user types into, picks from or presses.
INPUTS = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit)


def laid_out(widget: QWidget) -> Iterator[QWidget]:
    """``widget``'s descendants in layout order (form rows: label, then field), depth first;
    an input's own inner widgets (a spin box's line edit) are not visited."""
    if isinstance(widget, QScrollArea) and (inner := widget.widget()) is not None:
        yield inner
        yield from laid_out(inner)
        return
    if isinstance(widget, QSplitter | QTabWidget):
        pages = [p for i in range(widget.count()) if (p := widget.widget(i)) is not None]
        for page in pages:
            yield page
            yield from laid_out(page)
        return
    if (layout := widget.layout()) is not None:
        yield from _layout_widgets(layout)


def _layout_widgets(layout: QLayout) -> Iterator[QWidget]:
    if isinstance(layout, QFormLayout):
        items: list[QLayoutItem] = []
        for row in range(layout.rowCount()):
            for role in (
                QFormLayout.ItemRole.LabelRole,
                QFormLayout.ItemRole.FieldRole,
                QFormLayout.ItemRole.SpanningRole,
            ):
                item = layout.itemAt(row, role)
                if item is not None and all(item is not seen for seen in items):
                    items.append(item)  # a row given a layout answers to two roles
    else:
        items = [it for i in range(layout.count()) if (it := layout.itemAt(i)) is not None]
    for item in items:
        if (w := item.widget()) is not None:
            yield w
            if not isinstance(w, INPUTS):
                yield from laid_out(w)
        elif (inner := item.layout()) is not None:
            yield from _layout_widgets(inner)


def inputs(root: QWidget) -> list[QWidget]:
    """The inputs under ``root`` that take focus from Tab, in layout order."""
    return [
        w for w in laid_out(root)
        if isinstance(w, INPUTS) and w.focusPolicy() & Qt.FocusPolicy.TabFocus
    ]  # fmt: skip


def make_keyboard_friendly(root: QWidget) -> list[QWidget]:
    """Name every input under ``root`` that has no accessible name, and chain the Tab order
    through them in layout order; returns them in that order."""
    label_text = ""
    order: list[QWidget] = []
    for w in laid_out(root):
        if isinstance(w, QLabel):
            label_text = _plain(w.text())
            continue
        if not isinstance(w, INPUTS):
            continue
        if not w.accessibleName():
            own = _plain(w.text()) if isinstance(w, QAbstractButton) else ""
            name = own or label_text or _first_clause(w.toolTip())
            if name:
                w.setAccessibleName(name)
        if isinstance(w, QAbstractButton):
            label_text = ""  # a button's label is its own: it names nothing after it
        if w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            order.append(w)
    for a, b in zip(order, order[1:]):
        QWidget.setTabOrder(a, b)
    return order


def _first_clause(tip: str) -> str:
    """A tooltip's opening words ("Which network's softmax to show: ..." -> its question)."""
    return re.split(r"[.:(\n]", _plain(tip), maxsplit=1)[0].strip()


def _plain(text: str) -> str:
    """A label's text without mnemonics, rich-text tags and a trailing colon."""
    text = re.sub(r"<[^>]+>", "", text).replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.strip().rstrip(":").strip()
