"""How much memory a data file may take, and what its arrays would take, read before loading.

An .npz whose header declares a (100000, 60000) float64 array, or a 2.9 MB zip that inflates to
3 GB, must be refused in a moment, naming the file and the size, not after NumPy has tried to
allocate it. The budget defaults to half the memory available now (``MemAvailable`` in
``/proc/meminfo``, else ``os.sysconf``); ``--memory-budget`` or the ``BNVIZ_MEMORY_BUDGET``
environment variable (``8G``, ``512M``, bytes) sets it, and spawned sweep workers inherit it.
"""

from __future__ import annotations

import os
import re

from bnviz.data.dataset import DataError

ENV = "BNVIZ_MEMORY_BUDGET"
FALLBACK_BUDGET = 4 << 30  # where the available memory cannot be read
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?)i?b?\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"8G"``, ``"512MB"``, ``"1.5g"`` or a number of bytes -> bytes; ValueError otherwise."""
    m = _SIZE.fullmatch(text)
    if m is None:
        raise ValueError(f"expected a size like 8G, 512M or a number of bytes, got {text!r}")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not 1 <= value < 1 << 60:
        raise ValueError(f"expected a size from 1 byte to 1024 PB, got {text!r}")
    return int(value)


def format_size(n: float) -> str:
    """Bytes for a person: ``44.7 GB`` (powers of 1024, as ``free -h`` shows them)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now, or None if the system won't say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def memory_budget() -> int:
    """The bytes a data file's arrays may take: the setting, else half the available memory."""
    text = os.environ.get(ENV, "").strip()
    if text:
        try:
            return parse_size(text)
        except ValueError:
            pass  # checked where it is set (the flag); a hand-set bad value falls back
    free = available_memory()
    return FALLBACK_BUDGET if free is None else max(1, free // 2)


def set_memory_budget(nbytes: int) -> None:
    """Set the budget for this process and the workers it spawns later."""
    os.environ[ENV] = str(int(nbytes))


def check_budget(name: str, nbytes: int, what: str) -> None:
    """DataError naming the file and the size if ``nbytes`` is over the budget."""
    budget = memory_budget()
    if nbytes > budget:
        raise DataError(
            f"{name}: {what} would take {format_size(nbytes)}, over the memory budget of "
            f"{format_size(budget)} (half the available memory by default; raise it with "
            f"--memory-budget or {ENV})"
        )
