"""A combo box that picks one network of the frame (compare mode shows two)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from bnviz.gui import style
from bnviz.train.snapshot import Snapshot


class RunPicker(QComboBox):
    """Lists the frame's networks ("with BN" / "without BN", or the twins' values); hidden when
    there is only one."""

    def __init__(self, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip(tooltip)
        # Twins are named by their values ("optimizer=adam"): show the whole name.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setVisible(False)
        self.runs: tuple[str, ...] = ()

    def sync(self, snaps: tuple[Snapshot, ...]) -> None:
        """Follow the networks of a new frame, keeping the current choice when it still exists."""
        runs = tuple(s.run for s in snaps)
        if runs == self.runs:
            return
        current = self.currentData()
        self.runs = runs
        self.blockSignals(True)
        self.clear()
        for s in snaps:
            self.addItem(style.run_label(s.run, s.batchnorm), s.run)
        self.setCurrentIndex(max(self.findData(current), 0))
        self.blockSignals(False)
        self.setVisible(len(runs) > 1)

    def pick(self, snaps: tuple[Snapshot, ...]) -> Snapshot | None:
        """The chosen network's snapshot (the first one when the choice is gone)."""
        if not snaps:
            return None
        run = self.currentData()
        for s in snaps:
            if s.run == run:
                return s
        return snaps[0]
