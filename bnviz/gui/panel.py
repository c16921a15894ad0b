"""The contract between the main window and the plot panels.

A panel is a widget that draws from immutable data only: the data set (set once per run) and,
about 30 times a second, the latest snapshots with each network's accumulated history and the
results of the probes it asked for. Panels create their plot items once and feed them with
``setData``; they never touch the trainer.

A panel that needs a measurement the snapshots do not carry names a probe
(:mod:`bnviz.train.probes`) in :meth:`Panel.probe_requests`; the window asks for it while the
panel is visible and hands the latest result over in :attr:`Frame.probes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from PySide6.QtWidgets import QWidget

from bnviz.data import Dataset
from bnviz.train.history import RunHistory
from bnviz.train.protocol import ProbeRequest
from bnviz.train.snapshot import Snapshot


@dataclass(frozen=True)
class Frame:
    """What a panel draws from: one snapshot per network (1, or 2 in compare mode, BN first),
    the history of each network keyed by run name, and the latest result of each probe
    requested (keyed by its request; a new object whenever the probe ran again)."""

    snapshots: tuple[Snapshot, ...]
    histories: dict[str, RunHistory]
    probes: Mapping[ProbeRequest, object] = field(default_factory=dict)


class Panel(QWidget):
    """Base class: override :meth:`set_dataset` and :meth:`render`."""

    title = "panel"
    #: Draw at most this often (seconds); 0 = every frame. Slow-changing views save CPU for
    #: the ones that move.
    render_interval_s = 0.0

    def set_dataset(self, data: Dataset) -> None:
        """Called on the GUI thread when a run starts (new data set, reset)."""

    # Panel.render(frame) is not QWidget.render(device, ...), which it shadows on purpose (the
    # name every panel and lesson view overrides); code that wants Qt's calls
    # QWidget.render(panel, ...) (gui/export.py). Each override repeats this ignore.
    def render(self, frame: Frame) -> None:  # type: ignore[override]
        """Draw ``frame``; must be fast (a few ms) and must not rebuild plot items."""

    def probe_requests(self) -> tuple[ProbeRequest, ...]:
        """The probes to run for this panel while it is visible (none by default)."""
        return ()

    def export_items(self) -> list:
        """The pyqtgraph items (PlotItem / GraphicsLayout) this panel can export as PNG/SVG."""
        return []
