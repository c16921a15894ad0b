"""The "Compare" controls: which setting the twins differ in, and the twin's value."""

from __future__ import annotations

from bnviz.gui.controls import ControlPanel
from bnviz.train.config import COMPARABLE, TrainConfig


def _panel(qtbot, config: TrainConfig) -> ControlPanel:
    p = ControlPanel(config)
    qtbot.addWidget(p)
    return p


def test_picking_a_setting_and_a_value_asks_for_twins(qtbot):
    p = _panel(qtbot, TrainConfig(compare=True))
    assert [p.compare_setting.itemData(i) for i in range(p.compare_setting.count())] == list(
        COMPARABLE
    )
    assert not p.compare_value.isEnabled() and not p.bn.isEnabled()  # BN vs plain: no value
    with qtbot.waitSignal(p.reset_requested) as asked:
        p.compare_setting.setCurrentIndex(COMPARABLE.index("lr"))
    assert asked.args[0].compare_setting == "lr" and asked.args[0].compare_value == ""
    assert p.compare_value.isEnabled() and p.bn.isEnabled()  # B flips BN on both twins
    assert p.compare_value.placeholderText() == "default: 0.05"
    with qtbot.waitSignal(p.reset_requested) as asked:
        p.compare_value.setText("0.1")
        p.compare_value.editingFinished.emit()
    assert asked.args[0].compare_value == "0.1"


def test_a_twin_that_cannot_differ_is_refused_where_typed(qtbot):
    p = _panel(qtbot, TrainConfig(compare=True, compare_setting="lr"))
    with qtbot.waitSignal(p.invalid_input) as said:
        p.compare_value.setText("0.5")  # the first network's rate
        p.compare_value.editingFinished.emit()
    assert "for both" in said.args[0]
    assert p.compare_value.value() == ""


def test_compare_controls_are_off_without_compare(qtbot):
    p = _panel(qtbot, TrainConfig())
    assert not p.compare_setting.isEnabled() and not p.compare_value.isEnabled()
    p.set_config(TrainConfig(compare=True, compare_setting="optimizer", compare_value="adam"))
    assert p.compare_setting.currentData() == "optimizer" and p.compare_value.text() == "adam"
