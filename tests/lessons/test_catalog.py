"""The lesson catalog: unique slugs, presets that exist and name the lesson's view."""

from __future__ import annotations

from bnviz.lessons.catalog import LESSONS, find_lesson_info, lesson_names
from bnviz.lessons.presets import load_preset, preset_names


def test_names_are_unique_slugs_of_the_titles_and_found_by_name():
    names = lesson_names()
    assert len(set(names)) == len(names)
    for info in LESSONS:
        assert find_lesson_info(info.name) is info
        assert info.claim.strip() and info.title.strip()
    assert find_lesson_info("nope") is None
    assert LESSONS[-1].name == "first-minute" and LESSONS[-1].view is None


def test_each_lessons_preset_exists_and_opens_its_view():
    for info in LESSONS:
        if info.preset is None:
            continue
        assert info.preset in preset_names()
        lesson = load_preset(info.preset).lesson
        assert lesson is not None and lesson.view == info.name


def test_the_experiment_lessons_are_the_issues_six():
    assert {i.name for i in LESSONS if i.experiment} == {
        "bn-makes-the-search-easier", "mini-batch-noise", "loss-landscape", "covariate-shift",
        "bn-at-test-time", "first-minute",
        "learning-rate-range-test",  # issue 18: the BN paper's higher learning rates
    }  # fmt: skip
