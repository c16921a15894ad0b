"""Where a study file may live: checked before SQLite touches the disk, undone if it fails.

SQLite writes beside a study ``NAME-journal`` or ``NAME-wal`` and ``NAME-shm``: a 255-character
name fits the file system but its journal does not (a 0-byte study was left behind); a 4,024-
character path created 21 folders before failing; ``--study /dev/null`` left
``/dev/null-journal``; a read-only file or folder failed only when the first trial was stored.
Each is now one line before anything is created, and what was created is removed on failure.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

SIDECAR = "-journal"  # the longest name SQLite adds (-wal and -shm are shorter)
FALLBACK_NAME_MAX, FALLBACK_PATH_MAX = 255, 4096
SQLITE_PATH_MAX = 512  # SQLite's unix VFS opens no longer full path (its MAX_PATHNAME)


class StudyPathError(ValueError):
    """A path that cannot hold a study; the message names it and says why."""


def _shown(path: Path) -> str:
    """The path as a message shows it: a long one cut in the middle."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:50]}...{text[-60:]} ({len(text)} characters)"


def _limit(path: Path, name: str, fallback: int) -> int:
    try:
        return int(os.pathconf(path, name))
    except (OSError, ValueError, AttributeError):
        return fallback


def _existing_ancestor(path: Path) -> Path:
    for p in path.parents:
        try:
            if p.exists():
                return p
        except OSError:
            continue
    return Path(path.anchor or ".")


def check_study_path(path: Path) -> None:
    """StudyPathError unless ``path`` can be a study: not too long for the system, a regular
    file (or not there yet), in a folder that exists or can be made. Creates nothing."""
    if "\0" in str(path):  # the OS cannot name such a file; Python says ValueError
        raise StudyPathError(f"{Path(path).name!r}: a file name cannot hold a NUL character")
    path = Path(os.path.abspath(path))
    base = _existing_ancestor(path)
    path_max = min(_limit(base, "PC_PATH_MAX", FALLBACK_PATH_MAX), SQLITE_PATH_MAX)
    name_max = _limit(base, "PC_NAME_MAX", FALLBACK_NAME_MAX)
    if len(os.fsencode(path)) + len(SIDECAR) >= path_max:
        raise StudyPathError(
            f"{_shown(path)}: path too long for a study (SQLite opens at most {path_max} bytes, "
            f"its {SIDECAR} file included)"
        )
    for part in path.parts[1:-1]:
        if len(os.fsencode(part)) > name_max:
            raise StudyPathError(
                f"{_shown(path)}: folder name {part[:40]}... is longer than {name_max} bytes"
            )
    if len(os.fsencode(path.name)) + len(SIDECAR) > name_max:
        raise StudyPathError(
            f"{path.name[:40]}...: study name too long ({len(os.fsencode(path.name))} bytes; "
            f"at most {name_max - len(SIDECAR)}, leaving room for SQLite's {SIDECAR} file)"
        )
    try:
        if path.exists() and not path.is_file():
            what = "a folder" if path.is_dir() else "a device or another special file"
            raise StudyPathError(f"{_shown(path)}: is {what}, not a study file")
    except OSError as e:
        raise StudyPathError(f"{_shown(path)}: cannot be used ({e.strerror or e})") from None


def make_folders(path: Path) -> list[Path]:
    """Create the missing folders of ``path``'s parent; return those created (deepest last),
    for :func:`undo`. StudyPathError if one cannot be made."""
    created: list[Path] = []
    missing = [p for p in reversed(path.parents) if not p.exists()]
    try:
        for p in missing:
            p.mkdir()
            created.append(p)
    except OSError as e:
        undo(None, created)
        read_only = e.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
        why = "read-only" if read_only else (e.strerror or str(e))
        raise StudyPathError(f"{_shown(path)}: cannot create its folder ({why})") from None
    return created


def read_only_reason(path: Path) -> str | None:
    """Why the study at ``path`` cannot be written ("the file cannot be written", "its folder
    ... cannot be written"), or None. SQLite needs both: the file, and the folder for its
    journal."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return "the file cannot be written"
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {_shown(folder)} cannot be written, and SQLite keeps a journal there"
    return None


def undo(path: Path | None, folders: list[Path]) -> None:
    """Remove a study file this process created empty, its sidecars and the folders made for
    it: a refused study leaves nothing behind."""
    if path is not None:
        for p in (path, *(Path(f"{path}{s}") for s in ("-journal", "-wal", "-shm"))):
            try:
                if p.is_file() and (p != path or p.stat().st_size == 0):
                    p.unlink()
            except OSError:
                pass
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            break
