"""The control panel is generated from the parameter registry: its ranges and choices are the
registry's, and a setting that does nothing in the current configuration is greyed out."""

from __future__ import annotations

import pytest

from bnviz.gui.controls import ControlPanel
from bnviz.train.config import BN_BATCH_OF_ONE, MAX_HIDDEN_UNITS, PARAMS, TrainConfig


@pytest.fixture
def panel(qtbot):
    def make(config: TrainConfig) -> ControlPanel:
        p = ControlPanel(config)
        qtbot.addWidget(p)
        return p

    return make


def test_choices_and_ranges_are_the_registrys(panel):
    p = panel(TrainConfig())
    acts = [p.activation.itemText(i) for i in range(p.activation.count())]
    opts = [p.optimizer.itemText(i) for i in range(p.optimizer.count())]
    assert acts == list(PARAMS["activation"].choices)
    assert opts == list(PARAMS["optimizer"].choices)
    assert (p.classes.minimum(), p.classes.maximum()) == (2, 10)
    assert p.width.maximum() == MAX_HIDDEN_UNITS and p.batch.minimum() == 1
    p.set_config(TrainConfig(hidden=(2000, 2000)))
    assert p.width.value() == 2000  # once capped at 1024 while settings allowed 4096


def test_typed_values_are_checked_by_the_registry(panel, qtbot):
    p = panel(TrainConfig())
    with qtbot.waitSignal(p.invalid_input) as said:
        p.eps.setText("0")
        p.eps.editingFinished.emit()
    assert said.args[0] == str(_error("eps", "0"))


def _error(name: str, text: str) -> Exception:
    try:
        PARAMS[name].parse(text)
    except ValueError as e:
        return e
    raise AssertionError("expected a refusal")


def test_momentum_is_off_for_plain_sgd_and_back_for_adam(panel):
    p = panel(TrainConfig(optimizer="sgd"))
    assert not p.momentum.isEnabled()
    assert "does nothing with optimizer sgd" in p.momentum.toolTip()
    p.optimizer.setCurrentText("adam")
    assert p.momentum.isEnabled() and "does nothing" not in p.momentum.toolTip()


def test_bn_knobs_follow_batch_norm_and_compare(panel):
    p = panel(TrainConfig(batchnorm=True))
    assert p.bn_momentum.isEnabled() and p.eps.isEnabled()
    p.bn.setChecked(False)
    assert not p.bn_momentum.isEnabled() and not p.eps.isEnabled()
    p.compare.setChecked(True)  # the BN twin uses them
    assert p.bn_momentum.isEnabled() and p.eps.isEnabled()


def test_classes_and_noise_are_off_for_the_digits(panel):
    p = panel(TrainConfig(dataset="digits"))
    assert not p.classes.isEnabled() and not p.noise.isEnabled()
    p.set_config(TrainConfig(dataset="spirals"))
    assert p.classes.isEnabled() and p.noise.isEnabled()
    p.set_config(TrainConfig(dataset="/data/mine.csv"))  # a file's classes are its labels
    assert not p.classes.isEnabled() and not p.noise.isEnabled()


def test_uneven_hidden_widths_are_shown_and_train_as_shown(panel, qtbot):
    """Defect 6: a settings file with hidden [2000, 16] showed Width 1024 and trained 2000."""
    p = panel(TrainConfig(hidden=(2000, 16)))
    assert p.widths.text() == "2000, 16" and p.layers.value() == 2
    assert not p.width.isEnabled()  # one number cannot say two widths
    assert p.config().hidden == (2000, 16)
    with qtbot.waitSignal(p.reset_requested) as got:
        p.widths.setText("4096, 8, 3")
        p.widths.editingFinished.emit()
    assert got.args[0].hidden == (4096, 8, 3) and p.layers.value() == 3
    with qtbot.waitSignal(p.reset_requested) as got:
        p.layers.setValue(4)  # a layer more repeats the last width
    assert got.args[0].hidden == (4096, 8, 3, 3) and p.widths.text() == "4096, 8, 3, 3"
    with qtbot.waitSignal(p.reset_requested) as got:
        p.layers.setValue(1)
    assert got.args[0].hidden == (4096,) and p.width.isEnabled() and p.width.value() == 4096
    p.width.setValue(64)
    with qtbot.waitSignal(p.reset_requested) as got:
        p.layers.setValue(2)
    assert got.args[0].hidden == (64, 64) and p.widths.text() == "64, 64"


