"""What the arrays of an .npz would take, read from the zip directory and the npy headers only.

An .npz is a zip of ``.npy`` members; each member's header states its shape and dtype and the
zip directory its uncompressed size. Both are read here, without inflating any data, so a file
declaring 48 GB (or a zip bomb) is refused before a byte of it is allocated.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

from bnviz.data.dataset import DataError

MAX_HEADER_BYTES = 10_000  # NumPy's own default limit for a header it will parse safely


@dataclass(frozen=True)
class Member:
    """One ``.npy`` member: its declared shape and dtype, and its size in the zip directory."""

    shape: tuple[int, ...]
    dtype: np.dtype
    stored: int  # the member's declared uncompressed size (header included)
    header: int  # bytes of the npy header

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.count * self.dtype.itemsize


def array_names(path: Path) -> list[str]:
    """The array keys of an .npz (its ``.npy`` members without the suffix), from the zip's
    directory alone."""
    try:
        with zipfile.ZipFile(path) as z:
            return [n[: -len(".npy")] for n in z.namelist() if n.endswith(".npy")]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        raise DataError(f"{path.name}: not a valid .npz archive ({e})") from None


def read_members(path: Path, keys: tuple[str, ...]) -> dict[str, Member]:
    """Key -> :class:`Member` for the arrays ``keys`` (only their headers are read); DataError
    for a zip or a header that cannot be read."""
    name = path.name
    out: dict[str, Member] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for key in keys:
                info = z.getinfo(f"{key}.npy")
                with z.open(info) as f:
                    out[key] = _member(name, key, f, info.file_size)
    # NotImplementedError: a compression zipfile lacks; RuntimeError: an encrypted member
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            KeyError, NotImplementedError, RuntimeError) as e:  # fmt: skip
        raise DataError(f"{name}: not a valid .npz archive ({e})") from None
    return out


def _member(name: str, key: str, f: IO[bytes], stored: int) -> Member:
    try:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(f, MAX_HEADER_BYTES)
        else:
            shape, fortran, dtype = npy_format.read_array_header_2_0(f, MAX_HEADER_BYTES)
    except (ValueError, EOFError, TypeError, SyntaxError) as e:
        raise DataError(f"{name}: array {key!r} has an unreadable header ({e})") from None
    header = f.tell()
    if any(d < 0 for d in shape):
        raise DataError(f"{name}: array {key!r} declares a negative shape {shape}")
    return Member(tuple(int(d) for d in shape), np.dtype(dtype), stored, header)


def check_members(name: str, members: dict[str, Member], keys: tuple[str, ...]) -> None:
    """Refuse arrays that would not fit the memory budget, or that their member cannot hold
    (a crafted header: shape (10**9,) over 100 bytes of data)."""
    from bnviz.data.budget import check_budget

    # float64 is what training computes in: an integer array is converted once, so it needs
    # 8 bytes per value whatever it is stored as
    need = sum(max(members[k].nbytes, 8 * members[k].count) for k in keys)
    shapes = ", ".join(f"{k!r} {members[k].shape}" for k in keys)
    check_budget(name, need, f"its arrays ({shapes})")
    for k in keys:
        m = members[k]
        if m.dtype.hasobject:
            continue  # refused with its own message when read
        if m.nbytes > m.stored - m.header:
            raise DataError(
                f"{name}: array {k!r} declares shape {m.shape} ({m.nbytes:,} bytes) but its "
                f"member holds {max(0, m.stored - m.header):,} bytes: damaged or crafted"
            )
