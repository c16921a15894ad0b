"""Write the run the settings describe as standalone NumPy code (.py) or a notebook (.ipynb).

``bnviz export-code OUT.py|OUT.ipynb``: the code prints what ``bnviz train`` would
(:mod:`bnviz.export.code`).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    from bnviz.cli import add_training_flags, int_at_least

    p = sub.add_parser(
        "export-code",
        help="write the run as standalone NumPy code (.py) or a notebook (.ipynb)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("out", metavar="OUT.py|OUT.ipynb", help="the file to write")
    add_training_flags(p)
    p.add_argument("--preset", metavar="NAME", help="start from a lesson preset's settings")
    g = p.add_argument_group("run").add_mutually_exclusive_group()
    g.add_argument("--epochs", type=int_at_least(1), help="passes over the data (default 30)")
    g.add_argument("--steps", type=int_at_least(1), help="mini-batch steps (instead of --epochs)")
    p.add_argument(
        "--eval-every",
        type=int_at_least(1),
        metavar="STEPS",
        help="steps between evaluations (default: about 50 per run, as bnviz train)",
    )
    p.set_defaults(run=run, subparser=p)


def run(args: argparse.Namespace, parser) -> int:
    from bnviz.cli import config_from_args
    from bnviz.data import DataError
    from bnviz.export.code import export_code
    from bnviz.export.target import ExportError
    from bnviz.train.config import ConfigError

    try:
        base = None
        if args.preset is not None:
            if args.settings is not None:
                parser.error("--preset and --settings: choose one (a preset is a settings file)")
            from bnviz.lessons.presets import load_preset

            base = load_preset(args.preset).config
        config = config_from_args(args, base=base)
        plan, files = export_code(
            config, args.out, steps=args.steps, epochs=args.epochs, eval_every=args.eval_every
        )
    except (ConfigError, DataError, ExportError) as e:
        parser.error(str(e))
    except OSError as e:
        parser.error(f"{args.out}: {e.strerror or e}")
    if plan.note:
        sys.stderr.write(f"bnviz export-code: {plan.note}\n")
    for f in files:
        print(f"wrote {f}")
    return 0
