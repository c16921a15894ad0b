"""Lesson presets: every shipped one loads and validates; files written read back as written;
an unknown name or a bad block is refused with a message that names it."""

from __future__ import annotations

import json

import pytest

from bnviz.lessons.presets import (
    NAME_RE,
    Classroom,
    Lesson,
    PresetError,
    list_presets,
    load_preset,
    preset_names,
    read_settings_file,
    validate_preset,
    write_settings_file,
)
from bnviz.train.config import ConfigError, TrainConfig

REQUIRED = {
    "deep-sigmoid-bn-vs-plain": "Deep sigmoid net, BN vs plain",
    "toggle-bn-mid-run": "Toggle BN mid-run",
    "learning-rate-log-scale": "Learning rate on a log scale",
    "coarse-to-fine": "Coarse to fine",
    "inside-a-bn-unit": "Inside a BN unit",
    "bn-at-test-time": "BN at test time",
    "loss-landscape": "Loss landscape",
    "covariate-shift": "Covariate shift",
    "mini-batch-noise": "Regularization from mini-batch noise",
    "softmax-4-classes": "Softmax with 4 classes",
    "no-hidden-layer": "No hidden layer",
    "c-2-logistic-regression": "C = 2 is logistic regression",
    "bn-makes-the-search-easier": "BN makes the search easier",
    "learning-rate-range-test": "Learning-rate range test",
    "are-the-probabilities-right": "Are the probabilities right?",
}


def test_every_shipped_preset_loads_and_validates():
    presets = list_presets()
    assert {p.name: p.lesson.title for p in presets if p.lesson} == REQUIRED
    for p in presets:
        assert NAME_RE.fullmatch(p.name), p.name
        assert p.config == p.config.validated()
        assert len(p.lesson.guidance) > 200, p.name  # a paragraph, not a line
        assert validate_preset(p) == [], p.name
        # training reads a preset like any settings file
        assert TrainConfig.load(p.path) == p.config


def test_the_presets_set_what_their_lessons_need():
    paper = load_preset("deep-sigmoid-bn-vs-plain").config
    assert (paper.dataset, paper.hidden, paper.activation) == ("digits", (100, 100, 100), "sigmoid")
    assert (paper.optimizer, paper.lr, paper.batch_size, paper.compare) == ("sgd", 0.1, 60, True)
    assert load_preset("no-hidden-layer").config.hidden == ()
    assert load_preset("no-hidden-layer").config.n_classes == 4
    assert load_preset("softmax-4-classes").config.n_classes == 4
    assert load_preset("c-2-logistic-regression").config.n_classes == 2
    assert load_preset("mini-batch-noise").lesson.view == "mini-batch-noise"
    assert load_preset("inside-a-bn-unit").lesson.view == "inside-a-bn-unit"


def test_unknown_view_is_a_warning_not_an_error():
    p = load_preset("loss-landscape")
    assert validate_preset(p, ["loss-landscape"]) == []
    (warning,) = validate_preset(p, ["covariate-shift"])
    assert "'loss-landscape' is not installed" in warning


def test_unknown_name_names_it():
    with pytest.raises(PresetError, match="no preset named 'nope'; choose deep-sigmoid"):
        load_preset("nope")
    with pytest.raises(PresetError, match="no preset file"):
        load_preset("/no/such/lesson.json")


def test_a_lesson_file_round_trips(tmp_path):
    config = TrainConfig(dataset="moons", hidden=(8,), lr=0.02).validated()
    lesson = Lesson("my-lesson", "My lesson", "Watch the loss.", "loss-landscape")
    room = Classroom(True, ("noise", "seed"), 2.0)
    path = tmp_path / "mine.json"
    write_settings_file(path, config, lesson, room)
    back = load_preset(str(path))
    assert (back.config, back.lesson, back.classroom) == (config, lesson, room)
    plain = tmp_path / "plain.json"
    write_settings_file(plain, config)
    assert read_settings_file(plain).lesson is None and read_settings_file(plain).classroom is None
    assert validate_preset(read_settings_file(plain)) == ["no lesson block: a plain settings file"]


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ({"lesson": {"name": "Bad Name", "title": "t"}}, "lower-case words"),
        ({"lesson": {"name": "ok", "title": ""}}, "the title is empty"),
        ({"lesson": {"name": "ok", "title": "t", "colour": 1}}, "unknown key(s): colour"),
        ({"lesson": {"name": "ok", "title": "t", "view": "Loss Landscape"}}, "view must be"),
        ({"classroom": {"scale": 9}}, "scale must be a number in 1..3"),
        ({"classroom": {"hidden": "noise"}}, "hidden must be a list"),
        ({"classroom": {"enabled": "yes"}}, "enabled must be true or false"),
        ({"classroom": []}, "classroom: expected a JSON object"),
    ],
)
def test_a_bad_block_is_refused_with_the_file_named(tmp_path, block, words):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"bnviz_settings": 1, **block}))
    with pytest.raises(ConfigError) as e:
        read_settings_file(path)
    assert str(e.value).startswith("bad.json: ") and words in str(e.value)


def test_names_are_in_menu_order():
    names = preset_names()
    assert names[0] == "deep-sigmoid-bn-vs-plain" and len(names) == len(set(names))
