"""bnviz.core and bnviz.cli must import without Qt (headless runs, dask workers)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import pkgutil
    import sys

    BLOCKED = ("PySide6", "pyqtgraph", "shiboken6")

    class BlockQt(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] in BLOCKED:
                raise ImportError(f"Qt import blocked in a Qt-free module: {fullname}")
            return None

    sys.meta_path.insert(0, BlockQt())

    def onerror(name):
        raise  # re-raise the ImportError of a sub-package

    import bnviz.core

    names = ["bnviz.core"]
    names += [
        m.name for m in pkgutil.walk_packages(bnviz.core.__path__, "bnviz.core.", onerror)
    ]
    names.append("bnviz.cli")
    for name in names:
        importlib.import_module(name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print("\\n".join(names))
    """
)


def test_core_and_cli_import_without_qt():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"importing bnviz.core / bnviz.cli without Qt failed:\n{proc.stdout}\n{proc.stderr}"
    )
    imported = proc.stdout.split()
    assert "bnviz.core" in imported and "bnviz.cli" in imported
