"""The control panel: every knob of a run, with tooltips in the course's terms.

Changes that alter the network or the data (data set, depth, width, activation, optimizer,
compare mode, seed) ask for a reset; changes a running model can absorb (learning rate, momentum,
mini-batch size, BN momentum and eps) go to the live trainer, as when babysitting one model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bnviz.data import BUILTIN_DATASETS
from bnviz.gui.fields import CheckedSpinBox, LogSlider, ValidatedField, fmt_float
from bnviz.gui.keyboard import make_keyboard_friendly
from bnviz.train.config import (
    BN_BATCH_OF_ONE,
    COMPARABLE,
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_UNITS,
    PARAMS,
    ConfigError,
    TrainConfig,
    check_hidden,
    idle_settings,
    parse_hidden,
    uses_batchnorm,
)
from bnviz.train.stopping import DEFAULT_MAX_EPOCHS, DEFAULT_PATIENCE, StopRule
from bnviz.train.twins import default_twin

OPEN_FILE = "Open file..."
SPEEDS = (1, 3, 10, 20, 50, 100, 300, 1000, 0)  # max steps/s; 0 = as fast as possible
# 20 steps/s: the default network learns in about 15 s with BN, so the eye can follow it.
DEFAULT_SPEED = 20
LR_SLIDER_LOW = 1e-5  # the slider's left end; the field takes any valid rate
QT_INT_MAX = 2**31 - 1  # a QSpinBox holds a C int

TIPS = {
    "dataset": "The data: 2-D sets show decision regions; digits are 8x8 images (64 inputs).",
    "classes": "C, the number of classes: the softmax layer has C units.",
    "noise": "How much the 2-D points are scattered (0 = clean shapes).",
    "layers": "Number of hidden layers (0 = softmax regression: linear decision boundaries).",
    "width": "Hidden units of every layer (sets all of them; Widths sets each).",
    "widths": "The width of each hidden layer, first to last, e.g. 2000, 16\n"
    f"(1..{MAX_HIDDEN_UNITS} units, at most {MAX_HIDDEN_LAYERS} layers; none: no hidden layer).",
    "activation": "g in a = g(z~): relu (He init), tanh or sigmoid (Xavier init), linear.",
    "bn": "Batch norm on every hidden layer: z_norm = (z - mu)/sqrt(sigma^2 + eps),\n"
    "z~ = gamma*z_norm + beta. Flipping it on a live run keeps the output unchanged\n"
    "(gamma = sqrt(sigma^2+eps), beta = mu + b). Key: B",
    "compare": "Train two networks side by side that differ in one setting (BN by default):\n"
    "the same initial W and the same mini-batches, so any difference is that setting's doing.",
    "compare_setting": "The one setting the twins differ in. Live changes reach both networks,\n"
    "except a change to this setting, which reaches the first only.",
    "compare_value": "The second network's value of the compared setting (empty: the default\n"
    "shown greyed). The first network takes the value set in the controls.",
    "optimizer": "sgd: W -= alpha dW; momentum: v = beta v + (1-beta) dW, W -= alpha v;\n"
    "rmsprop: divides by sqrt of an average of dW^2; adam: both, with bias correction.",
    "lr": "Learning rate alpha, on a log scale (the hyperparameter that matters most).",
    "momentum": "Momentum beta (beta1 for Adam): averages over about 1/(1-beta) steps.",
    "batch": "Mini-batch size m: smaller batches give noisier batch statistics\n"
    "(BN's slight regularization effect).",
    "bn_momentum": "Running estimates for test time: running = k*running + (1-k)*batch stat.",
    "eps": "eps in sqrt(sigma^2 + eps): keeps the division safe when a variance is ~0.",
    "seed": "Seed of the initial weights, the data and the order of mini-batches.",
    "speed": "At most this many training steps per second (max = as fast as it goes).",
    "max_epochs": "Pause once this many epochs (passes over the training set) are trained.",
    "patience": "Pause once the validation loss has not improved for this many evaluations\n"
    "(about 4 a second while training): the run has plateaued.",
}


class ControlPanel(QWidget):
    """Emits what the user asked for; the main window decides what to do with it."""

    reset_requested = Signal(object)  # TrainConfig
    hparams_changed = Signal(dict)
    batchnorm_toggled = Signal(bool)
    invalid_input = Signal(str)
    open_file_requested = Signal()
    play_clicked = Signal()
    step_clicked = Signal()
    reset_clicked = Signal()
    speed_changed = Signal(object)  # float | None
    stop_rule_changed = Signal(object)  # StopRule

    # The Width spin box. It shadows QWidget.width() on purpose: classroom mode and lesson files
    # name controls by these attributes ("width"); QWidget.width(panel) gives the pixels.
    width: QSpinBox  # type: ignore[assignment]

    def __init__(self, config: TrainConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config
        self._loading = False
        lay = QVBoxLayout(self)
        lay.addWidget(self._run_box())
        lay.addWidget(self._data_box())
        lay.addWidget(self._net_box())
        lay.addWidget(self._opt_box())
        lay.addStretch(1)
        self.set_config(config)
        make_keyboard_friendly(self)  # accessible names, Tab in the order laid out

    # -- layout ------------------------------------------------------------------------------
    def _run_box(self) -> QGroupBox:
        box = QGroupBox("Run")
        row = QHBoxLayout()
        self.play_button = QPushButton("Pause")
        self.play_button.setToolTip("Start or pause training (Space)")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Train on one mini-batch (N)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Start again from fresh weights with these settings (R)")
        for b in (self.play_button, self.step_button, self.reset_button):
            row.addWidget(b)
        self.play_button.clicked.connect(self.play_clicked)
        self.step_button.clicked.connect(self.step_clicked)
        self.reset_button.clicked.connect(self.reset_clicked)
        self.speed = QSlider()
        self.speed.setOrientation(self.speed.orientation().Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(SPEEDS.index(DEFAULT_SPEED))
        self._speed_tip()
        self.speed.valueChanged.connect(self._speed_moved)
        self.max_epochs = self._spin(0, 1_000_000, "max_epochs", "stop after epochs")
        self.max_epochs.setValue(DEFAULT_MAX_EPOCHS)
        self.max_epochs.setSpecialValueText("never")
        self.patience = self._spin(0, 100_000, "patience", "pause at plateau")
        self.patience.setValue(DEFAULT_PATIENCE)
        self.patience.setSpecialValueText("off")
        self.patience.setSuffix(" evaluations")
        for spin in (self.max_epochs, self.patience):
            spin.valueChanged.connect(self._stop_rule_changed)
        form = QFormLayout(box)
        form.addRow(row)
        form.addRow("Speed", self.speed)
        form.addRow("Stop after epochs", self.max_epochs)
        form.addRow("Pause at plateau", self.patience)
        return box

    def stop_rule(self) -> StopRule:
        """When a run left alone pauses (0 turns either part off)."""
        return StopRule(self.max_epochs.value(), self.patience.value())

    def _stop_rule_changed(self, *_: object) -> None:
        self.stop_rule_changed.emit(self.stop_rule())

    def max_speed(self) -> float | None:
        """The speed the slider shows: max steps/s, None for as fast as it goes."""
        v = SPEEDS[self.speed.value()]
        return float(v) if v else None

    def _data_box(self) -> QGroupBox:
        box = QGroupBox("Data")
        form = QFormLayout(box)
        self.dataset = QComboBox()
        self.dataset.addItems([*BUILTIN_DATASETS, OPEN_FILE])
        self.classes = self._param_spin("n_classes", "classes")
        self.noise = self._field("noise")
        self._tip(self.dataset, "dataset")
        self._tip(self.noise, "noise")
        form.addRow("Data set", self.dataset)
        form.addRow("Classes", self.classes)
        form.addRow("Noise", self.noise)
        self.dataset.activated.connect(self._dataset_picked)
        self.classes.valueChanged.connect(self._structure)
        self.noise.value_changed.connect(self._structure)
        self.noise.invalid.connect(self.invalid_input)
        return box

    def _net_box(self) -> QGroupBox:
        box = QGroupBox("Network")
        form = QFormLayout(box)
        self.layers = self._spin(0, MAX_HIDDEN_LAYERS, "layers", "hidden layers")
        self.width = self._spin(1, MAX_HIDDEN_UNITS, "width", "width")
        self.widths = ValidatedField((), _parse_widths, _fmt_widths)
        self._tip(self.widths, "widths")
        self.activation = QComboBox()
        self.activation.addItems(list(PARAMS["activation"].choices))
        self._tip(self.activation, "activation")
        self.bn = QCheckBox("Batch norm")
        self._tip(self.bn, "bn")
        self.compare = QCheckBox("Compare twins")
        self._tip(self.compare, "compare")
        self.compare_setting = QComboBox()
        for name in COMPARABLE:
            self.compare_setting.addItem(PARAMS[name].label, name)
        self._tip(self.compare_setting, "compare_setting")
        self.compare_value = ValidatedField("", self._parse_twin)
        self._tip(self.compare_value, "compare_value")
        self.bn_momentum = self._field("bn_momentum")
        self.eps = self._field("eps")
        self._tip(self.bn_momentum, "bn_momentum")
        self._tip(self.eps, "eps")
        for label, w in [
            ("Hidden layers", self.layers),
            ("Width", self.width),
            ("Widths", self.widths),
            ("Activation", self.activation),
            ("", self.bn),
            ("", self.compare),
            ("Compare", self.compare_setting),
            ("Twin's value", self.compare_value),
            ("BN momentum", self.bn_momentum),
            ("BN eps", self.eps),
        ]:
            form.addRow(label, w)
        self.layers.valueChanged.connect(self._layers_changed)
        self.width.valueChanged.connect(self._width_changed)
        self.widths.value_changed.connect(self._widths_changed)
        self.widths.invalid.connect(self.invalid_input)
        self.activation.currentIndexChanged.connect(self._structure)
        self.compare.toggled.connect(self._compare_toggled)
        self.compare_setting.currentIndexChanged.connect(self._compare_setting_changed)
        self.compare_value.value_changed.connect(self._structure)
        self.compare_value.invalid.connect(self.invalid_input)
        self.bn.toggled.connect(self._bn_toggled)
        for f, key in ((self.bn_momentum, "bn_momentum"), (self.eps, "eps")):
            f.value_changed.connect(lambda v, k=key: self._live({k: v}))
            f.invalid.connect(self.invalid_input)
        return box

    def _opt_box(self) -> QGroupBox:
        box = QGroupBox("Optimization")
        form = QFormLayout(box)
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(PARAMS["optimizer"].choices))
        self._tip(self.optimizer, "optimizer")
        self.lr_field = self._field("lr")
        lr = PARAMS["lr"]
        assert lr.top is not None  # the registry bounds the learning rate
        self.lr = LogSlider(lr.default, LR_SLIDER_LOW, lr.top, self.lr_field)
        self._tip(self.lr, "lr")
        self._tip(self.lr_field, "lr")
        self.momentum = self._field("momentum")
        self._tip(self.momentum, "momentum")
        self.batch = self._param_spin("batch_size", "batch", self._check_batch)
        self.seed = self._param_spin("seed", "seed")
        for label, w in [
            ("Optimizer", self.optimizer),
            ("Learning rate", self.lr),
            ("Momentum beta", self.momentum),
            ("Mini-batch", self.batch),
            ("Seed", self.seed),
        ]:
            form.addRow(label, w)
        self.optimizer.currentIndexChanged.connect(self._structure)
        self.seed.valueChanged.connect(self._structure)
        self.lr.value_changed.connect(lambda v: self._live({"lr": v}))
        self.lr_field.invalid.connect(self.invalid_input)
        self.momentum.value_changed.connect(lambda v: self._live({"momentum": v}))
        self.momentum.invalid.connect(self.invalid_input)
        self.batch.valueChanged.connect(lambda v: self._live({"batch_size": v}))
        return box

    @staticmethod
    def _field(name: str) -> ValidatedField:
        """A text field for a registry parameter: its default, its own parse and range."""
        p = PARAMS[name]
        return ValidatedField(p.default, p.parse, fmt_float)

    def _param_spin(
        self, name: str, tip: str, check: Callable[[int], object] | None = None
    ) -> QSpinBox:
        """A spin box over a registry parameter's range (its soft top where it has none); a
        value out of range is refused with the parameter's own message (or ``check``'s)."""
        p = PARAMS[name]
        low = int(p.low or 0) + (1 if p.low_open else 0)
        top = int(min(p.top or QT_INT_MAX, QT_INT_MAX))
        return self._spin(low, top, tip, p.label, check or p.check)

    def _spin(
        self, lo: int, hi: int, tip: str, label: str, check: Callable[[int], object] | None = None
    ) -> QSpinBox:
        s = CheckedSpinBox(label, lo, hi, check)
        s.setKeyboardTracking(False)  # typing "128" must not reset at "1" and "12"
        s.refused.connect(self.invalid_input)
        self._tip(s, tip)
        return s

    @staticmethod
    def _tip(w: QWidget, key: str) -> None:
        w.setToolTip(TIPS[key])

    # -- state -------------------------------------------------------------------------------
    def config(self) -> TrainConfig:
        """The settings the widgets show now."""
        return self._config

    def set_config(self, c: TrainConfig) -> None:
        """Show ``c`` without emitting anything (after a reset or "Open settings...")."""
        self._loading = True
        try:
            self._config = c
            if self.dataset.findText(c.dataset) < 0:
                self.dataset.insertItem(self.dataset.count() - 1, c.dataset)
            self.dataset.setCurrentText(c.dataset)
            self.classes.setValue(c.n_classes)
            self.noise.set_value(c.noise)
            self._show_hidden(c.hidden)
            self.activation.setCurrentText(c.activation)
            self.bn.setChecked(c.batchnorm)
            self.compare.setChecked(c.compare)
            self.compare_setting.setCurrentIndex(COMPARABLE.index(c.compare_setting))
            self.compare_value.set_value(c.compare_value)
            self._enable_bn()
            self.bn_momentum.set_value(c.bn_momentum)
            self.eps.set_value(c.eps)
            self.optimizer.setCurrentText(c.optimizer)
            self.lr.set_value(c.lr)
            self.momentum.set_value(c.momentum)
            self.batch.setValue(c.batch_size)
            self.seed.setValue(c.seed)
        finally:
            self._loading = False
        self._show_idle()

    def _show_idle(self) -> None:
        """Grey out the settings that do nothing now (momentum beta with plain SGD, noise for
        the digits...), the reason in the tooltip; they come back when they matter again."""
        idle = idle_settings(self._config)
        widgets = {
            "n_classes": (self.classes, "classes"),
            "noise": (self.noise, "noise"),
            "momentum": (self.momentum, "momentum"),
            "bn_momentum": (self.bn_momentum, "bn_momentum"),
            "eps": (self.eps, "eps"),
        }
        for name, (widget, tip) in widgets.items():
            widget.setEnabled(name not in idle)
            widget.setToolTip(TIPS[tip] + (f"\n\nNow off: {idle[name]}." if name in idle else ""))

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")

    def _from_widgets(self) -> TrainConfig:
        ds = self.dataset.currentText()
        return replace(
            self._config,
            dataset=ds if ds != OPEN_FILE else self._config.dataset,
            n_classes=self.classes.value(),
            noise=self.noise.value(),
            hidden=self.widths.value(),
            activation=self.activation.currentText(),
            batchnorm=self.bn.isChecked(),
            compare=self.compare.isChecked(),
            compare_setting=self.compare_setting.currentData(),
            compare_value=self.compare_value.value(),
            optimizer=self.optimizer.currentText(),
            lr=self.lr_field.value(),
            momentum=self.momentum.value(),
            batch_size=self.batch.value(),
            bn_momentum=self.bn_momentum.value(),
            eps=self.eps.value(),
            seed=self.seed.value(),
        )

    # -- reactions ---------------------------------------------------------------------------
    def _structure(self, *_: object) -> None:
        if not self._loading:
            self._config = self._from_widgets()
            self._show_idle()
            self.reset_requested.emit(self._config)

    def _live(self, changes: dict) -> None:
        if not self._loading:
            self._config = replace(self._config, **changes)
            self._twin_hint()
            self.hparams_changed.emit(changes)

    def _bn_toggled(self, on: bool) -> None:
        if not self._loading:
            if on and self.batch.value() < 2:  # refused, not silently trained on beta alone
                self._loading = True
                self.bn.setChecked(False)
                self._loading = False
                self.invalid_input.emit(BN_BATCH_OF_ONE)
                return
            self._config = replace(self._config, batchnorm=on)
            self._show_idle()
            self.batchnorm_toggled.emit(on)

    def _show_hidden(self, hidden: tuple[int, ...]) -> None:
        """Layers, Width and Widths showing ``hidden``; Width is greyed while the layers
        differ (it would say one number for several)."""
        loading, self._loading = self._loading, True
        try:
            self.widths.set_value(tuple(hidden))
            self.layers.setValue(len(hidden))
            if hidden:
                self.width.setValue(hidden[0])
            uniform = len(set(hidden)) <= 1
            self.width.setEnabled(uniform and bool(hidden))
            self.width.setToolTip(
                TIPS["width"] + ("" if uniform else "\n\nNow off: the layers differ; see Widths.")
            )
        finally:
            self._loading = loading
        self._enable_bn()

    def _layers_changed(self, n: int) -> None:
        """More layers repeat the last width (or Width's), fewer drop the last ones."""
        if self._loading:
            return
        old = self.widths.value()
        last = old[-1] if old else self.width.value()
        self._show_hidden(tuple(old[:n]) + (last,) * max(0, n - len(old)))
        self._structure()

    def _width_changed(self, w: int) -> None:
        if not self._loading:
            self._show_hidden((w,) * self.layers.value())
            self._structure()

    def _widths_changed(self, hidden: tuple[int, ...]) -> None:
        if not self._loading:
            self._show_hidden(hidden)
            self._structure()

    def _check_batch(self, value: int) -> int:
        """The registry's check, and batch norm's need for 2 examples (BN_BATCH_OF_ONE)."""
        value = PARAMS["batch_size"].check(value)
        if value < 2 and uses_batchnorm(self._config):
            raise ConfigError(BN_BATCH_OF_ONE)
        return value

    def _compare_toggled(self, on: bool) -> None:
        self._enable_bn()
        self._structure()

    def _enable_bn(self) -> None:
        """BN can be flipped on a network that has a hidden layer to normalize, unless the
        twins differ in BN (or in BN momentum, which needs it on)."""
        setting = self.compare_setting.currentData()
        comparing = self.compare.isChecked()
        fixed = comparing and setting in ("batchnorm", "bn_momentum")
        self.bn.setEnabled(not fixed and self.layers.value() > 0)
        self.compare_setting.setEnabled(comparing)
        self.compare_value.setEnabled(comparing and setting != "batchnorm")
        self._twin_hint()

    def _twin_hint(self) -> None:
        """The default twin value, greyed in the empty field."""
        setting = self.compare_setting.currentData()
        hint = ""
        if setting != "batchnorm":
            value = default_twin(self._config, setting)
            hint = f"default: {value:g}" if isinstance(value, float) else f"default: {value}"
        self.compare_value.setPlaceholderText(hint)

    def _parse_twin(self, text: str) -> str:
        """The twin's value as typed, if the twins it makes can differ (else ConfigError)."""
        from bnviz.train.twins import twin_configs

        c = replace(self._from_widgets(), compare=True, compare_value=text.strip())
        try:
            twin_configs(c)
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return text.strip()

    def _compare_setting_changed(self, *_: object) -> None:
        if not self._loading:
            self.compare_value.set_value("")  # a learning rate is no optimizer
        self._enable_bn()
        self._structure()

    def _dataset_picked(self, index: int) -> None:
        if self.dataset.itemText(index) == OPEN_FILE:
            self.dataset.setCurrentText(self._config.dataset)
            self.open_file_requested.emit()
        else:
            self._structure()

    def _speed_moved(self, pos: int) -> None:
        self._speed_tip()
        self.speed_changed.emit(self.max_speed())

    def _speed_tip(self) -> None:
        v = SPEEDS[self.speed.value()]
        self.speed.setToolTip(f"{TIPS['speed']}\nnow: {v or 'max'} steps/s")

    def toggle_bn(self) -> None:
        """The B key: flip BN on a single network (compare mode shows both already)."""
        if self.bn.isEnabled():
            self.bn.setChecked(not self.bn.isChecked())


def _parse_widths(text: str) -> tuple[int, ...]:
    """``"2000, 16"`` -> ``(2000, 16)``, checked as a settings file's ``hidden`` is."""
    return check_hidden(parse_hidden(text.replace(" ", "")))


def _fmt_widths(hidden: tuple[int, ...]) -> str:
    return ", ".join(map(str, hidden)) if hidden else "none"