@pytest.mark.parametrize(
    ("text", "said"),
    [("2000, 5000", "hidden widths must be 1..4096, got 2000,5000"), ("64,x", "64,64")],
)
def test_a_bad_widths_text_is_refused(panel, qtbot, text, said):
    p = panel(TrainConfig(hidden=(2000, 16)))
    with qtbot.waitSignal(p.invalid_input) as got:
        p.widths.setText(text)
        p.widths.editingFinished.emit()
    assert said in got.args[0]
    assert p.widths.text() == "2000, 16" and p.config().hidden == (2000, 16)


def test_batch_of_one_is_plain_sgd_only(panel, qtbot):
    """Defect 10: batch 1 is refused with BN on (variance 0 over one example), taken with it
    off, and BN cannot then be switched on under it."""
    p = panel(TrainConfig(batchnorm=False))
    with qtbot.waitSignal(p.hparams_changed) as got:
        type_into(qtbot, p.batch, "1")
    assert got.args[0] == {"batch_size": 1} and p.config().batch_size == 1
    with qtbot.waitSignal(p.invalid_input) as said:
        p.bn.setChecked(True)
    assert said.args[0] == BN_BATCH_OF_ONE and "variance" in said.args[0]
    assert not p.bn.isChecked() and not p.config().batchnorm


def type_into(qtbot, spin, text: str) -> None:
    """Select the box's text, type ``text`` and press Return, as a person would."""
    from PySide6.QtCore import Qt

    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    assert spin.lineEdit().text().startswith(text)  # the keys were not dropped on the way
    qtbot.keyClick(spin.lineEdit(), Qt.Key_Return)


@pytest.mark.parametrize(
    ("box", "text", "said"),
    [
        ("width", "100000", "width must be 1..4096 here, got 100000; kept 32"),
        ("batch", "1", f"{BN_BATCH_OF_ONE}; kept 32"),
        ("batch", "0", "batch size must be >= 1, got 0; kept 32"),
        ("seed", "99999999999999", "seed must be 0..4294967295, got 99999999999999; kept 0"),
        ("seed", "-5", "seed must be 0..4294967295, got -5; kept 0"),
        ("seed", "3000000000", "seed must be 0..2147483647 here, got 3000000000; kept 0"),
    ],
)
def test_a_spin_box_says_why_it_refuses_instead_of_clamping(panel, qtbot, box, text, said):
    p = panel(TrainConfig())
    before = p.config()
    with qtbot.waitSignal(p.invalid_input) as got:
        type_into(qtbot, getattr(p, box), text)
    assert got.args[0] == said
    assert p.config() == before and getattr(p, box).text() == str(getattr(p, box).value())
    with qtbot.waitSignal(p.reset_requested if box != "batch" else p.hparams_changed):
        type_into(qtbot, getattr(p, box), "64")  # a valid value is taken as typed
    assert getattr(p, box).value() == 64


def test_explorer_boxes_say_why_they_refuse(qtbot):
    from bnviz.gui.search.controls import SweepControls

    c = SweepControls()
    qtbot.addWidget(c)
    type_into(qtbot, c.workers, "0")
    assert c.status.text() == f"workers must be 1..65536 here, got 0; kept {c.workers.value()}"
    type_into(qtbot, c.epochs, "3000")
    assert c.epochs.value() == 3000  # valid: taken as typed
