"""Hostile files for the tests, made at test time: crafted .npz headers, zip bombs, deep JSON.

Nothing here is stored in the repository; each maker writes into a test's ``tmp_path``.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from numpy.lib import format as npy_format


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """The bytes of an npy header declaring ``shape`` and ``descr``, and no data."""
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    npy_format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def header_only_npz(path: Path, shapes: dict[str, tuple[int, ...]], descr: str = "<f8") -> Path:
    """An .npz whose members are npy headers declaring ``shapes``, with no data behind them:
    a file of a few hundred bytes that claims any size."""
    with zipfile.ZipFile(path, "w") as z:
        for key, shape in shapes.items():
            z.writestr(f"{key}.npy", npy_header(shape, descr))
    return path


def zip_bomb_npz(path: Path, megabytes: int) -> Path:
    """An honest .npz of ``megabytes`` MB of zeros (X) deflated to a small fraction of it."""
    rows = megabytes * (1 << 20) // 8 // 16
    block = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("X.npy", "w", force_zip64=True) as f:
            f.write(npy_header((rows, 16)))
            for _ in range(megabytes):
                f.write(block)
        z.writestr("y.npy", npy_header((rows,), "<i8") + bytes(8 * rows))
    return path


def settings_file(path: Path, text_or_data: str | dict) -> Path:
    text = text_or_data if isinstance(text_or_data, str) else json.dumps(text_or_data)
    path.write_text(text)
    return path


def deep_json(depth: int) -> str:
    """A settings file whose "hidden" is ``depth`` nested lists."""
    return '{"bnviz_settings": 1, "hidden": ' + "[" * depth + "]" * depth + "}"


def patched_npz(path: Path, *, method: int | None = None, encrypted: bool = False) -> Path:
    """A small valid .npz whose zip headers then claim a compression ``method`` zipfile lacks
    (99: AES) or encryption."""
    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, X=np.zeros((10, 2)), y=np.arange(10) % 2)
    data = bytearray(buf.getvalue())
    # (signature, offset of the flags, offset of the method) in local and central headers
    for signature, flags, where in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        i = data.find(signature)
        while i >= 0:
            if method is not None:
                data[i + where : i + where + 2] = method.to_bytes(2, "little")
            if encrypted:
                data[i + flags] |= 1
            i = data.find(signature, i + 4)
    path.write_bytes(bytes(data))
    return path


DEV_NULL_JOURNAL = Path("/dev/null-journal")


def journal_state() -> float | None:
    """When /dev/null-journal last changed (None: absent): compared before and after a test,
    so a journal some other program left does not fail it, and a new one does."""
    try:
        return DEV_NULL_JOURNAL.stat().st_mtime
    except OSError:
        return None
