"""Session-wide test setup.

QT_QPA_PLATFORM must be set before pytest-qt's ``qapp`` fixture builds the
QApplication: with neither a display nor this variable, Qt aborts the whole run.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

THREAD_GRACE_S = 2.0


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a new non-daemon Python thread running (cf. napari's conftest).

    Such a thread keeps the interpreter (and the app) from exiting. Threads get a
    short grace period to finish what they were told to stop doing.
    """
    before = set(threading.enumerate())
    yield
    new = [t for t in threading.enumerate() if t not in before and not t.daemon]
    deadline = time.monotonic() + THREAD_GRACE_S
    for t in new:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in new if t.is_alive()]
    if alive:
        pytest.fail(f"test left non-daemon thread(s) running: {alive}", pytrace=False)
