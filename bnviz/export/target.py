"""The checks every export makes of the file it is asked to write, before writing anything."""

from __future__ import annotations

import os
from pathlib import Path


class ExportError(ValueError):
    """An export that cannot be written; the message says why in one line."""


def check_target(path: str | os.PathLike[str], suffixes: tuple[str, ...]) -> str:
    """The suffix of ``path`` (lower case); :class:`ExportError` when it is not one of
    ``suffixes`` or its folder does not exist."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in suffixes:
        names = " or ".join(suffixes)
        raise ExportError(f"{p.name}: choose a {names} file name")
    if not p.resolve().parent.is_dir():
        raise ExportError(f"folder of {p} does not exist")
    return suffix
