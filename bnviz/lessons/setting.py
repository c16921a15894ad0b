"""A lesson's own setting, and how the window's settings differ from it.

Each lesson view shows its point on one setting, its preset's (``bnviz --preset NAME``). Opened
on another, the view says so. "Another setting" means: a setting that *does something* in the
lesson's preset differs. Not counted: the seed (any seed should show the point, and the lesson's
claims are measured over several), settings idle in the preset (the noise of a 2-D set when the
preset uses digits, momentum beta with plain SGD, the twin's setting when it does not compare),
and settings a lesson's experiment varies itself (each view lists those: the learning rate of a
search, the mini-batch size of the noise experiment, BN on/off where both are trained).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bnviz.lessons.catalog import find_lesson_info
from bnviz.lessons.presets import Preset, load_preset
from bnviz.train.config import PARAMS, TrainConfig, idle_settings

#: Never part of "the setting": one seed is one draw of it.
ALWAYS_IGNORED = ("seed",)
#: Settings that only matter in compare mode.
TWIN_SETTINGS = ("compare_setting", "compare_value")


@dataclass(frozen=True)
class Difference:
    """One setting where the window's value (``current``) is not the lesson's."""

    name: str  # the TrainConfig field
    label: str  # its name on the Controls dock
    lesson: Any
    current: Any

    def describe(self) -> str:
        """``learning rate 0.5 (lesson: 0.1)``."""
        return f"{self.label} {_shown(self.current)} (lesson: {_shown(self.lesson)})"


def setting_differences(
    lesson: TrainConfig, current: TrainConfig, ignore: tuple[str, ...] = ()
) -> tuple[Difference, ...]:
    """The settings that do something in ``lesson`` and differ in ``current``, in the order of
    the Controls dock; ``ignore`` names settings that do not matter for this lesson (the seed
    never does). Empty: ``current`` is the lesson's setting."""
    skip = set(ALWAYS_IGNORED) | set(ignore) | set(idle_settings(lesson))
    if not lesson.compare:
        skip |= set(TWIN_SETTINGS)
    elif lesson.compare_setting == "batchnorm":
        skip.add("compare_value")  # BN vs plain has no twin's value
    ours, theirs = lesson.to_dict(), current.to_dict()
    return tuple(
        Difference(name, p.label, ours[name], theirs[name])
        for name, p in PARAMS.items()
        if name not in skip and ours[name] != theirs[name]
    )


def view_preset(slug: str) -> Preset | None:
    """The preset whose setting shows the lesson ``slug``'s point (the catalog's
    :attr:`LessonInfo.preset`), or None when the lesson has none (it shows on any setting).
    A broken shipped preset raises ConfigError naming it."""
    info = find_lesson_info(slug)
    return load_preset(info.preset) if info is not None and info.preset else None


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
