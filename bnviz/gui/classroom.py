"""Classroom mode: hide chosen controls, and enlarge fonts and plot lines for a projector.

The state is a Qt-free :class:`~bnviz.lessons.presets.Classroom` (saved into settings and lesson
files); this module applies it to a window. Controls are named by the :class:`ControlPanel`
attribute that holds their field (``noise``, ``lr``, ``seed``...), so a file keeps naming the
same control when labels change. Plot lines and fonts are scaled from the values the panels
set, remembered on each item, so switching the mode off restores them exactly; a panel that
sets a new pen later (a reset, a colour change) is picked up by :meth:`ClassroomMode.refresh`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGraphicsTextItem,
    QGraphicsView,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from bnviz.gui.reflow import PlotReflow, fit_scroll_width
from bnviz.gui.staged import paint_in_turns
from bnviz.gui.window_api import AppWindow
from bnviz.lessons.presets import SCALE_RANGE, Classroom

REFRESH_MS = 1000  # pens a panel re-set since (a colour change) are scaled again this often
_PEN0, _PEN_SET, _FONT0 = "_bnviz_pen0", "_bnviz_pen_set", "_bnviz_font0"
_SIZE0, _SIZE_SET = "_bnviz_size0", "_bnviz_size_set"
_EXTENT0, _EXTENT_SET = "_bnviz_extent0", "_bnviz_extent_set"
# the scale a plot view (or a PlotReflow) was last brought to; None: not known (it was hidden
# when the scale changed, or new items were added to it meanwhile)
_VIEW_SCALE = "_bnviz_view_scale"
INLINE_SIZE = re.compile(r"(font-size:\s*)([0-9.]+\s*(?:pt|px))")


def control_rows(controls: QWidget) -> dict[str, tuple[str, QFormLayout, int]]:
    """Every row of the controls dock: key -> (its label, its form, its row), in dock order."""
    by_widget = {id(w): name for name, w in vars(controls).items() if isinstance(w, QWidget)}
    out: dict[str, tuple[str, QFormLayout, int]] = {}
    for form in controls.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            widgets = _row_widgets(form, row)
            keys = [by_widget[id(w)] for w in widgets if id(w) in by_widget]
            if not keys:
                continue
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label_widget = label.widget() if label else None
            text = label_widget.text() if isinstance(label_widget, QLabel) else ""
            if not text:  # a check box or a row of buttons: their own texts
                text = " / ".join(w.text() for w in widgets if hasattr(w, "text") and w.text())
            out[keys[0]] = (text.replace("&", ""), form, row)
    return out


def _row_widgets(form: QFormLayout, row: int) -> list[QWidget]:
    """The field widget of a form row, or the widgets of the layout in its place."""
    for role in (QFormLayout.ItemRole.FieldRole, QFormLayout.ItemRole.SpanningRole):
        item = form.itemAt(row, role)
        if item is None:
            continue
        if (widget := item.widget()) is not None:
            return [widget]
        lay = item.layout()
        if lay is not None:
            cells = [lay.itemAt(i) for i in range(lay.count())]
            return [w for c in cells if c is not None and (w := c.widget()) is not None]
    return []


class ClassroomMode:
    """Applies a :class:`Classroom` state to ``win`` (a MainWindow)."""

    def __init__(self, win: AppWindow) -> None:
        self.win = win
        self.state = Classroom()
        self._base_font = QFont(win.font())
        self._timer = QTimer(win, interval=REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        win.tabs.currentChanged.connect(lambda _index: self.catch_up())

    @property
    def scale(self) -> float:
        return self.state.scale if self.state.enabled else 1.0

    def set_state(self, state: Classroom) -> list[str]:
        """Apply ``state``; returns the hidden names no control has (a file's typo)."""
        self.state = state
        rows = control_rows(self.win.controls)
        hidden = set(state.hidden) if state.enabled else set()
        for key, (_, form, row) in rows.items():
            form.setRowVisible(row, key not in hidden)
        for box in self.win.controls.findChildren(QGroupBox):  # a box with nothing left goes too
            box_form = box.layout()
            if isinstance(box_form, QFormLayout):
                keys = [k for k, (_, f, _r) in rows.items() if f is box_form]
                box.setVisible(not keys or not all(k in hidden for k in keys))
        font = QFont(self._base_font)
        font.setPointSizeF(self._base_font.pointSizeF() * self.scale)
        self.win.setFont(font)
        # Styled strips (the hint, the guidance) take no font from their parent: set it.
        for bar in (getattr(self.win, "hint", None), getattr(self.win, "lesson_strip", None)):
            for label in bar.findChildren(QLabel) if bar is not None else ():
                label.setFont(font)
        self.refresh()
        self._timer.start()  # off, it runs until the hidden plots are back at scale 1
        strip = getattr(self.win, "lesson_strip", None)
        if strip is not None:
            strip.fit_height()
        page = getattr(self.win, "panel_page", None)
        if page is not None:
            page.set_scale(self.scale)  # larger texts need larger panels: the page scrolls
        dock = self.win.findChild(QDockWidget, "controls_dock")
        if dock is not None and isinstance(scroll := dock.widget(), QScrollArea):
            fit_scroll_width(scroll)  # larger fonts need a wider dock, never clipped
        # every visible plot repaints in the new font: one per turn of the event loop
        paint_in_turns([v for v in self.win.findChildren(QGraphicsView) if v.isVisible()])
        return sorted(set(state.hidden) - set(rows)) if state.enabled else []

    def enabled(self, on: bool) -> list[str]:
        return self.set_state(replace(self.state, enabled=on))

    def refresh(self) -> None:
        """Scale the shown plots' lines and texts to the current scale (idempotent).

        Plots not shown (another tab's: a session's opened lessons hold most of the window's
        plot items) are only marked, and scaled when shown (:meth:`catch_up`): walking all of
        them made classroom mode's switch ~2x longer."""
        self._bring(stale_only=False)

    def catch_up(self) -> None:
        """Scale the plots just shown (a tab switched to) that are not at the current scale."""
        self._bring(stale_only=True)

    def _tick(self) -> None:
        """On: pens a panel set anew are scaled again. Off: plots shown since are brought back,
        until none is left at another scale."""
        if self.state.enabled:
            self.refresh()
            return
        if self._bring(stale_only=True):
            self._timer.stop()

    def _bring(self, stale_only: bool) -> bool:
        """Bring the shown plots to the scale (``stale_only``: those not at it); whether every
        plot, shown or not, is at the scale now."""
        s = self.scale
        tabs = self.win.tabs
        others = [
            page
            for i in range(tabs.count())
            if i != tabs.currentIndex() and (page := tabs.widget(i)) is not None
        ]

        def in_other_tab(widget: QWidget) -> bool:  # hidden with its tab, not by its own view
            return any(page.isAncestorOf(widget) for page in others)

        # the plots, then their reflows (larger titles, wider plots): (what is marked, the
        # widget that is shown or not, how it is brought to the scale)
        views = self.win.findChildren(QGraphicsView)
        reflows = self.win.findChildren(PlotReflow)
        targets: list[tuple[QObject, QWidget, Callable[[], object]]] = [
            *((v, v, partial(_scale_scene, v, s)) for v in views),
            *((r, r.widget, r.refit) for r in reflows),
        ]
        for marked, widget, bring in targets:
            if in_other_tab(widget):
                if not stale_only:
                    setattr(marked, _VIEW_SCALE, None)
                continue
            if stale_only and getattr(marked, _VIEW_SCALE, 1.0) == s:
                continue
            setattr(marked, _VIEW_SCALE, s)
            bring()
        return all(getattr(marked, _VIEW_SCALE, 1.0) == s for marked, _, _ in targets)


def _scale_scene(view: QGraphicsView, s: float) -> None:
    """Scale every plot item's lines and texts in ``view`` to ``s``."""
    scene = view.scene()
    if scene is None:
        return
    for item in scene.items():
        if isinstance(item, pg.PlotDataItem):
            _scale_pen(item, s)
        elif isinstance(item, pg.PlotCurveItem) and not isinstance(
            item.parentItem(), pg.PlotDataItem
        ):
            _scale_pen(item, s)
        elif isinstance(item, pg.AxisItem):
            _scale_axis(item, s)
        elif isinstance(item, pg.LabelItem):  # titles, legend entries
            _scale_label(item, s)
        elif isinstance(item, QGraphicsTextItem):
            _scale_font(item, s)


def _scale_pen(item: Any, s: float) -> None:  # a PlotDataItem or a PlotCurveItem
    if item.opts.get("pen") is None:  # symbols only
        return
    pen = pg.mkPen(item.opts["pen"])
    if pen != getattr(item, _PEN_SET, None):  # first visit, or the panel set a new pen since
        setattr(item, _PEN0, QPen(pen))
    base = getattr(item, _PEN0)
    scaled = QPen(base)
    if s != 1.0:
        scaled.setWidthF(max(1.0, base.widthF()) * s)
    if scaled != pen:
        item.setPen(scaled)
    setattr(item, _PEN_SET, QPen(scaled))


def _scale_axis(axis: pg.AxisItem, s: float) -> None:
    if not hasattr(axis, _FONT0):
        setattr(axis, _FONT0, QFont(axis.style.get("tickFont") or axis.font()))
    base = getattr(axis, _FONT0)
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() * s)
    if axis.style.get("tickFont") != font:
        axis.setStyle(tickFont=font)
    _scale_extent(axis, s)
    size = axis.labelStyle.get("font-size")
    if size is not None:  # an axis label with its own size (in its HTML, not its font)
        if size != getattr(axis, _SIZE_SET, None):
            setattr(axis, _SIZE0, size)
        scaled = scaled_size(getattr(axis, _SIZE0), s)
        if scaled != size:
            axis.labelStyle["font-size"] = scaled
            axis._updateLabel()
        setattr(axis, _SIZE_SET, scaled)


