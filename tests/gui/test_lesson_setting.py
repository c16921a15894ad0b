"""A lesson carries its setting: opened on another, its view says so in a strip on top and offers
"Use this lesson's setting" (the preset, as Lessons > Presets opens it) and an Undo that puts the
user's settings back exactly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QSettings, Qt

from bnviz.gui import lessons as lessons_pkg
from bnviz.gui.main_window import MainWindow
from bnviz.lessons.presets import load_preset
from bnviz.train.config import TrainConfig

# The user's own setting: the default, a little changed, on another seed.
USER = replace(TrainConfig(), n_samples=300, hidden=(16, 16), seed=7)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(
        lessons_pkg, "LESSON_VIEWS", (("bnviz.gui.lessons.landscape", "LandscapeView"),
                                      ("bnviz.gui.lessons.babysitting", "BabysittingView"))
    )  # fmt: skip
    win = MainWindow(USER, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_strip_use_and_undo(window, qtbot):
    win = window
    view = win.open_lesson("LandscapeView")
    strip = view.setting_strip
    qtbot.waitUntil(strip.isVisible)
    assert strip.matching is False
    text = strip.label.text()
    assert "may not show" in text and "preset loss-landscape" in text
    assert "dataset spirals (lesson: digits)" in text  # names what differs, both values
    assert "seed" not in text  # the seed is not part of a setting
    assert strip.use_button.isVisible() and not strip.undo_button.isVisible()
    before = win.controls.config()

    qtbot.mouseClick(strip.use_button, Qt.MouseButton.LeftButton)
    preset = load_preset("loss-landscape")
    assert win.controls.config() == preset.config  # the controls show the preset's values
    assert win.config == preset.config  # and the run trains on them
    assert win.preset is not None and win.preset.name == "loss-landscape"
    assert strip.matching is True and "On this lesson's setting" in strip.label.text()
    assert not strip.use_button.isVisible() and strip.undo_button.isVisible()
    assert win.tabs.currentWidget() is view

    qtbot.mouseClick(strip.undo_button, Qt.MouseButton.LeftButton)
    assert win.controls.config() == before  # exactly the user's settings, seed and all
    assert win.config == before
    assert win.preset is None and not win.lesson_strip.isVisible()
    assert strip.matching is False and not strip.undo_button.isVisible()


def test_strip_follows_the_controls(window, qtbot):
    """Changing a setting that matters while the view is open turns the strip amber again; one
    that does not (the seed) leaves it green."""
    win = window
    view = win.open_lesson("LandscapeView")
    view.use_lesson_setting()
    assert view.setting_strip.matching is True
    win.reset(replace(win.controls.config(), seed=3))
    qtbot.wait(2 * 400)
    assert view.setting_strip.matching is True
    win.reset(replace(win.controls.config(), lr=0.5))
    qtbot.waitUntil(lambda: view.setting_strip.matching is False)
    assert "learning rate 0.5 (lesson: 0.1)" in view.setting_strip.label.text()


def test_a_view_without_a_preset_has_no_strip(window, qtbot):
    view = window.open_lesson("BabysittingView")
    qtbot.wait(100)
    assert view.preset is None and not view.setting_strip.isVisible()


def test_undo_brings_back_the_users_own_lesson_and_classroom_mode(window, qtbot, tmp_path):
    """A teacher's lesson file (its guidance, classroom mode at 2x) on spirals: Use, then Undo,
    gives back that lesson and its guidance; the strip's text keeps classroom mode's font."""
    from bnviz.gui.classroom_menus import open_preset
    from bnviz.lessons.presets import Classroom, Lesson, write_settings_file

    win = window
    mine = replace(load_preset("loss-landscape").config, dataset="spirals", seed=5)
    path = tmp_path / "mine.json"
    room = Classroom(True, (), 2.0)
    lesson = Lesson("my-landscape", "My landscape", "Look at the band.", "loss-landscape")
    write_settings_file(path, mine, lesson, room)
    assert open_preset(win, str(path))
    view = win.lessons["LandscapeView"]
    assert win.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: view.setting_strip.matching is False)
    big = win.font().pointSizeF()
    assert view.setting_strip.label.font().pointSizeF() == big
    assert view.use_lesson_setting()
    assert win.preset.name == "loss-landscape" and win.controls.config().dataset == "digits"
    assert view.setting_strip.label.font().pointSizeF() == big  # classroom mode's font still
    assert view.evidence_panel.text.font().pointSizeF() == big  # and the evidence's
    assert view.undo_lesson_setting()
    assert win.controls.config() == mine
    assert win.preset.name == "my-landscape" and win.lesson_strip.isVisible()
    assert "Look at the band." in win.lesson_strip.label.text()
    assert win.classroom.state == room


def test_on_the_default_setting_every_lesson_with_a_preset_says_its_point_may_not_show(qapp):
    """The app's default (spirals, 4 x 32 sigmoid, SGD 0.5) is no lesson's own setting."""
    from bnviz.gui.lessons import lesson_views
    from bnviz.lessons.catalog import LESSONS

    views = lesson_views()
    for info in LESSONS:
        if info.view is None:
            continue
        view = views[info.view]
        view.config_provider = TrainConfig
        view.check_setting()
        strip = view.setting_strip
        if info.preset is None:
            assert view.preset is None and strip.isHidden()
        else:
            assert view.preset.name == info.preset
            assert not strip.isHidden() and strip.matching is False, info.name
            assert f"preset {info.preset}" in strip.label.text()
            view.config_provider = lambda p=view.preset: replace(p.config, seed=9)
            view.check_setting()
            assert strip.matching is True, info.name  # its own setting on another seed
