"""A lesson view's "Use this lesson's setting" and its "Undo", on the window.

"Use" opens the lesson's preset exactly as Lessons > Presets does
(:func:`bnviz.gui.classroom_menus.open_preset`: a new run on its settings, its guidance, its
classroom state). "Undo" puts back what was there before: the settings the Controls dock showed,
the open preset and its guidance strip, classroom mode. The run itself starts afresh (a
run's weights are not kept); its settings are the user's, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from bnviz.gui import classroom_menus
from bnviz.lessons.presets import Classroom, Preset
from bnviz.train.config import TrainConfig


@dataclass(frozen=True)
class WindowSetting:
    """What "Undo" restores."""

    config: TrainConfig
    preset: Preset | None
    guidance_shown: bool
    classroom: Classroom


def connect_views(win) -> None:
    """Give every lesson view of ``win`` built so far its Use and Undo (a view built later
    gets them from the window: :func:`connect_view`)."""
    for view in win.lessons.built():
        connect_view(win, view)


def connect_view(win, view) -> None:
    """Give lesson view ``view`` of ``win`` its Use and Undo."""
    view.connect_setting(
        lambda name: use_lesson_setting(win, name),
        lambda previous: restore_setting(win, previous),
    )


def current_setting(win) -> WindowSetting:
    return WindowSetting(
        win.controls.config(),
        win.preset,
        win.guidance_action.isChecked(),
        win.classroom.state,
    )


def use_lesson_setting(win, name: str) -> WindowSetting | None:
    """Open preset ``name``; the state before it, or None if it could not be opened (the
    window says why and keeps its run)."""
    before = current_setting(win)
    return before if classroom_menus.open_preset(win, name) else None


def restore_setting(win, before: object) -> bool:
    """Go back to ``before`` (a :class:`WindowSetting`); False if its settings were refused."""
    assert isinstance(before, WindowSetting)
    if not win.reset(before.config):
        return False
    win.preset = before.preset
    lesson = before.preset.lesson if before.preset is not None else None
    win.lesson_strip.show_lesson(lesson)
    win.guidance_action.setEnabled(lesson is not None)
    win.guidance_action.setChecked(lesson is not None and before.guidance_shown)
    if lesson is not None and not before.guidance_shown:
        win.lesson_strip.hide()
    if win.classroom.state != before.classroom:
        classroom_menus.set_classroom(win, before.classroom)
    win.show_message("your settings are back (a new run)")
    return True
