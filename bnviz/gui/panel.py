"""The contract between the main window and the plot panels.

A panel is a widget that draws from immutable data only: the data set (set once per run) and,
about 30 times a second, the latest snapshots with each network's accumulated history. Panels
create their plot items once and feed them with ``setData``; they never touch the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from bnviz.data import Dataset
from bnviz.train.history import RunHistory
from bnviz.train.snapshot import Snapshot


@dataclass(frozen=True)
class Frame:
    """What a panel draws from: one snapshot per network (1, or 2 in compare mode, BN first)
    and the history of each network keyed by run name."""

    snapshots: tuple[Snapshot, ...]
    histories: dict[str, RunHistory]


class Panel(QWidget):
    """Base class: override :meth:`set_dataset` and :meth:`render`."""

    title = "panel"
    #: Draw at most this often (seconds); 0 = every frame. Slow-changing views save CPU for
    #: the ones that move.
    render_interval_s = 0.0

    def set_dataset(self, data: Dataset) -> None:
        """Called on the GUI thread when a run starts (new data set, reset)."""

    def render(self, frame: Frame) -> None:
        """Draw ``frame``; must be fast (a few ms) and must not rebuild plot items."""

    def export_items(self) -> list:
        """The pyqtgraph items (PlotItem / GraphicsLayout) this panel can export as PNG/SVG."""
        return []
