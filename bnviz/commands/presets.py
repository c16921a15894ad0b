"""``bnviz presets``: the shipped lesson presets, one line each (``NAME  Title``).

``bnviz --preset NAME`` opens one; ``--check`` also reads every preset's settings and says
what would not show (no guidance, a lesson view the catalog does not know), exiting 1 if any
warns. The views come from the lesson catalog (:mod:`bnviz.lessons.catalog`), so it imports no
Qt and runs where the GUI is not installed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:  # argparse's private _SubParsersAction
    p = sub.add_parser(
        "presets", help="list the lesson presets (bnviz --preset NAME opens one)",
        description=__doc__.splitlines()[0],
    )  # fmt: skip
    p.add_argument("--check", action="store_true",
                   help="also validate each preset against the lesson views")  # fmt: skip
    p.set_defaults(run=run, subparser=p)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bnviz.lessons.presets import list_presets, validate_preset
    from bnviz.train.config import ConfigError

    try:
        presets = list_presets()
    except ConfigError as e:
        sys.stderr.write(f"bnviz presets: {e}\n")
        return 1
    for p in presets:
        assert p.lesson is not None  # load_preset refuses a shipped preset without one
        print(f"{p.name}  {p.lesson.title}")  # exactly two spaces: scripts split on them
    if not args.check:
        return 0
    from bnviz.lessons.catalog import LESSONS

    views = [info.name for info in LESSONS if info.view is not None]  # no GUI import
    warnings = [w for p in presets for w in validate_preset(p, views)]
    for w in warnings:
        sys.stderr.write(f"warning: {w}\n")
    return 1 if warnings else 0
