"""The loss panel's change markers: a dashed line at each step where the user changed something
(BN switched, a hyperparameter), and labels laid out so none covers another or the legend.

Labels used to cycle through three fixed heights: three changes a few steps apart, or two with
long texts, drew their labels on top of each other and under the legend, and a change of two
settings at once was cut to its first ("lr 0.1 -> 0.05, momen…"). Now one marker per step holds
every change made at that step (the twins of compare mode log theirs separately), one change a
line, and :func:`place_labels` stacks the labels: each goes as high as it can without touching
a label to its left, the legend or a divergence label, and to the left of its line where it
would run past the right edge. A label with no room is hidden; its line's tooltip still names
the change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem

from bnviz.gui import style
from bnviz.gui.panels.loss_curves import step_pos
from bnviz.train.history import RunHistory

EVENT_KINDS = ("bn_on", "bn_off", "hparam")
LINE_CHARS = 32  # a longer line of a label is cut; the full text is the tooltip
TOP = 4.0  # pixels from the top of the view to the highest label
GAP = 3.0  # pixels between labels, and between a label and the legend
EVENT_PEN = pg.mkPen(style.EVENT_COLOR, width=1, style=Qt.PenStyle.DashLine)
LABEL_FONT = QFont()
LABEL_FONT.setPointSize(8)
LEFT_OF_LINE, RIGHT_OF_LINE = (1.0, 0.5), (0.0, 0.5)  # label anchors
# Why the loss jumps after BN is switched off late in a run (measured on the default, 3 seeds,
# BN off at step 1,520: the loss rose to 6.1-6.6 within 4 steps at alpha 0.5 and recovered in
# about 100; at alpha 0.05 it stayed under 0.33). Its first line goes on the label.
BN_OFF_NOTE = (
    "the loss may jump: \u03b1 was BN's\n"
    "The folded network computes the same output, but plain SGD now steps it at the "
    "learning rate chosen with BN, which is too large for these weights without BN: the "
    "loss jumps for a few steps (to about 6 on the default at \u03b1 = 0.5) and comes down "
    "again. Lower \u03b1 before switching BN off to avoid it."
)


@dataclass(frozen=True)
class Box:
    """A rectangle in view pixels, y down."""

    x0: float
    y0: float
    x1: float
    y1: float

    def hits(self, other: Box, gap: float = 0.0) -> bool:
        return (
            self.x0 < other.x1 + gap
            and other.x0 < self.x1 + gap
            and self.y0 < other.y1 + gap
            and other.y0 < self.y1 + gap
        )


def place_labels(
    labels: Sequence[tuple[float, float, float]],
    view_w: float,
    view_h: float,
    obstacles: Sequence[Box],
) -> list[Box | None]:
    """Boxes for labels ``(x of the line, width, height)`` in a ``view_w`` x ``view_h`` view,
    none overlapping another or an obstacle (``GAP`` apart); None for a label with no room.

    Labels are taken in order of ``x``; each goes to the highest free height from ``TOP`` (the
    candidates: the top, and just under each box near its line), right of its line, or left of
    it where the right is taken or would leave the view."""
    placed: list[Box | None] = [None] * len(labels)
    taken = list(obstacles)
    for i in sorted(range(len(labels)), key=lambda k: labels[k][0]):
        x, w, h = labels[i]
        sides = [x0 for x0 in (x, x - w) if 0 <= x0 and x0 + w <= view_w] or [max(x - w, 0.0)]
        near = [b for b in taken if b.x0 < x + w + GAP and x - w - GAP < b.x1]
        for y in sorted({TOP} | {b.y1 + GAP for b in near}):
            boxes = [Box(x0, y, x0 + w, y + h) for x0 in sides]
            box = next((b for b in boxes if not any(b.hits(o, GAP) for o in taken)), None)
            if box is not None and y + h <= view_h:
                placed[i] = box
                taken.append(box)
                break
    return placed


def label_lines(texts: Sequence[str]) -> list[str]:
    """The lines of a marker's label: each change of ``texts`` once ("lr 1 -> 2, momentum 0.9
    -> 0.8" is two changes; a twin's "(the twin keeps lr=0.1)" a line of its own)."""
    lines: list[str] = []
    for text in texts:
        for piece in text.replace(" (", ", (").split(", "):
            if piece and piece not in lines:
                lines.append(piece)
    return lines


