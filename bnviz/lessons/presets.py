"""Lesson presets: settings files that carry a lesson's title, guidance and classroom state.

A preset is an ordinary settings file (:meth:`TrainConfig.save`'s ``{"bnviz_settings": 1,
...settings}``) with two optional blocks that training ignores (``WINDOW_KEYS``)::

    "lesson":    {"name": "deep-sigmoid-bn-vs-plain", "title": "...", "guidance": "...",
                  "view": "loss-landscape"}
    "classroom": {"enabled": true, "hidden": ["noise", "seed"], "scale": 1.5}

So ``bnviz train --settings`` reads a preset like any settings file, and a teacher's own lesson
is a settings file plus guidance text. The shipped presets are ``bnviz/presets/NN-name.json``
(``NN`` orders the Lessons menu and ``bnviz presets``). Qt-free: the window shows what
:func:`load_preset` returns; which lesson views exist is the gui's to say, so an unknown view is a
warning of :func:`validate_preset`, not an error.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bnviz.train.config import SETTINGS_VERSION, ConfigError, TrainConfig, read_settings_json

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"
SUFFIX = ".json"
NAME_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_ORDER_PREFIX = re.compile(r"^\d+-")
SCALE_RANGE = (1.0, 3.0)  # classroom mode's font and line scale (3x is already huge)
DEFAULT_SCALE = 1.5
MAX_GUIDANCE_CHARS = 4000  # a paragraph, not a book: the strip beside the plots must hold it


class PresetError(ConfigError):
    """A preset that does not exist or cannot be read; the message names it."""


@dataclass(frozen=True)
class Classroom:
    """Classroom mode: controls hidden (names of the controls dock's fields), fonts and plot
    lines scaled by ``scale`` for a projector."""

    enabled: bool = False
    hidden: tuple[str, ...] = ()
    scale: float = DEFAULT_SCALE

    def to_dict(self) -> dict:
        return {"enabled": self.enabled, "hidden": list(self.hidden), "scale": self.scale}

    @classmethod
    def from_dict(cls, data: object) -> Classroom:
        """Check and build; a bad block raises ConfigError naming what is wrong."""
        if not isinstance(data, dict):
            raise ConfigError("classroom: expected a JSON object")
        unknown = sorted(set(data) - {"enabled", "hidden", "scale"})
        if unknown:
            raise ConfigError(f"classroom: unknown key(s): {', '.join(unknown)}")
        enabled = data.get("enabled", True)
        hidden = data.get("hidden", [])
        scale = data.get("scale", DEFAULT_SCALE)
        if not isinstance(enabled, bool):
            raise ConfigError(f"classroom: enabled must be true or false, got {enabled!r}")
        if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
            raise ConfigError("classroom: hidden must be a list of control names")
        lo, hi = SCALE_RANGE
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not lo <= scale <= hi:
            raise ConfigError(f"classroom: scale must be a number in {lo:g}..{hi:g}, got {scale!r}")
        return cls(enabled, tuple(dict.fromkeys(hidden)), float(scale))


@dataclass(frozen=True)
class Lesson:
    """What a preset tells the class: its name (lower-case-hyphens), title, a paragraph of
    guidance (plain text) and the slug of a lesson view to open, if any."""

    name: str
    title: str
    guidance: str
    view: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "guidance": self.guidance,
                "view": self.view}  # fmt: skip

    @classmethod
    def from_dict(cls, data: object) -> Lesson:
        if not isinstance(data, dict):
            raise ConfigError("lesson: expected a JSON object")
        unknown = sorted(set(data) - {"name", "title", "guidance", "view"})
        if unknown:
            raise ConfigError(f"lesson: unknown key(s): {', '.join(unknown)}")
        values = {k: data.get(k, "") for k in ("name", "title", "guidance")}
        for key, value in values.items():
            if not isinstance(value, str):
                raise ConfigError(f"lesson: {key} must be text, got {value!r}")
        name, title, guidance = (values[k].strip() for k in ("name", "title", "guidance"))
        if not NAME_RE.fullmatch(name):
            raise ConfigError(f"lesson: name must be lower-case words joined by '-', got {name!r}")
        if not title:
            raise ConfigError(f"lesson {name}: the title is empty")
        if len(guidance) > MAX_GUIDANCE_CHARS:
            raise ConfigError(
                f"lesson {name}: guidance longer than {MAX_GUIDANCE_CHARS} characters"
            )
        view = data.get("view")
        if view is not None and (not isinstance(view, str) or not NAME_RE.fullmatch(view)):
            raise ConfigError(f"lesson {name}: view must be a view's slug like loss-landscape")
        return cls(name, title, guidance, view or None)


@dataclass(frozen=True)
class Preset:
    """A settings file read whole: the settings, and the lesson and classroom blocks if any."""

    config: TrainConfig
    lesson: Lesson | None = None
    classroom: Classroom | None = None
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.lesson.name if self.lesson else (self.path.stem if self.path else "")


def read_settings_file(path: str | os.PathLike[str]) -> Preset:
    """Read any settings file (a plain one, a preset, a teacher's lesson); ConfigError names
    the file and what is wrong."""
    path = Path(path)
    data = read_settings_json(path)  # size, depth and version checked before parsing
    config = TrainConfig.from_file_dict(data, path.name)  # the settings, skipping the blocks
    try:
        lesson = Lesson.from_dict(data["lesson"]) if data.get("lesson") is not None else None
        room = data.get("classroom")
        classroom = Classroom.from_dict(room) if room is not None else None
    except ConfigError as e:
        raise ConfigError(f"{path.name}: {e}") from None
    return Preset(config, lesson, classroom, path)


def write_settings_file(
    path: str | os.PathLike[str],
    config: TrainConfig,
    lesson: Lesson | None = None,
    classroom: Classroom | None = None,
) -> None:
    """Write a settings file :func:`read_settings_file` reads back as it was written."""
    data: dict = {"bnviz_settings": SETTINGS_VERSION}
    if lesson is not None:
        data["lesson"] = lesson.to_dict()
    if classroom is not None:
        data["classroom"] = classroom.to_dict()
    data.update(config.to_dict())
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def shipped_files() -> dict[str, Path]:
    """Name -> file of every shipped preset, in menu order (the files' ``NN-`` prefix)."""
    files = sorted(PRESET_DIR.glob(f"*{SUFFIX}")) if PRESET_DIR.is_dir() else []
    return {_ORDER_PREFIX.sub("", f.stem): f for f in files}


def preset_names() -> list[str]:
    """The names ``bnviz --preset`` takes, in menu order."""
    return list(shipped_files())


def list_presets() -> list[Preset]:
    """Every shipped preset, read and checked, in menu order."""
    return [load_preset(name) for name in shipped_files()]


def load_preset(name_or_path: str) -> Preset:
    """A shipped preset by name, or a preset/settings file by path (``*.json``, or any path
    that exists). Raises :class:`PresetError` for an unknown name, ConfigError for a bad file."""
    files = shipped_files()
    if name_or_path in files:
        preset = read_settings_file(files[name_or_path])
        if preset.lesson is None or preset.lesson.name != name_or_path:
            raise ConfigError(f"preset {name_or_path}: its lesson name does not match its file")
        return preset
    path = Path(name_or_path)
    if "\0" in name_or_path:
        raise PresetError(f"{path.name!r}: a file name cannot hold a NUL character")
    try:
        is_file = path.is_file()
        if path.suffix.lower() == SUFFIX or path.exists():
            if not is_file:
                raise PresetError(f"no preset file {name_or_path}")
            return read_settings_file(path)
    except OSError as e:  # a name too long for the file system
        raise PresetError(f"{path.name[:80]}: cannot be read ({e.strerror or e})") from None
    raise PresetError(
        f"no preset named {name_or_path!r}; choose {', '.join(files) or '(none shipped)'}"
    )


def validate_preset(preset: Preset, views: Iterable[str] | None = None) -> list[str]:
    """Warnings for a preset that loads but will not show all it means to (errors raise when
    it is read): no guidance, or a lesson view not among ``views`` (the slugs the gui has;
    None skips the check)."""
    out = []
    lesson = preset.lesson
    if lesson is None:
        return ["no lesson block: a plain settings file"]
    if not lesson.guidance:
        out.append(f"{lesson.name}: no guidance text")
    if views is not None and lesson.view is not None and lesson.view not in set(views):
        out.append(f"{lesson.name}: lesson view {lesson.view!r} is not installed; the settings "
                   "open without it")  # fmt: skip
    return out
