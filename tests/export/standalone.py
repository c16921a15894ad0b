"""Running an exported script the way a student would, with bnviz out of sight."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

# Runs the script with every bnviz import refused: `python -I` alone would still see the
# editable install in site-packages, so a finder in front of it proves the script standalone.
BLOCKED_RUNNER = """\
import runpy, sys
class NoBnviz:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "bnviz":
            raise ImportError("bnviz is not visible to an exported script")
sys.meta_path.insert(0, NoBnviz())
script, sys.argv = sys.argv[1], sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""


def run_blocked(script: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``script`` under ``python -I`` from its own folder, bnviz unimportable."""
    return subprocess.run(
        [sys.executable, "-I", "-c", BLOCKED_RUNNER, str(script), *args],
        cwd=script.parent, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def parse_lines(text: str) -> list[tuple[int, float, float]]:
    """The ``step= val_loss= val_acc=`` lines of a script's output."""
    rows = []
    for line in text.splitlines():
        if line.startswith("step="):
            parts = dict(p.split("=") for p in line.split())
            rows.append((int(parts["step"]), float(parts["val_loss"]), float(parts["val_acc"])))
    return rows


def read_metrics(path: Path, run: str = "net") -> list[tuple[int, float, float]]:
    with open(path) as f:
        return [
            (int(r["step"]), float(r["val_loss"]), float(r["val_acc"]))
            for r in csv.DictReader(f)
            if r["run"] == run
        ]
