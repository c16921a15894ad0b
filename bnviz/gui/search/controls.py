"""The explorer's knobs: what to plot, how to sample, where to run, and the round's buttons.

Range fields use the CLI's space syntax (``1e-4:1:log``); :meth:`SweepControls.spaces`
parses them and raises :class:`SpaceError` with the message the user sees, before anything
starts.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bnviz.gui.fields import CheckedSpinBox
from bnviz.search.executors import worker_count
from bnviz.search.points import DEFAULT_RANGES, METRICS
from bnviz.search.spaces import SAMPLING_METHODS, Space, SpaceError, parse_space
from bnviz.train.params import MAX_EXPLORER_TRIALS, RUN_PARAMS

DEFAULT_TRIALS = 16
DEFAULT_EPOCHS = 10
DEFAULT_RECHECK = 5
# the registry's bounds, the flags' too (bnviz.train.params.RUN_PARAMS)
MAX_TRIALS = MAX_EXPLORER_TRIALS  # what its views can draw; the CLI takes RUN_PARAMS's
MAX_EPOCHS = int(RUN_PARAMS["epochs"].high or 1)
MAX_WORKERS = int(RUN_PARAMS["workers"].high or 1)
MAX_REPEATS = 20
HINT = (
    "Drag on the plot to draw a box around the good points, then 'Sample N in box'. "
    "Drag the box to move it, its corners to resize; middle-drag pans, wheel zooms. "
    "Click a point or row, then 'Babysit this one' (or double-click)."
)


class SweepControls(QWidget):
    """Form of the explorer; emits what the user asked for, holds no study state."""

    axes_changed = Signal()
    metric_changed = Signal()
    executor_changed = Signal()
    start_clicked = Signal()
    box_clicked = Signal()
    zoom_clicked = Signal()
    cancel_clicked = Signal()
    babysit_clicked = Signal()
    recheck_clicked = Signal()
    save_babysat_clicked = Signal()
    open_clicked = Signal()
    new_clicked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.ranges = dict(DEFAULT_RANGES)  # remembered per parameter across combo changes
        self.study_label = QLabel()
        self.study_label.setWordWrap(True)
        self.open_button = QPushButton("Open study...")
        self.new_button = QPushButton("New study...")
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        for combo, default in ((self.x_combo, "lr"), (self.y_combo, "beta")):
            combo.addItems(list(DEFAULT_RANGES))
            combo.setCurrentText(default)
        self.x_range, self.y_range = QLineEdit(), QLineEdit()
        self.metric_combo = QComboBox()
        for key, label in METRICS.items():
            self.metric_combo.addItem(label, key)
        self.trials = _spin("N trials", 1, MAX_TRIALS, DEFAULT_TRIALS)
        self.epochs = _spin("epochs / trial", 1, MAX_EPOCHS, DEFAULT_EPOCHS)
        self.repeats = _spin("seeds / config", 1, MAX_REPEATS, 1)
        self.repeats.setToolTip(
            "Train every sampled configuration with this many seeds (seed, seed + 1, ...): a "
            "point is then the group's mean, its hover the spread; N x this many trials"
        )
        self.prune = QCheckBox("halving")
        self.prune.setToolTip(
            "Compare the trials at E/9 and E/3 of their E epochs and stop the weaker two thirds "
            "at each: the caviar approach, cheaper (ring = pruned; its result is partial)"
        )
        self.hyperband = QCheckBox("Hyperband")
        self.hyperband.setToolTip(
            "Successive halving in brackets (Li et al. 2018): from many trials cut after one "
            "epoch to a few trained to the end uncut, so a slow starter is not always cut. The "
            "epochs set the trials (N is not used); 1 in 3 goes on at each rung"
        )
        self.method = QComboBox()
        self.method.addItems(list(SAMPLING_METHODS))
        self.workers = _spin("workers", 1, MAX_WORKERS, os.cpu_count() or 1)
        self.workers.setToolTip(
            "Trials run at once; never more than N trials (the rest would "
            "idle), and more than the cores here only share them."
        )
        self.workers_note = QLabel("")
        self.workers_note.setWordWrap(True)
        self.workers_note.setStyleSheet("color: #a05000; font-size: 11px;")
        self.idle_note = QLabel("")  # a plotted parameter this round's settings ignore
        self.idle_note.setWordWrap(True)
        self.idle_note.setStyleSheet("color: #a05000; font-size: 11px;")
        self.idle_note.hide()
        self.scheduler = QLineEdit()
        self.scheduler.setPlaceholderText("empty: local processes; tcp://host:8786 or 'local'")
        self.start_button = QPushButton("Start round")
        self.box_button = QPushButton("Sample N in box")
        self.zoom_button = QPushButton("Zoom to box")
        self.cancel_button = QPushButton("Cancel")
        self.babysit_button = QPushButton("Babysit this one")
        self.save_babysat_button = QPushButton("Save babysat run to study")
        self.save_babysat_button.setToolTip(
            "Store the live run (its settings now and its validation-loss curve) as a trial of "
            "kind 'babysat': the panda's result on the same scatter as the caviar trials"
        )
        self.recheck_k = _spin("K", 1, MAX_TRIALS, DEFAULT_RECHECK)
        for spin in (self.trials, self.epochs, self.repeats, self.workers, self.recheck_k):
            spin.refused.connect(lambda m: self.say(m, error=True))
        self.recheck_button = QPushButton("Re-check best K")
        self.recheck_button.setToolTip(
            "Re-run the study's best K trials with their values under today's settings (the "
            "Training tab's data, noise and seed; epochs as above) as a new round"
        )
        self.progress = QProgressBar()
        self.set_stored(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555; font-size: 11px;")
        self._layout()
        self._wire()
        self._show_ranges()
        self._note_workers()
        self.set_running(False)

    def _layout(self) -> None:
        study = QGroupBox("Study")
        g = QGridLayout(study)
        g.addWidget(self.study_label, 0, 0, 1, 2)
        g.addWidget(self.open_button, 1, 0)
        g.addWidget(self.new_button, 1, 1)
        search = QGroupBox("Search")
        f = QFormLayout(search)
        f.addRow("x", self.x_combo)
        f.addRow("x range", self.x_range)
        f.addRow("y", self.y_combo)
        f.addRow("y range", self.y_range)
        f.addRow(self.idle_note)
        f.addRow("colour by", self.metric_combo)
        f.addRow("N trials", self.trials)
        f.addRow("epochs / trial", self.epochs)
        f.addRow("seeds / config", self.repeats)
        pruning = QHBoxLayout()
        pruning.addWidget(self.prune)
        pruning.addWidget(self.hyperband)
        f.addRow("prune by", pruning)
        f.addRow("method", self.method)
        f.addRow("workers", self.workers)
        f.addRow("", self.workers_note)
        f.addRow("scheduler", self.scheduler)
        buttons = QGridLayout()
        buttons.addWidget(self.start_button, 0, 0)
        buttons.addWidget(self.cancel_button, 0, 1)
        buttons.addWidget(self.box_button, 1, 0)
        buttons.addWidget(self.zoom_button, 1, 1)
        buttons.addWidget(self.babysit_button, 2, 0, 1, 2)
        buttons.addWidget(self.save_babysat_button, 3, 0, 1, 2)
        buttons.addWidget(self.recheck_button, 4, 0)
        buttons.addWidget(self.recheck_k, 4, 1)
        v = QVBoxLayout(self)
        for w in (study, search):
            v.addWidget(w)
        v.addLayout(buttons)
        v.addWidget(self.progress)
        v.addWidget(self.status)
        v.addWidget(self.hint)
        v.addStretch(1)

    def _wire(self) -> None:
        for combo in (self.x_combo, self.y_combo):
            combo.currentTextChanged.connect(self._show_ranges)
            combo.currentTextChanged.connect(self.axes_changed)
        for combo, edit in ((self.x_combo, self.x_range), (self.y_combo, self.y_range)):
            edit.editingFinished.connect(
                lambda c=combo, e=edit: self.ranges.__setitem__(c.currentText(), e.text())
            )
        self.metric_combo.currentIndexChanged.connect(self.metric_changed)
        self.workers.editingFinished.connect(self.executor_changed)
        for spin in (self.workers, self.trials):
            spin.valueChanged.connect(self._note_workers)
        self.scheduler.textChanged.connect(self._note_workers)
        # one kind of pruning at a time
        self.prune.toggled.connect(lambda on: on and self.hyperband.setChecked(False))
        self.hyperband.toggled.connect(lambda on: on and self.prune.setChecked(False))
        self.hyperband.toggled.connect(lambda on: self.trials.setEnabled(not on))
        self.scheduler.editingFinished.connect(self.executor_changed)
        for button, signal in (
            (self.start_button, self.start_clicked), (self.box_button, self.box_clicked),
            (self.zoom_button, self.zoom_clicked), (self.cancel_button, self.cancel_clicked),
            (self.babysit_button, self.babysit_clicked), (self.open_button, self.open_clicked),
            (self.new_button, self.new_clicked), (self.recheck_button, self.recheck_clicked),
            (self.save_babysat_button, self.save_babysat_clicked),
        ):  # fmt: skip
            button.clicked.connect(signal)

    def _show_ranges(self) -> None:
        self.x_range.setText(self.ranges.get(self.x_combo.currentText(), ""))
        self.y_range.setText(self.ranges.get(self.y_combo.currentText(), ""))

    # -- reading -------------------------------------------------------------------------------
    def axis_names(self) -> tuple[str, str]:
        return self.x_combo.currentText(), self.y_combo.currentText()

    def metric_key(self) -> str:
        return self.metric_combo.currentData()

    def executor_key(self) -> tuple[int, str | None]:
        """(workers, scheduler): never more workers than trials, which would only idle, nor
        than a few per core (:func:`~bnviz.search.executors.worker_count`, as the CLI)."""
        workers = worker_count(self.workers.value(), self.trials.value())
        return workers, self.scheduler.text().strip() or None

    def _note_workers(self, *_) -> None:
        """Say when the workers are capped at N trials, or outnumber the cores they run on."""
        workers, scheduler = self.executor_key()
        cores = os.cpu_count() or 1
        notes = []
        if workers < self.workers.value():
            why = "one per trial" if workers == self.trials.value() else f"{cores} cores here"
            notes.append(f"{workers} at most: {why}")
        if scheduler in (None, "local") and workers > cores:
            notes.append(f"more than the {cores} cores here: trials share them, each slower "
                         "and none sooner")  # fmt: skip
        self.workers_note.setText("; ".join(notes))
        self.workers_note.setVisible(bool(notes))

    def spaces(self) -> list[Space]:
        """The two plotted parameters' spaces from the range fields.

        Raises
        ------
        SpaceError
            Unparseable text, an impossible range, or x and y naming the same parameter.
        """
        (x, y), texts = self.axis_names(), (self.x_range.text(), self.y_range.text())
        if x == y:
            raise SpaceError(f"x and y are both {x}: pick two different parameters")
        spaces = [parse_space(name, text) for name, text in zip((x, y), texts)]
        for name, text in zip((x, y), texts):
            self.ranges[name] = text
        return spaces

    def field_spaces(self) -> tuple[Space | None, Space | None]:
        """The plotted parameters' spaces as typed, None where the text does not parse."""
        found = []
        for name, edit in zip(self.axis_names(), (self.x_range, self.y_range)):
            try:
                found.append(parse_space(name, edit.text()))
            except SpaceError:
                found.append(None)
        return found[0], found[1]

    # -- writing -------------------------------------------------------------------------------
    def set_range(self, space: Space) -> None:
        """Show a (narrowed) space in its field: the next round starts from there."""
        self.ranges[space.name] = short_text(space)
        self._show_ranges()

    def set_running(self, running: bool) -> None:
        for w in (self.start_button, self.box_button, self.open_button, self.new_button,
                  self.recheck_button, self.save_babysat_button):  # fmt: skip
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def set_idle_note(self, text: str) -> None:
        self.idle_note.setText(text)
        self.idle_note.setVisible(bool(text))

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setFormat("%v / %m trials")
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def set_stored(self, n: int) -> None:
        """No round running: the bar says what the study holds, not "0 / 1 trials"."""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(f"{n} trial{'' if n == 1 else 's'} in the study" if n
                                else "no trials yet")  # fmt: skip

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00000;" if error else "color: #222;")
        self.status.setText(text)


def short_text(space: Space) -> str:
    """``space.to_text()`` with the fewest digits that keep it valid and within 0.1% (in axis
    units) of the real bounds: a narrowed range reads 0.9968:0.9999:1m, not 17 digits."""
    if space.kind not in ("log", "1m", "linear"):
        return space.to_text()
    lo, hi = space.axis_range
    for digits in range(3, 17):
        text = f"{space.low:.{digits}g}:{space.high:.{digits}g}:{space.kind}"
        try:
            a, b = parse_space(space.name, text).axis_range
        except SpaceError:
            continue
        if max(abs(a - lo), abs(b - hi)) <= 1e-3 * (hi - lo):
            return text
    return space.to_text()


def _spin(label: str, lo: int, hi: int, value: int) -> CheckedSpinBox:
    s = CheckedSpinBox(label, lo, hi)
    s.setValue(value)
    return s
