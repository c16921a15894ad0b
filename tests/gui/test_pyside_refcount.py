"""Regression guard for the PySide6 6.12.0 refcount bug on CPython 3.11.

PySide6/shiboken6 6.12.0 drops one reference to ``None`` on every wrapped call that
returns void: 1,000 ``QPainterPath.moveTo`` calls lower ``sys.getrefcount(None)`` by
1,000, and a 30 Hz pyqtgraph plot then aborts with ``Fatal Python error: none_dealloc``
within seconds. 6.11.3 is clean, hence the pin in pyproject.toml.

This test needs no QApplication and no pytest-qt, so it also runs with plain pytest.
"""

from __future__ import annotations

import ctypes
import sys

import pytest

if sys.version_info >= (3, 12):
    pytest.skip(
        "None is immortal on Python 3.12+ (PEP 683): its refcount is fixed, so a dropped "
        "reference is neither observable nor fatal there",
        allow_module_level=True,
    )

QtGui = pytest.importorskip("PySide6.QtGui")

CALLS = 1_000
SLACK = 20  # unrelated code (GC, other threads) may touch None a few times


def _give_back_references_to_none(count: int) -> None:
    """Re-add references a buggy build stole, so pytest survives to report the failure.

    Without this the interpreter aborts with none_dealloc at exit (exit code 134)
    and the assertion message can get lost. Py_IncRef is part of the stable C API.
    """
    for _ in range(count):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))


def test_void_calls_do_not_drop_references_to_none():
    import PySide6

    start = sys.getrefcount(None)
    path = QtGui.QPainterPath()
    for _ in range(10):  # warm up any lazy binding/caching first
        path.moveTo(0, 0)

    before = sys.getrefcount(None)
    for _ in range(CALLS):
        path.moveTo(0, 0)  # wrapped C++ method returning void
    after = sys.getrefcount(None)

    lost = before - after
    _give_back_references_to_none(max(0, start - after))
    assert lost <= SLACK, (
        f"PySide6 {PySide6.__version__} dropped {lost} references to None over {CALLS} "
        f"void calls (sys.getrefcount(None): {before} -> {after}). This build will crash "
        "a live plot with 'Fatal Python error: none_dealloc'; use PySide6-Essentials==6.11.3."
    )
