"""Every trial of the study in a table, sortable by any column (by result, most usefully).

Rows are appended as trials finish; sorting uses a numeric role so 1e-3 sorts below 0.01 and
diverged and failed trials (no loss) sort after every finished one. The state column names
how each trial ended (complete, pruned, diverged, failed); its tooltip says why.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from bnviz.gui import style
from bnviz.gui.search.axes import format_value
from bnviz.search.halving import pruned_text
from bnviz.search.study import TrialRecord, TrialState

SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1
LEAD = ("id", "round")
TAIL = ("val_loss", "val_acc", "state", "seconds")
# the state column sorts from the best kind of ending to the worst
STATE_ORDER = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.DIVERGED, TrialState.FAILED)
STATE_COLORS = {TrialState.DIVERGED: style.DIVERGED_COLOR, TrialState.FAILED: style.FAILED_COLOR}


def _item(text: str, key: float | str, trial_id: int) -> QStandardItem:
    it = QStandardItem(text)
    it.setData(key, SORT_ROLE)
    it.setData(trial_id, ID_ROLE)
    it.setEditable(False)
    return it


def _metric(v: float | None) -> tuple[str, float]:
    if v is None or not math.isfinite(v):
        return "-", math.inf
    return f"{v:.4f}", float(v)


def _state_item(t: TrialRecord) -> QStandardItem:
    """The state cell: its name, the reason in the tooltip, red/grey for diverged/failed."""
    it = _item(t.state.value, STATE_ORDER.index(t.state), t.id)
    if t.state is TrialState.FAILED:
        it.setToolTip(f"failed: {t.error}")
    elif t.state is TrialState.DIVERGED and t.diverged_step is not None:
        it.setToolTip(f"diverged at step {t.diverged_step}")
    elif t.state is TrialState.PRUNED:
        why = pruned_text(t.pruned_at) if t.pruned_at else f"stopped early, after {t.steps} steps"
        it.setToolTip(f"{why}: its results are partial")
    if t.state in STATE_COLORS:
        it.setForeground(QBrush(QColor(*STATE_COLORS[t.state])))
    return it


class _IdFilter(QSortFilterProxyModel):
    """Sorting, and a filter to a set of trial ids (None: every row)."""

    ids: set[int] | None = None

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 (Qt's name)
        if self.ids is None:
            return True
        return int(self.sourceModel().index(row, 0, parent).data(ID_ROLE)) in self.ids


class TrialTable(QTableView):
    """The trials, one row each; emits the trial id of a clicked or double-clicked row."""

    trial_selected = Signal(int)
    trial_activated = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.source = QStandardItemModel(0, 0, self)
        self.proxy = _IdFilter(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.params: list[str] = []
        self._sort = ("val_loss", Qt.SortOrder.AscendingOrder)  # by name: columns get inserted
        self._set_headers()
        self.horizontalHeader().sortIndicatorChanged.connect(self._sort_changed)
        self.clicked.connect(lambda i: self.trial_selected.emit(self._id_at(i)))
        self.doubleClicked.connect(lambda i: self.trial_activated.emit(self._id_at(i)))

    def _set_headers(self) -> None:
        names = [*LEAD, *self.params, *TAIL]
        self.source.setColumnCount(len(names))
        self.source.setHorizontalHeaderLabels(names)

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        names = [*LEAD, *self.params, *TAIL]
        if 0 <= column < len(names):
            self._sort = (names[column], order)

    def _apply_sort(self) -> None:
        """Sort again by the remembered column (inserting columns shifts its index)."""
        names = [*LEAD, *self.params, *TAIL]
        name, order = self._sort
        self.sortByColumn(names.index(name) if name in names else names.index("val_loss"), order)

    def _id_at(self, index) -> int:
        return int(self.proxy.data(index, ID_ROLE))

    def set_trials(self, trials: list[TrialRecord]) -> None:
        """Replace every row (a study was opened)."""
        self.source.removeRows(0, self.source.rowCount())
        self.params = list(dict.fromkeys(k for t in trials for k in t.params))
        self._set_headers()
        for t in trials:
            self.add_trial(t)
        self._apply_sort()

    def add_trial(self, t: TrialRecord) -> None:
        """Append one row, adding columns for parameters not seen before."""
        new = [k for k in t.params if k not in self.params]
        if new:
            at = len(LEAD) + len(self.params)
            self.params += new
            for i, _ in enumerate(new):
                self.source.insertColumn(at + i)
            self._set_headers()
            self._apply_sort()
        row = [_item(str(t.id), t.id, t.id), _item(str(t.round), t.round, t.id)]
        for k in self.params:
            v = t.params.get(k)
            if isinstance(v, float):
                row.append(_item(format_value(v), v, t.id))
            else:
                row.append(_item("" if v is None else str(v), str(v), t.id))
        has_result = t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        loss_text, loss_key = _metric(t.val_loss if has_result else None)
        acc_text, acc_key = _metric(t.val_acc if has_result else None)
        row.append(_item(loss_text, loss_key, t.id))
        row.append(_item(acc_text, acc_key if acc_key != math.inf else -1.0, t.id))
        row.append(_state_item(t))
        row.append(_item(f"{t.seconds:.2f}", float(t.seconds or 0.0), t.id))
        self.source.appendRow(row)

    def set_visible_ids(self, ids: set[int] | None) -> None:
        """Show only the rows of ``ids`` (the parallel view's brush); None: every row."""
        self.proxy.ids = ids
        self.proxy.invalidate()

    def row_count(self) -> int:
        return self.source.rowCount()

    def select_trial(self, trial_id: int | None) -> None:
        """Select (and scroll to) the row of ``trial_id``, without emitting trial_selected."""
        self.clearSelection()
        if trial_id is None:
            return
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if self._id_at(index) == trial_id:
                self.selectRow(r)
                self.scrollTo(index)
                return
