"""Read a small JSON file a person hands us, refusing what is not one before parsing it.

``json.loads`` recurses once per nesting level (a file of 100,000 ``[`` raises RecursionError)
and holds the whole text and its objects in memory; a settings file is a few hundred bytes and
three levels deep. So the size is checked from the file system and the depth by a scan of the
brackets outside strings, and only then is the text parsed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonFileError(ValueError):
    """A file that is not a small JSON document; the message names it."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text`` (strings skipped)."""
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def read_json(
    path: str | os.PathLike[str], *, max_bytes: int, max_depth: int, what: str = "a JSON file"
) -> object:
    """The JSON value in ``path``; JsonFileError (file name first) if it is missing, too big,
    nested deeper than ``max_depth``, not UTF-8 or not JSON (then "not ``what``")."""
    p = Path(path)
    name = p.name
    if "\0" in str(p):  # the OS cannot name such a file; Python says ValueError
        raise JsonFileError(f"{name!r}: a file name cannot hold a NUL character")
    try:
        if p.is_dir():
            raise JsonFileError(f"{name}: is a folder, not a file")
        size = p.stat().st_size
        if size > max_bytes:
            raise JsonFileError(f"{name}: {size:,} bytes is too big (at most {max_bytes:,})")
        with p.open("rb") as f:  # read at most the cap: a device or a growing file may lie
            raw = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise JsonFileError(f"{name}: no such file") from None
    except OSError as e:
        raise JsonFileError(f"{name}: cannot be read ({e.strerror or e})") from None
    if len(raw) > max_bytes:
        raise JsonFileError(f"{name}: more than {max_bytes:,} bytes is too big")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise JsonFileError(f"{name}: not {what} (cannot decode as UTF-8)") from None
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonFileError(f"{name}: nested {depth} levels deep (at most {max_depth})")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError) as e:
        raise JsonFileError(f"{name}: not {what} (not valid JSON: {e})") from None
