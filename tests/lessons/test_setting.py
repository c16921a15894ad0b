"""What counts as "another setting" for a lesson: settings that do something in its preset, not
the seed, not those idle there, not those the lesson's experiment varies itself."""

from __future__ import annotations

from dataclasses import replace

from bnviz.lessons.catalog import LESSONS
from bnviz.lessons.setting import setting_differences, view_preset
from bnviz.train.config import TrainConfig

LESSON = replace(TrainConfig(), dataset="digits", hidden=(100, 100, 100), compare=True, lr=0.1)


def names(current: TrainConfig, ignore: tuple[str, ...] = ()) -> list[str]:
    return [d.name for d in setting_differences(LESSON, current, ignore)]


def test_the_same_setting_on_another_seed_is_the_lesson_s():
    assert names(replace(LESSON, seed=11)) == []


def test_settings_idle_in_the_lesson_do_not_count():
    # digits has no 2-D noise or sample count; plain SGD no momentum; no Adam, no beta2
    idle = replace(LESSON, noise=0.7, n_samples=50, momentum=0.5, beta2=0.9)
    assert names(idle) == []


def test_each_setting_that_matters_is_named_with_both_values():
    current = replace(LESSON, dataset="spirals", lr=0.5, batchnorm=False)
    diffs = setting_differences(LESSON, current)
    assert [d.name for d in diffs] == ["dataset", "batchnorm", "lr"]  # the Controls dock's order
    assert diffs[-1].describe() == "learning rate 0.5 (lesson: 0.1)"
    assert diffs[1].describe() == "batch norm off (lesson: on)"


def test_a_lesson_ignores_what_its_experiment_varies():
    current = replace(LESSON, batch_size=8, batchnorm=False)
    assert names(current, ignore=("batch_size", "batchnorm")) == []


def test_twin_settings_count_only_when_the_lesson_compares():
    single = replace(LESSON, compare=False)
    twin = replace(single, compare_setting="lr", compare_value="0.01")
    assert setting_differences(single, twin) == ()
    # comparing BN vs plain: the twin's value is not used, the compared setting is
    assert [d.name for d in setting_differences(LESSON, replace(LESSON, compare_value="3"))] == []
    assert names(replace(LESSON, compare_setting="lr")) == ["compare_setting"]


def test_every_lesson_view_opens_on_its_own_preset():
    """The catalog's preset of a lesson is the preset that opens that lesson's view."""
    for info in LESSONS:
        preset = view_preset(info.name)
        if info.preset is None:
            assert preset is None
        else:
            assert preset is not None and preset.lesson is not None
            assert preset.lesson.view == info.name
    assert view_preset("no-such-view") is None
