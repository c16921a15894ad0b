"""``bnviz train``: one run (or a BN / plain pair) from the command line.

Prints progress while it runs and a summary at the end; ``--metrics`` writes one CSV row per
evaluation and network; ``--save`` writes the trained model(s) as .npz.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used, so that --help starts fast
    from bnviz.data import Dataset
    from bnviz.nn.network import MLP
    from bnviz.train.trainer import Trainer

from bnviz.train.params import MAX_EPOCHS, MAX_STEPS

DEFAULT_EPOCHS = 30
EXIT_CANCELLED = 130  # what a shell reports for Ctrl-C
EXIT_WRITE_FAILED = 1  # trained, but --metrics or --save could not be written
EVALS_PER_RUN = 50


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bnviz.cli import add_training_flags, int_at_least, run_param

    p = sub.add_parser(
        "train", help="train from the command line (no window)", description=__doc__.splitlines()[0]
    )
    add_training_flags(p)
    g = p.add_argument_group("run").add_mutually_exclusive_group()
    g.add_argument(
        "--epochs", type=run_param("epochs"),
        help=f"passes over the data (default {DEFAULT_EPOCHS}; at most {MAX_EPOCHS:,})",
    )  # fmt: skip
    g.add_argument(
        "--steps", type=run_param("steps"), help=f"mini-batch steps (at most {MAX_STEPS:,})"
    )
    p.add_argument(
        "--eval-every",
        type=run_param("eval_every"),
        metavar="STEPS",
        help=f"steps between evaluations (default: about {EVALS_PER_RUN} per run)",
    )
    p.add_argument("--metrics", metavar="CSV", help="write per-evaluation metrics here")
    p.add_argument(
        "--save",
        metavar="NPZ",
        help="save the trained model (compare mode: NAME-bn.npz and NAME-plain.npz, or one "
        "file per run name, e.g. NAME-lr=0.5.npz)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress, only the summary")
    p.add_argument(
        "--record",
        metavar="FILE",
        help="record the run for bnviz --replay (a snapshot at each evaluation, or see "
        "--record-every)",
    )
    p.add_argument(
        "--record-every",
        type=int_at_least(1, MAX_STEPS),
        metavar="STEPS",
        help="with --record: every K steps",
    )
    p.set_defaults(run=run, subparser=p)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bnviz.cli import config_from_args
    from bnviz.data import DataError
    from bnviz.nn.fpenv import flushed
    from bnviz.train.config import ConfigError
    from bnviz.train.trainer import Trainer

    try:
        config = config_from_args(args)
        trainer = Trainer(config)
    except (ConfigError, DataError) as e:
        parser.error(str(e))
    for flag, path in (
        ("--metrics", args.metrics),
        ("--save", args.save),
        ("--record", args.record),
    ):
        why = path and _unwritable(path)
        if why:  # said before training, not after it
            parser.error(f"{flag}: {path}: {why}")
    if args.record_every and not args.record:
        parser.error("--record-every needs --record FILE")
    recorder = None
    if args.record:
        from bnviz.train.recording import Recorder

        recorder = Recorder(args.record)
    steps_per_epoch = max(
        1, len(trainer.data.X_train) // min(config.batch_size, len(trainer.data.X_train))
    )
    total = args.steps or (args.epochs or DEFAULT_EPOCHS) * steps_per_epoch
    every = args.eval_every or max(1, total // EVALS_PER_RUN)
    progress = Progress(total, quiet=args.quiet)
    t0 = time.perf_counter()
    cancelled = False
    try:
        with flushed(hold=True):  # the subnormal mode set once for the run, not twice a step
            for s in range(1, total + 1):
                trainer.step()
                evaluated = s % every == 0 or s == total
                if evaluated:
                    trainer.evaluate()
                    progress.show(s, trainer)
                if trainer.all_diverged:
                    trainer.evaluate()
                if recorder is not None and (
                    (evaluated if not args.record_every else s % args.record_every == 0)
                    or s == total
                    or trainer.all_diverged
                ):
                    recorder.add(trainer.snapshot(), config=config)
                if trainer.all_diverged:
                    break
    except KeyboardInterrupt:  # Ctrl-C: keep what was trained (metrics, model, summary)
        cancelled = True
        sys.stderr.write(f"\ncancelled at step {trainer.step_count} of {total}\n")
        trainer.evaluate()
        if recorder is not None:
            recorder.add(trainer.snapshot(), config=config)
    seconds = time.perf_counter() - t0
    progress.done()
    status = EXIT_CANCELLED if cancelled else 0
    try:
        if args.metrics:
            from bnviz.train.trainer import write_metrics

            write_metrics(args.metrics, trainer.metrics)
        if args.save:
            save_models(args.save, trainer)
        if recorder is not None:
            size = recorder.save()
            print(f"recorded {recorder.frames} frames to {args.record} ({size / 1e3:.0f} kB)")
    except OSError as e:  # the disk filled or the folder went away while training
        sys.stderr.write(f"bnviz train: cannot write {e.filename or ''}: {e.strerror or e}\n")
        status = status or EXIT_WRITE_FAILED
    print_summary(trainer, seconds)
    return status


def _unwritable(path: str) -> str | None:
    """Why ``path`` cannot be written (its folder missing or read-only, a folder itself),
    or None."""
    p = Path(path)
    try:
        if p.is_dir():
            return "is a folder"
        folder = p.resolve().parent
        if not folder.is_dir():
            return f"folder {folder} does not exist"
        if not os.access(folder, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
            return "read-only"
    except (OSError, ValueError) as e:  # a name too long, a NUL
        return str(getattr(e, "strerror", None) or e)
    return None


class Progress:
    """A one-line progress bar on a terminal, a line every 10% otherwise."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        self.total, self.quiet = total, quiet
        self.tty = sys.stderr.isatty()
        self._last_decile = -1

    def show(self, step: int, trainer: Trainer) -> None:
        if self.quiet:
            return
        parts = []
        for m in trainer.metrics[-len(trainer.runs) :]:
            parts.append(f"{m['run']}: val loss {m['val_loss']:.4f} acc {m['val_acc']:.3f}")
        frac = step / self.total
        bar = "#" * int(frac * 20)
        line = f"[{bar:<20}] step {step}/{self.total} epoch {trainer.epoch}  " + "  ".join(parts)
        if self.tty:
            sys.stderr.write("\r" + line[:160].ljust(160))
            sys.stderr.flush()
        elif int(frac * 10) > self._last_decile:
            self._last_decile = int(frac * 10)
            sys.stderr.write(line + "\n")

    def done(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def save_models(path: str, trainer: Trainer) -> None:
    from bnviz.train.trainer import save_models as save

    for target in save(trainer.runs, path):
        print(f"saved {target}")


def print_summary(trainer: Trainer, seconds: float) -> None:
    c = trainer.config
    print(
        f"{c.dataset}: {trainer.data.n_features} features, {trainer.data.n_classes} classes, "
        f"hidden {','.join(map(str, c.hidden)) or 'none'} {c.activation}, {c.optimizer} "
        f"lr {c.lr:g}, batch {c.batch_size}"
    )
    print(
        f"{trainer.step_count} steps, {trainer.epoch} epochs in {seconds:.2f} s "
        f"({trainer.step_count / max(seconds, 1e-9):.0f} steps/s)"
    )
    for r in trainer.runs:
        rows = [m for m in trainer.metrics if m["run"] == r.name and not math.isnan(m["val_loss"])]
        label = f"{r.name} ({'BN' if r.net.batchnorm else 'no BN'})"
        if r.diverged_step is not None:
            print(f"  {label}: DIVERGED at step {r.diverged_step} ({r.message})")
        if rows:
            best = min(rows, key=lambda m: m["val_loss"])
            last = rows[-1]
            print(
                f"  {label}: final val loss {last['val_loss']:.4f} acc {last['val_acc']:.3f}; "
                f"best val loss {best['val_loss']:.4f} at step {best['step']}"
            )
        if r.diverged_step is None:
            print(f"  {label}: {calibration_line(r.net, trainer.data)}")


def calibration_line(net: MLP, data: Dataset) -> str:
    """ECE (15 bins) and the temperature T fitted on the validation set, with the ECE after."""
    import numpy as np

    from bnviz.lessons.calibration import calibrate

    if len(data.y_val) == 0:
        return "no validation set: no calibration"
    with np.errstate(all="ignore"):
        logits = net.logits(np.asarray(data.X_val, np.float32))
    if not np.isfinite(logits).all():
        return "non-finite logits: no calibration"
    c = calibrate("", net.batchnorm, 0, logits, data.y_val)
    return (
        f"ECE {c.before.ece:.3f} (15 bins); fitted T {c.temperature:.3g} "
        f"-> ECE {c.after.ece:.3f}, val NLL {c.nll_before:.4f} -> {c.nll_after:.4f}"
    )