def _scale_extent(axis: pg.AxisItem, s: float) -> None:
    """An axis given a fixed width (or height) keeps larger ticks inside it: its extent grows
    too. Axes whose width follows their ticks (panels/_view.fit_axis_width) fit themselves."""
    if "_updateMaxTextSize" in vars(axis):  # hooked by fit_axis_width
        return
    upright = axis.orientation in ("left", "right")
    extent = axis.fixedWidth if upright else axis.fixedHeight
    if extent is None:
        return
    if extent != getattr(axis, _EXTENT_SET, None):  # first visit, or the panel set one since
        setattr(axis, _EXTENT0, extent)
    scaled = round(getattr(axis, _EXTENT0) * s)
    if scaled != extent:
        (axis.setWidth if upright else axis.setHeight)(scaled)
    setattr(axis, _EXTENT_SET, scaled)


def scaled_size(size: str, s: float) -> str:
    """A CSS font size (``"11pt"``, ``"14px"``) times ``s``; one it cannot read, unchanged."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(pt|px)\s*", size)
    if m is None:
        return size
    return f"{float(m.group(1)) * s:g}{m.group(2)}"


def _scale_label(item: pg.LabelItem, s: float) -> None:
    """pyqtgraph writes a title's or legend entry's size into its HTML (``size=``, or a panel's
    own ``<span style='font-size:9pt'>``), which overrides the text item's font: scale those
    sizes, and re-set the text so the label measures itself anew."""
    size, text = item.opts.get("size"), item.text
    if (size, text) != getattr(item, _SIZE_SET, None):  # first visit, or the panel set one since
        setattr(item, _SIZE0, (size, text))
    size0, text0 = getattr(item, _SIZE0)
    scaled_text = INLINE_SIZE.sub(lambda m: m.group(1) + scaled_size(m.group(2), s), text0)
    if size0 is None and scaled_text == text0:  # sized by its font: scale that, and measure
        if _scale_font(item.item, s):
            item.updateMin()
            item.updateGeometry()
        return
    scaled = scaled_size(size0, s) if size0 is not None else None
    if (scaled, scaled_text) != (size, text):
        if scaled is None:
            item.setText(scaled_text)
        else:
            item.setText(scaled_text, size=scaled)
    setattr(item, _SIZE_SET, (scaled, scaled_text))


def _scale_font(item: QGraphicsTextItem, s: float) -> bool:
    if not hasattr(item, _FONT0):
        setattr(item, _FONT0, QFont(item.font()))
    base = getattr(item, _FONT0)
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() * s)
    if item.font() != font:
        item.setFont(font)
        return True
    return False


class ClassroomDialog(QDialog):
    """The checklist: tick the controls to hide in classroom mode, and the scale."""

    def __init__(self, controls: QWidget, state: Classroom, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Classroom mode")
        self.list = QListWidget()
        for key, (text, _, _) in control_rows(controls).items():
            item = QListWidgetItem(text or key)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setCheckState(
                Qt.CheckState.Checked if key in state.hidden
                else Qt.CheckState.Unchecked
            )  # fmt: skip
            self.list.addItem(item)
        self.scale = QDoubleSpinBox()
        self.scale.setRange(*SCALE_RANGE)
        self.scale.setSingleStep(0.25)
        self.scale.setValue(state.scale)
        self.scale.setSuffix(" x")
        self.keep_fonts = QCheckBox("Enlarge fonts and plot lines by")
        self.keep_fonts.setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Hide these controls (a projector shows what the class needs):"))
        lay.addWidget(self.list, 1)
        form = QFormLayout()
        form.addRow(self.keep_fonts, self.scale)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def state(self) -> Classroom:
        hidden = tuple(
            self.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        )
        scale = self.scale.value() if self.keep_fonts.isChecked() else 1.0
        return Classroom(True, hidden, scale)