def _cut(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


class _Marker:
    """The lines (loss and accuracy plots) and label of the changes made at one step."""

    def __init__(self, step: int, loss_plot: pg.PlotItem, acc_plot: pg.PlotItem, log_x: bool):
        self.step = step
        self.texts: list[str] = []
        pos = step_pos(step, log_x)
        self.line = pg.InfiniteLine(
            pos=pos,
            angle=90,
            pen=EVENT_PEN,
            label="",
            labelOpts={
                "color": (60, 60, 60),
                "fill": (255, 255, 255, 200),
                "anchors": [RIGHT_OF_LINE, RIGHT_OF_LINE],
            },
        )
        # Small and tight, as the legend: more labels fit one above the other.
        self.line.label.setFont(LABEL_FONT)
        self.line.label.textItem.document().setDocumentMargin(1)
        self.acc_line = pg.InfiniteLine(pos=pos, angle=90, pen=EVENT_PEN)
        loss_plot.addItem(self.line, ignoreBounds=True)
        acc_plot.addItem(self.acc_line, ignoreBounds=True)

    def add(self, text: str) -> None:
        """One more change at this step; only the first line of ``text`` goes on the label
        (the rest, a note, only in the tooltip)."""
        self.texts.append(text)
        label = "\n".join(
            _cut(line) for line in label_lines([t.split("\n")[0] for t in self.texts])
        )
        # A format string to pyqtgraph: braces in a text would be read as fields.
        self.line.label.setFormat(label.replace("{", "{{").replace("}", "}}"))
        self.line.label.setText(label)  # setFormat skips a hidden label; the layout measures it
        tip = "\n".join(f"step {self.step}: {t}" for t in self.texts)
        self.line.setToolTip(tip)
        self.line.label.setToolTip(tip)

    def place(self, log_x: bool) -> None:
        pos = step_pos(self.step, log_x)
        self.line.setValue(pos)
        self.acc_line.setValue(pos)


class EventMarkers:
    """The change markers of the loss panel. ``obstacles()`` gives the items (in the loss
    plot's view box) that labels must keep clear of: the legend, divergence labels."""

    def __init__(
        self,
        loss_plot: pg.PlotItem,
        acc_plot: pg.PlotItem,
        obstacles: Callable[[], list[QGraphicsItem]],
    ) -> None:
        self.loss_plot, self.acc_plot = loss_plot, acc_plot
        self.vb = loss_plot.getViewBox()
        self.obstacles = obstacles
        self.log_x = False
        self.markers: dict[int, _Marker] = {}
        self._seen: set[tuple] = set()
        for signal in (self.vb.sigResized, self.vb.sigXRangeChanged):
            signal.connect(self.lay_out)

    def clear(self) -> None:
        for m in self.markers.values():
            self.loss_plot.removeItem(m.line)
            self.acc_plot.removeItem(m.acc_line)
        self.markers.clear()
        self._seen.clear()

    def add_events(self, run: str, history: RunHistory, prefix: str) -> bool:
        """Mark the events of ``history`` not marked yet (a hyperparameter change is logged by
        every network: one line for all); ``prefix`` names the network in compare mode.
        True if a label changed."""
        changed = False
        for ev in history.events:
            if ev.kind not in EVENT_KINDS:
                continue
            shared = ev.kind == "hparam"  # applies to every network at once
            text = ev.text if shared or not prefix else f"{prefix}: {ev.text}"
            key = (ev.step, text)
            if key in self._seen:
                continue
            self._seen.add(key)
            marker = self.markers.get(ev.step)
            if marker is None:
                marker = _Marker(ev.step, self.loss_plot, self.acc_plot, self.log_x)
                self.markers[ev.step] = marker
            marker.add(text)
            if ev.kind == "bn_off":
                marker.add(BN_OFF_NOTE)
            changed = True
        return changed

    def set_log_x(self, on: bool) -> None:
        self.log_x = on
        for m in self.markers.values():
            m.place(on)
        self.lay_out()

    def lay_out(self, *_args) -> None:
        """Place every label (see :func:`place_labels`), in the loss view's pixels."""
        if not self.markers:
            return
        vb, view = self.vb, self.vb.boundingRect()
        obstacles = [_box(item.mapRectToItem(vb, item.boundingRect())) for item in self.obstacles()]
        markers = sorted(self.markers.values(), key=lambda m: m.step)
        labels = []
        for m in markers:
            size = m.line.label.boundingRect()
            x = vb.mapFromView(pg.Point(m.line.value(), 0)).x()
            labels.append((x, size.width(), size.height()))
        for m, (x, _, _), box in zip(
            markers, labels, place_labels(labels, view.width(), view.height(), obstacles)
        ):
            label = m.line.label
            shown = box is not None and 0 <= x <= view.width()
            if label.isVisible() != shown:
                label.setVisible(shown)
            if box is None or not shown:
                continue
            anchor = RIGHT_OF_LINE if box.x0 >= x - 0.5 else LEFT_OF_LINE
            label.anchors = [anchor, anchor]
            # 0 is the bottom of the view and 1 its top, at the label's anchor (mid-height).
            label.setPosition(1.0 - (box.y0 + box.y1) / 2 / view.height())


def _box(rect: QRectF) -> Box:
    return Box(rect.left(), rect.top(), rect.right(), rect.bottom())
