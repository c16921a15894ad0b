"""The Qt-free packages and the command line import without Qt and without PyTorch.

Headless runs and Dask workers have no Qt; a new machine has no PyTorch (it is not a
dependency: only ``bnviz bench`` uses it, when asked). Both are blocked here, so a module
that imports either at module level fails this test even on a machine that has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
QT_FREE = ["nn", "data", "train", "search", "lessons", "bench"]

SCRIPT = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import pkgutil
    import sys

    BLOCKED = ("PySide6", "pyqtgraph", "shiboken6", "torch")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked in a Qt-free, torch-free import: {fullname}")
            return None

    sys.meta_path.insert(0, Block())

    def onerror(name):
        raise  # re-raise the ImportError of a sub-package

    names = ["bnviz"]
    for pkg in PACKAGES:
        mod = importlib.import_module(f"bnviz.{pkg}")
        names.append(mod.__name__)
        names += [m.name for m in pkgutil.walk_packages(mod.__path__, mod.__name__ + ".", onerror)]
    names += ["bnviz.cli", "bnviz.commands.train", "bnviz.commands.sweep", "bnviz.commands.bench"]
    for name in names:
        importlib.import_module(name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print("\\n".join(names))
    """
)


def test_qt_free_packages_and_cli_import_without_qt_or_torch():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", f"PACKAGES = {QT_FREE!r}\n{SCRIPT}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"a Qt-free import failed:\n{proc.stdout}\n{proc.stderr}"
    imported = set(proc.stdout.split())
    for pkg in QT_FREE:
        assert f"bnviz.{pkg}" in imported
    expected = {"bnviz.nn.layers", "bnviz.train.trainer", "bnviz.bench.torchref", "bnviz.cli"}
    assert expected <= imported
