"""``bnviz lr-find``: the learning-rate range test (fastai's ``lr_find``) from the command line.

Trains each network (the twins in compare mode, on the same mini-batches) from its start with a
learning rate growing from ``--start`` to ``--end`` over ``--num-it`` mini-batches, records the
smoothed loss, stops when it passes 4x its best (unless ``--no-stop-div``) and prints where each
test stopped and fastai's four suggestions (valley, slide, minimum, steep).
"""

from __future__ import annotations

import argparse
import json
import math
import sys


def add_parser(sub) -> None:
    from bnviz.cli import add_training_flags, int_at_least, positive_float
    from bnviz.lessons.lr_range import END_LR, MIN_NUM_IT, NUM_IT, START_LR

    p = sub.add_parser(
        "lr-find",
        help="learning-rate range test with fastai's four suggestions (no window)",
        description=__doc__.splitlines()[0],
    )
    add_training_flags(p)
    g = p.add_argument_group("range test")
    g.add_argument("--start", type=positive_float, default=START_LR,
                   help=f"first learning rate (default {START_LR:g})")  # fmt: skip
    g.add_argument("--end", type=positive_float, default=END_LR,
                   help=f"last learning rate (default {END_LR:g})")  # fmt: skip
    g.add_argument("--num-it", type=int_at_least(MIN_NUM_IT), default=NUM_IT, metavar="N",
                   help=f"mini-batches, one per learning rate (default {NUM_IT})")  # fmt: skip
    g.add_argument("--no-stop-div", action="store_true",
                   help="run the whole schedule even after the loss explodes")  # fmt: skip
    g.add_argument("--json", action="store_true",
                   help='print {"runs": {NAME: {"lrs", "losses", "suggestions"}}}')  # fmt: skip
    p.set_defaults(run=run, subparser=p)


def run(args: argparse.Namespace, parser) -> int:
    from bnviz.cli import config_from_args
    from bnviz.data import DataError
    from bnviz.lessons.lr_range import check_config, check_range, range_test
    from bnviz.train.config import ConfigError

    try:
        config = check_config(config_from_args(args))
        check_range(args.start, args.end, args.num_it)
        curves = range_test(
            config, start=args.start, end=args.end, num_it=args.num_it,
            stop_div=not args.no_stop_div,
        )  # fmt: skip
    except (ConfigError, DataError) as e:
        parser.error(str(e))
    if args.json:
        json.dump({"runs": {c.run: c.to_json() for c in curves}}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(
        f"{config.dataset}, hidden {','.join(map(str, config.hidden)) or 'none'} "
        f"{config.activation}, {config.optimizer}, batch {config.batch_size}: lr "
        f"{args.start:g} .. {args.end:g} over {args.num_it} mini-batches"
    )
    for c in curves:
        lr, loss = c.best
        print(f"  {c.run}: {len(c.lrs)} steps, to lr {c.last_lr:.3g} ({c.stop}); "
              f"lowest smoothed loss {loss:.4g} at lr {lr:.3g}")  # fmt: skip
        print("    suggestions: " + ", ".join(
            f"{k} {_fmt(v)}" for k, v in c.suggestions.items()))  # fmt: skip
    return 0


def _fmt(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.3g}"
