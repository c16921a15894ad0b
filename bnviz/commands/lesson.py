"""``bnviz lesson``: a lesson's claim measured with no window, over seeds, with its interval.

``bnviz lesson --list`` names the lessons (``NAME  Title``, the names ``bnviz --lesson`` takes);
``bnviz lesson NAME`` runs that lesson's BN-vs-plain experiment over ``--seeds K`` seeds in worker
processes, on the lesson's own preset unless training flags (which override it), ``--preset`` or
``--settings`` say otherwise: a table on stdout (``--json``: one object), progress on stderr.
The lessons without a BN/plain pair (inside-a-bn-unit, babysitting-signals) print their own
measures. Ctrl-C stops it (exit 130).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bnviz.lessons.catalog import LessonInfo
    from bnviz.train.config import TrainConfig
    from bnviz.train.evidence import Evidence

DEFAULT_SEEDS = 3
EXIT_CANCELLED = 130  # what a shell reports for Ctrl-C


def add_parser(sub: Any) -> None:  # argparse's private _SubParsersAction
    from bnviz.cli import add_training_flags, int_at_least

    p = sub.add_parser(
        "lesson",
        help="measure a lesson's claim over seeds, with its interval (no window)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="the lesson (see --list)")
    p.add_argument("--list", action="store_true", help="list the lessons: NAME  Title")
    g = p.add_argument_group("experiment")
    g.add_argument("--seeds", type=int_at_least(1), default=DEFAULT_SEEDS, metavar="K",
                   help=f"seeds: the setting's seed and the next K - 1 (default "
                   f"{DEFAULT_SEEDS})")  # fmt: skip
    g.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    g.add_argument("--workers", type=int_at_least(1), metavar="K",
                   help="worker processes (default: one per core; 1: in-process)")  # fmt: skip
    g.add_argument("--preset", metavar="NAME",
                   help="start from this preset (a name or FILE.json) instead of the lesson's "
                   "own; training flags override it")  # fmt: skip
    g.add_argument("--steps", type=int_at_least(1), metavar="N",
                   help="training steps per seed (loss-landscape, covariate-shift, "
                   "bn-at-test-time; first-minute: the most it waits)")  # fmt: skip
    g.add_argument("--epochs", type=int_at_least(1), metavar="N",
                   help="epochs per training (mini-batch-noise, "
                   "bn-makes-the-search-easier)")  # fmt: skip
    g.add_argument("--points", type=int_at_least(1), metavar="N",
                   help="sampled points per seed (bn-makes-the-search-easier)")  # fmt: skip
    add_training_flags(p)
    p.set_defaults(run=run, subparser=p)


# name -> (module, function, {flag: keyword}) of each experiment; imported when run
EXPERIMENTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "loss-landscape": ("bnviz.lessons.seeded", "landscape_evidence", {"steps": "steps"}),
    "covariate-shift": ("bnviz.lessons.seeded", "covariate_shift_evidence", {"steps": "steps"}),
    "mini-batch-noise": ("bnviz.lessons.batch_noise_evidence", "batch_noise_evidence",
                         {"epochs": "epochs"}),
    "bn-at-test-time": ("bnviz.lessons.test_time_evidence", "test_time_evidence",
                        {"steps": "steps"}),
    "first-minute": ("bnviz.lessons.first_minute", "first_minute_evidence",
                     {"steps": "max_steps"}),
    "bn-makes-the-search-easier": ("bnviz.search.paired", "easier_search_evidence",
                                   {"epochs": "epochs", "points": "n"}),
    "learning-rate-range-test": ("bnviz.lessons.lr_range_evidence", "lr_range_evidence",
                                 {"steps": "num_it"}),
}  # fmt: skip
OWN_MEASURES = {"inside-a-bn-unit": "unit_checks", "babysitting-signals": "babysitting_signals",
                "are-the-probabilities-right": "calibration_measures"}  # fmt: skip
OPTIONS = ("steps", "epochs", "points")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bnviz.lessons.catalog import LESSONS, find_lesson_info

    if args.list:
        if args.name is not None:
            parser.error("--list takes no lesson name")
        for entry in LESSONS:
            print(f"{entry.name}  {entry.title}")  # exactly two spaces: scripts split on them
        return 0
    names = ", ".join(i.name for i in LESSONS)
    if args.name is None:
        parser.error(f"name a lesson: {names} (or --list)")
    info = find_lesson_info(args.name)
    if info is None:
        parser.error(f"no lesson named {args.name!r}; choose {names}")
    config = lesson_config(args, info, parser)
    try:
        if info.name in OWN_MEASURES:
            return print_own_measures(args, info, config, parser)
        return run_experiment(args, info.name, config, parser)
    except KeyboardInterrupt:
        end_progress = "\n" if sys.stderr.isatty() else ""  # a progress line may be open
        sys.stderr.write(f"{end_progress}bnviz lesson: {info.name} cancelled\n")
        return EXIT_CANCELLED


def lesson_config(
    args: argparse.Namespace, info: LessonInfo, parser: argparse.ArgumentParser
) -> TrainConfig:
    """The setting: the lesson's own preset (``--preset``'s, ``--settings``', or the default
    when the lesson has none), overridden by the training flags given; exit 2 if bad."""
    from bnviz.cli import config_from_args
    from bnviz.lessons.presets import load_preset
    from bnviz.train.config import ConfigError, TrainConfig

    if args.preset is not None and args.settings is not None:
        parser.error("--preset and --settings: choose one (a preset is a settings file)")
    try:
        if args.settings is not None:
            base = None  # config_from_args reads it
        elif args.preset is not None:
            base = load_preset(args.preset).config
        else:
            base = load_preset(info.preset).config if info.preset else TrainConfig()
        return config_from_args(args, base=base)
    except ConfigError as e:
        flag = "--preset: " if args.preset is not None else ""
        parser.error(f"{flag}{e}")


def _options(
    args: argparse.Namespace, name: str, keywords: dict[str, str], parser: argparse.ArgumentParser
) -> dict:
    out = {}
    for flag in OPTIONS:
        value = getattr(args, flag)
        if value is None:
            continue
        if flag not in keywords:
            parser.error(f"--{flag} does not apply to {name}")
        out[keywords[flag]] = value
    return out


def run_experiment(
    args: argparse.Namespace, name: str, config: TrainConfig, parser: argparse.ArgumentParser
) -> int:
    """Run the experiment in worker processes; print its table or JSON."""
    import importlib

    from bnviz.search.executors import SweepError, make_executor
    from bnviz.train.config import ConfigError
    from bnviz.train.jobs import Cancelled

    module, function, keywords = EXPERIMENTS[name]
    options = _options(args, name, keywords, parser)
    experiment: Callable[..., Any] = getattr(importlib.import_module(module), function)
    seeds = [config.seed + i for i in range(args.seeds)]
    executor = make_executor(args.workers)
    header = [f"bnviz lesson {name}: {args.seeds} seed(s) on {executor.description}"]

    def progress(line: str) -> None:
        if header:  # said with the first result, so a refused setting stays one line
            _progress(header.pop())
        _progress(line)

    closed = False
    try:
        evidence = experiment(config, seeds, executor=executor, progress=progress, **options)
    except (ConfigError, SweepError) as e:
        parser.error(str(e))
    except (KeyboardInterrupt, Cancelled):
        executor.close(wait=False)
        closed = True
        raise KeyboardInterrupt from None
    finally:
        if not closed:
            executor.close()
    if args.json:
        json.dump(evidence.to_json(), sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(format_evidence(evidence))
    return 0


_DONE = re.compile(r"\((\d+)/(\d+)\)$")
SHOWN_STEPS = 10  # a long run's progress: about this many lines (a terminal gets every one)


def _progress(line: str) -> None:
    """A job's progress line on stderr: every one on a terminal (rewritten in place), else
    about :data:`SHOWN_STEPS` of them (a log of 180 trials need not hold 180 lines)."""
    m = _DONE.search(line)
    done, total = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{line}\x1b[K" + ("\n" if done == total else ""))
    elif total <= 2 * SHOWN_STEPS or done == total or done % math.ceil(total / SHOWN_STEPS) == 0:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.4g}"


def format_evidence(ev: Evidence) -> str:
    """The table of ``bnviz lesson NAME``: claim, measure, every seed, means with intervals,
    the paired difference and the verdict."""
    side = "larger" if ev.direction > 0 else "smaller"
    lines = [f"{ev.lesson}", f"claim:   {ev.claim}", f"measure: {ev.measure}", "",
             f"{'seed':>6} {'BN':>11} {'plain':>11} {'BN - plain':>11}"]  # fmt: skip
    for r in ev.per_seed:
        lines.append(f"{r.seed:>6} {_num(r.bn):>11} {_num(r.plain):>11} "
                     f"{_num(r.bn - r.plain):>11}")  # fmt: skip
    lines.append("")
    for label, est in (("BN", ev.bn), ("plain", ev.plain), ("BN - plain", ev.difference)):
        lo, hi = est.ci95
        shown = f"[{_num(lo)}, {_num(hi)}]" if math.isfinite(lo) or math.isfinite(hi) else "none"
        lines.append(f"{label:>10}: mean {_num(est.mean)}, 95% interval {shown}")
    lines.append(f"interval: {ev.interval}")
    lines.append(f"verdict: {ev.verdict} (the claim: BN's measure is {side})")
    return "\n".join(lines)


def print_own_measures(
    args: argparse.Namespace, info: LessonInfo, config: TrainConfig, parser: argparse.ArgumentParser
) -> int:
    """inside-a-bn-unit and babysitting-signals: their own measures on the setting, exit 0."""
    from bnviz.lessons import own_measures
    from bnviz.train.config import ConfigError
    from bnviz.train.evidence import json_safe

    if args.seeds != DEFAULT_SEEDS:
        parser.error(f"{info.name} has no BN/plain pair to compare over seeds: no --seeds")
    options = _options(args, info.name, {"steps": "steps"}, parser)
    try:
        found = getattr(own_measures, OWN_MEASURES[info.name])(config, **options)
    except ConfigError as e:
        parser.error(str(e))
    out = json_safe({"lesson": info.name, "claim": info.claim, "setting": config.to_dict(),
                     **found})  # fmt: skip
    if args.json:
        json.dump(out, sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    when = found["steps"] if found.get("diverged_step") is None else found["diverged_step"]
    gone = (
        ""
        if found.get("diverged_step") is None
        else " (it diverged there: the last reading before)"
    )
    print(f"{info.name}\nclaim:   {info.claim}\nafter {when} training steps{gone}:")
    if "networks" in found:  # are-the-probabilities-right
        print(f"{'network':<10}  {'accuracy':>8}  {'ECE':>6}  {'fitted T':>8}  {'ECE at T':>8}  "
              f"{'NLL':>7}  {'NLL at T':>8}")  # fmt: skip
        for n in found["networks"]:
            print(f"{n['run']:<10}  {n['accuracy']:>8.3f}  {n['ece']:>6.3f}  "
                  f"{n['temperature']:>8.3g}  {n['ece_at_t']:>8.3f}  {n['nll']:>7.4f}  "
                  f"{n['nll_at_t']:>8.4f}")  # fmt: skip
    elif "checks" in found:
        print(f"{'layer':>5}  {'largest error':>13}  {'relative to':>11}  ok  identity")
        for c in found["checks"]:
            print(f"{c['layer']:>5}  {c['error']:>13.3g}  {c['scale']:>11.3g}  "
                  f"{'yes' if c['ok'] else 'NO':<3} {c['check']}")  # fmt: skip
        print(f"every identity holds to {found['tolerance']:g} (relative): "
              f"{'yes' if found['ok'] else 'NO'}")  # fmt: skip
    else:
        judged = "layer_ratio" in found["layers"][0]  # the revised rule judges W, b, gamma, beta
        print(f"{'layer':>5}  {'||dW||':>9}  {'||W||':>9}  {'||update||':>10}  {'ratio':>9}  "
              + (f"{'all params':>10}  " if judged else "") + "verdict")  # fmt: skip
        for r in found["layers"]:
            mid = f"{r['layer_ratio']:>10.3g}  " if judged else ""
            print(f"{r['layer']:>5}  {r['grad_norm']:>9.3g}  {r['weight_norm']:>9.3g}  "
                  f"{r['update_norm']:>10.3g}  {r['ratio']:>9.3g}  {mid}"
                  f"{r['verdict']}")  # fmt: skip
    return 0
