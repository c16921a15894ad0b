"""``bnviz sweep``: a round of hyperparameter search, stored in a study file.

Training flags fix what is not searched; space flags (``--lr 1e-4:1:log``) say what is sampled
and on which scale (a bare value fixes it). Running again on the same study appends a round:
narrower ranges are the zoom box of coarse-to-fine search. ``--trials 0`` only reports.
``--prune`` stops weak trials early (successive halving), ``--recheck K`` re-runs the best K
trials under today's settings, ``--export-optuna URL`` writes the study into an Optuna storage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections import Counter

DEFAULT_TRIALS = 16
DEFAULT_ETA = 3  # as bnviz.search.hyperband's (not imported here: --help stays light)
DEFAULT_EPOCHS = 20  # about 140 steps on spirals: enough to tell good lr from bad
DEFAULT_OPTIMIZER = "momentum"  # so that the default beta space matters
TOP_SHOWN = 10
EXIT_CANCELLED = 130  # what a shell reports for Ctrl-C
EXIT_FAILED = 1  # every trial of the round raised


def add_parser(sub) -> None:
    from bnviz.cli import add_training_flags, int_at_least
    from bnviz.train.config import SAMPLED

    p = sub.add_parser(
        "sweep",
        help="hyperparameter search in parallel worker processes (no window)",
        description=__doc__.splitlines()[0],
    )
    # A sampled setting's flag takes a space (or a bare value) instead of a plain value;
    # --hidden stays a fixed setting beside the --width and --layers spaces.
    replaced = {field for field, _ in SAMPLED.values() if field != "hidden"}
    # A sweep trains single networks: no compare flags (a paired round is --pair-bn).
    add_training_flags(
        p, sampled=frozenset({*replaced, "compare", "compare_setting", "compare_value"})
    )
    g = p.add_argument_group("search spaces (min:max:kind with kind log, 1m, int, pow2, linear)")
    for name, (_, sampled) in SAMPLED.items():
        nargs = {"nargs": "?", "const": "true"} if name == "bn" else {}
        flag = "--" + name.replace("_", "-")
        g.add_argument(flag, dest=f"space_{name}", metavar="SPACE", help=sampled.help, **nargs)
    g = p.add_argument_group("sweep")
    g.add_argument("--trials", type=int_at_least(0), metavar="N",
                   help=f"trials (default {DEFAULT_TRIALS}; 0: report only)")  # fmt: skip
    g.add_argument("--prune", action="store_true",
                   help="successive halving: compare the trials at 1/9 and 1/3 of --epochs and "
                   "stop all but the best third each time (state pruned)")  # fmt: skip
    g.add_argument(
        "--hyperband",
        action="store_true",
        help="Hyperband (Li et al. 2018): successive halving in brackets, from many "
        "trials cut at 1 epoch to a few trained to --epochs uncut; sets the trials",
    )
    g.add_argument(
        "--eta",
        type=int_at_least(2),
        default=DEFAULT_ETA,
        help=f"with --hyperband: 1 in ETA trials goes on at each rung (default {DEFAULT_ETA})",
    )
    g.add_argument("--plan", action="store_true",
                   help="with --hyperband: print the brackets (trials and epochs at each rung) "
                   "and exit; with --json as JSON")  # fmt: skip
    g.add_argument("--repeats", type=int_at_least(1), default=1, metavar="K",
                   help="train every sampled configuration with K seeds (--seed, --seed + 1, "
                   "...): groups judged by their mean (default 1)")  # fmt: skip
    g.add_argument("--recheck", type=int_at_least(1), metavar="K",
                   help="re-run the study's best K trials with their values under today's fixed "
                   "settings (--seed, --epochs, --dataset...), as a new round")  # fmt: skip
    g.add_argument("--export-optuna", metavar="STORAGE_URL",
                   help="write the study into an Optuna storage (sqlite:///optuna.db) as a study "
                   "named after the study file; needs pip install 'bnviz[optuna]'")  # fmt: skip
    g.add_argument("--pair-bn", action="store_true",
                   help="train every sampled point twice, with batch norm and without (same "
                   "values, same seed): 2 x --trials trials ('bn' in params)")  # fmt: skip
    g.add_argument("--grid", action="store_true", help="a grid instead of random sampling")
    g.add_argument("--epochs", type=int_at_least(1), default=DEFAULT_EPOCHS,
                   help=f"each trial's budget (default {DEFAULT_EPOCHS})")  # fmt: skip
    g.add_argument("--workers", type=int_at_least(1), metavar="K",
                   help="local worker processes (default: one per core)")  # fmt: skip
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run trials on a Dask cluster (tcp://host:8786, or 'local')")  # fmt: skip
    g.add_argument("--study", metavar="FILE", help="study file (default: sweep.sqlite in the "
                   "user data folder); an existing one gets a new round")  # fmt: skip
    g.add_argument("--json", action="store_true", help="print the study as JSON on stdout")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run, subparser=p)


def with_importance(report: dict, study) -> dict:
    """``report`` with the study's ``"importance"`` object (``study_importance``: |rank
    correlation| with its bootstrap interval, fANOVA where Optuna is installed, the course's
    rank), added last so the keys before it keep their place."""
    from bnviz.search.importance_report import study_importance

    return {**report, "importance": study_importance(study.trials(), study.rounds())}


def run(args: argparse.Namespace, parser) -> int:
    from bnviz.search.study import Study, StudyError, default_study_dir
    from bnviz.search.sweep import SweepError, make_executor, sweep_json

    check_combination(args, parser)
    if args.plan:
        return print_plan(args)
    path = args.study or str(default_study_dir() / "sweep.sqlite")
    if args.trials == 0 and not args.recheck and not os.path.exists(path):
        parser.error(f"{path}: no such study (run a sweep first)")
    try:
        study = Study(path)
    except StudyError as e:
        parser.error(str(e))
    status = 0
    with study:
        if args.trials > 0 or args.recheck:
            try:
                sweep = build_recheck(args, study) if args.recheck else build_sweep(args, study)
                sweep.specs()  # every config validated before any worker starts
                executor = make_executor(args.workers, args.scheduler)
            except SweepError as e:
                parser.error(str(e))
            with executor, warnings.catch_warnings():
                warnings.showwarning = _one_line_warning
                cancelled = run_with_progress(sweep, executor, quiet=args.quiet)
            failed = [t for t in study.trials(sweep.round_id) if _failed(t)]
            if failed and len(failed) == len(sweep.specs()):
                sys.stderr.write("bnviz sweep: every trial of this round failed (see above)\n")
                status = EXIT_FAILED
        if (args.trials > 0 or args.recheck) and sweep.recheck_of and not args.json:
            print_rechecks(study, sweep.round_id)
        if args.export_optuna:
            status = export_optuna(study, args.export_optuna, parser) or status
        if args.json:
            json.dump(with_importance(sweep_json(study), study), sys.stdout, indent=1,
                      allow_nan=False)  # fmt: skip
            sys.stdout.write("\n")
        else:
            print_table(study)
    return EXIT_CANCELLED if (args.trials > 0 or args.recheck) and cancelled else status


#: Why --pair-bn and --repeats are refused together (README says the same).
PAIR_AND_REPEATS = (
    "--repeats with --pair-bn: a pair compares BN with plain on one point and one training seed; "
    "for that comparison over seeds run `bnviz lesson bn-makes-the-search-easier --seeds K` (each "
    "seed its own paired round, its interval over points and seeds)"
)


def check_combination(args: argparse.Namespace, parser) -> None:
    """Refuse flags that contradict each other (exit 2); fill in the default --trials.

    Exporting or re-checking alone runs no sampled round unless --trials asks for one."""
    from bnviz.search.optuna_export import OPTUNA_HINT, optuna_available
    from bnviz.train.config import SAMPLED

    if args.plan and not args.hyperband:
        parser.error("--plan shows Hyperband's brackets: add --hyperband")
    if args.eta != DEFAULT_ETA and not args.hyperband:
        parser.error("--eta is Hyperband's reduction factor: add --hyperband")
    if args.repeats > 1:
        if args.pair_bn:
            parser.error(PAIR_AND_REPEATS)
        for flag, given in (("--prune", args.prune), ("--hyperband", args.hyperband),
                            ("--recheck", args.recheck)):  # fmt: skip
            if given:
                parser.error(f"--repeats trains every configuration to the end: no {flag}")
    if args.hyperband:
        for flag, given in (("--trials", args.trials is not None), ("--prune", args.prune),
                            ("--recheck", args.recheck), ("--grid", args.grid),
                            ("--pair-bn", args.pair_bn)):  # fmt: skip
            if given:
                parser.error(f"--hyperband sets its trials from --epochs and --eta: no {flag}")
        from bnviz.search.hyperband import plan

        args.trials = sum(b.n for b in plan(args.epochs, args.eta))
    if args.recheck:
        if args.trials is not None:
            parser.error("--recheck K runs K trials: leave out --trials")
        spaces = [n for n in SAMPLED if getattr(args, f"space_{n}") is not None]
        if spaces:
            flag = "--" + spaces[0].replace("_", "-")
            parser.error(f"--recheck repeats the trials' own values: leave out {flag}")
        for flag, given in (("--prune", args.prune), ("--grid", args.grid),
                            ("--pair-bn", args.pair_bn)):  # fmt: skip
            if given:
                parser.error(f"--recheck runs every trial to the end with its values: no {flag}")
    if args.trials is None:
        args.trials = 0 if args.recheck or args.export_optuna else DEFAULT_TRIALS
    if args.export_optuna and not optuna_available():
        parser.error(OPTUNA_HINT)


def export_optuna(study, storage: str, parser) -> int:
    """Write the study into the Optuna storage; say where on stderr (stdout may be JSON)."""
    from bnviz.search.optuna_export import ExportError, export_study

    try:
        name = export_study(study, storage)
    except ExportError as e:
        parser.error(str(e))
    n = len(study.trials())
    sys.stderr.write(f"exported {n} trials to the Optuna study {name!r} in {storage}\n")
    return 0


def base_config(args: argparse.Namespace, study):
    """The round's fixed settings: the study's first round's (or --settings), overridden by
    flags. Raises ConfigError."""
    from bnviz.cli import config_from_args
    from bnviz.train.config import TrainConfig

    stored = study.get_meta("config")
    if args.settings:
        base = TrainConfig.load(args.settings)
    elif stored is not None:
        base = TrainConfig.from_dict(stored)
    else:
        base = TrainConfig(optimizer=DEFAULT_OPTIMIZER)
    return config_from_args(args, base)


def build_recheck(args: argparse.Namespace, study):
    """The round that re-runs the study's best ``--recheck`` trials under today's settings."""
    from dataclasses import replace

    from bnviz.search.sweep import Sweep, SweepError
    from bnviz.train.config import ConfigError

    try:
        base = replace(base_config(args, study), compare=False)
    except ConfigError as e:
        raise SweepError(str(e)) from None
    sweep = Sweep.recheck(study, base, args.recheck, epochs=args.epochs, seed=base.seed)
    n = len(sweep.specs())
    if n < args.recheck:
        trials = "trial" if n == 1 else "trials"
        sys.stderr.write(f"bnviz sweep: the study has only {n} complete {trials} to re-check\n")
    return sweep


def build_sweep(args: argparse.Namespace, study):
    """The round's Sweep: fixed settings from the study's first round, overridden by flags."""
    from dataclasses import replace

    from bnviz.search.relevance import searchable
    from bnviz.search.spaces import DEFAULT_SPACES, SpaceError, idle_axes, parse_space
    from bnviz.search.sweep import Sweep, SweepError, apply_params
    from bnviz.train.config import SAMPLED, ConfigError

    try:
        base = base_config(args, study)
        spaces = []
        for name in SAMPLED:
            text = getattr(args, f"space_{name}")
            if text is not None:
                spaces.append(parse_space(name, text))
        if args.batchnorm is False and args.space_bn is not None:
            raise SweepError("--no-bn and --bn contradict each other")
        if args.pair_bn and (args.space_bn is not None or args.batchnorm is not None):
            flag = "--bn" if args.space_bn is not None else "--no-bn"
            raise SweepError(f"--pair-bn trains every point with and without BN: leave out {flag}")
        fixed = {s.name: s.value for s in spaces if s.kind == "fixed"}
        base = replace(apply_params(base, fixed), compare=False)
        spaces = [s for s in spaces if s.kind != "fixed"]
        idle = idle_axes(base, spaces)
        if idle:
            name, why = next(iter(idle.items()))
            raise SweepError(f"--{name.replace('_', '-')}: {why}; sample it with one that uses it")
        if args.pair_bn:  # BN is the pairing, so its idle settings are judged with BN on
            base = replace(base, batchnorm=True)
        if not spaces:
            skip = {*fixed, *(("bn",) if args.pair_bn else ())}
            spaces = [s for n, s in DEFAULT_SPACES.items() if n not in skip]
            spaces, idle = searchable(base, spaces)  # e.g. no beta for plain SGD
            for name, why in idle.items():
                sys.stderr.write(f"bnviz sweep: not sampling {name}: {why}\n")
    except (ConfigError, SpaceError) as e:
        raise SweepError(str(e)) from None
    box = zoom_box(study, spaces)
    seed = base.seed + len(study.rounds())  # a repeated round samples new points
    method = "grid" if args.grid else "random"
    return Sweep(study, base, spaces, n=args.trials, method=method, seed=seed,
                 epochs=args.epochs, box=box, prune=args.prune, pair_bn=args.pair_bn,
                 hyperband=args.hyperband, eta=args.eta, repeats=args.repeats)  # fmt: skip


def print_plan(args: argparse.Namespace) -> int:
    """``--hyperband --plan``: the brackets, as a table or (``--json``) as JSON; no study."""
    from bnviz.search.hyperband import plan, plan_json

    brackets = plan(args.epochs, args.eta)
    if args.json:
        json.dump(plan_json(brackets), sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"Hyperband, R = {args.epochs} epochs, eta = {args.eta}: "
          f"{sum(b.n for b in brackets)} trials, at most {sum(b.epochs for b in brackets)} "
          "epochs of training")  # fmt: skip
    for b in brackets:
        rungs = "  ".join(f"{n} x {r}" for n, r in b.rungs)
        print(f"  bracket s={b.s}: {rungs}  (trials x epochs at each rung)")
    return 0


def zoom_box(study, spaces) -> dict | None:
    """The ranges of this round in axis units where they differ from the last round's."""
    rounds = study.rounds()
    if not rounds:
        return None
    previous = {s.name: s for s in rounds[-1]["spaces"]}
    box = {s.name: s.axis_range for s in spaces if s.name in previous and previous[s.name] != s}
    return box or None


def run_with_progress(sweep, executor, quiet: bool) -> bool:
    """Run the round with a progress bar on stderr; Ctrl-C keeps what has finished.

    Returns True if the user cancelled."""
    total = len(sweep.specs())
    done: list = []

    def show(record) -> None:
        done.append(record)
        if quiet:
            return
        ok = [r for r in done if _complete(r) and _finite(r.val_loss)]
        best = f"best val loss {min(r.val_loss for r in ok):.4f}" if ok else "no result yet"
        bar = "#" * int(20 * len(done) / total)
        end = "\r" if sys.stderr.isatty() and len(done) < total else "\n"
        if end == "\n" or sys.stderr.isatty():
            sys.stderr.write(f"[{bar:<20}] {len(done)}/{total} trials  {best}{end}")
            sys.stderr.flush()

    if not quiet:
        sys.stderr.write(f"{describe(sweep)} on {executor.description}\n")
    try:
        sweep.run(executor, on_result=show)
    except KeyboardInterrupt:
        sys.stderr.write(f"\ncancelled: {len(done)} of {total} trials stored\n")
        executor.close(wait=False)
        return True
    return False


def describe(sweep) -> str:
    """The round in one line: how many trials of how many epochs, pruned or re-checked how."""
    from bnviz.search.halving import PRUNE_FACTOR, planned_epochs, rung_epochs

    n = len(sweep.specs())
    text = f"{n} trials of {sweep.epochs} epochs"
    if sweep.repeats > 1:
        text += f" ({n // sweep.repeats} configurations x {sweep.repeats} seeds)"
    if sweep.hyperband:
        most = sum(b.epochs for b in sweep.brackets)
        return (f"{text}, Hyperband in {len(sweep.brackets)} brackets (eta {sweep.eta}; at most "
                f"{most} of {n * sweep.epochs} epochs)")  # fmt: skip
    if sweep.recheck_of is not None:
        ids = ", ".join(map(str, sweep.recheck_of))
        return f"re-checking trial{'s' if n > 1 else ''} {ids}: {text}"
    if not sweep.prune:
        return text
    rungs = rung_epochs(sweep.epochs)[:-1]
    if not rungs:
        return f"{text} (--prune: too few epochs for a rung, nothing is pruned)"
    at = ", ".join(map(str, rungs))
    most = planned_epochs(n, sweep.epochs)
    return (f"{text}, successive halving at epochs {at} (1 in {PRUNE_FACTOR} goes on; at most "
            f"{most} of {n * sweep.epochs} epochs)")  # fmt: skip


def _failed(t) -> bool:
    """A trial whose worker raised: no result, only its reason (``t.error``)."""
    from bnviz.search.study import TrialState

    return t.state is TrialState.FAILED


def _complete(t) -> bool:
    from bnviz.search.study import TrialState

    return t.state is TrialState.COMPLETE


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"bnviz sweep: {message}\n")


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def print_table(study) -> None:
    """The best complete trials by validation loss; the others (by state) at the bottom,
    then why each shown failed trial failed."""
    trials = study.trials()
    print(f"{study.path}: {len(trials)} trials in {len(study.rounds())} round(s)")
    ok = sorted((t for t in trials if _complete(t) and _finite(t.val_loss)),
                key=lambda t: (t.val_loss, t.id))  # fmt: skip
    bad = [t for t in trials if t not in ok]
    shown = ok[:TOP_SHOWN] + bad[: max(1, TOP_SHOWN - len(ok)) if bad else 0]
    names = list(dict.fromkeys(k for t in shown for k in t.params))
    print(f"{'id':>4} {'round':>5} " + " ".join(f"{n:>10}" for n in names)
          + f" {'val loss':>9} {'val acc':>7} {'seconds':>7}")  # fmt: skip
    for t in shown:
        values = " ".join(f"{_cell(t.params.get(n)):>10}" for n in names)
        state = "no loss" if _complete(t) else t.state.value  # complete: a non-finite loss
        loss = f"{t.val_loss:9.4f} {t.val_acc:7.3f}" if t in ok else f"{state:>9} {'':>7}"
        print(f"{t.id:>4} {t.round:>5} {values} {loss} {t.seconds:7.2f}")
    if bad:
        counts = Counter(t.state.value for t in bad)
        parts = [f"{counts['diverged']} diverged"]
        parts += [f"{counts[s]} {s}" for s in ("failed", "pruned") if counts[s]]
        print(f"({', '.join(parts)} of {len(trials)} trials)")
    for t in shown:
        if _failed(t):
            print(f"trial {t.id} failed: {t.error}")


def print_rechecks(study, round_id: int) -> None:
    """Old vs new validation loss of each re-checked trial: did the ranking hold?"""
    by_id = {t.id: t for t in study.trials()}
    if any(t.group is not None for t in study.trials(round_id)):  # repeats: group means
        from bnviz.search.recheck import recheck_pairs

        print("re-checked (mean val loss over the seeds, then -> now):")
        for p in recheck_pairs(study.trials(), round_id):
            print(f"  group {p.now_id} repeats group {p.then_id}: {p.then_loss:.4f} -> "
                  f"{p.now_loss:.4f}")  # fmt: skip
        return
    print("re-checked (val loss then -> now):")
    for t in study.trials(round_id):
        old = by_id[t.recheck_of]
        now = f"{t.val_loss:.4f}" if t.state.value == "complete" else t.state.value
        print(f"  trial {t.id} repeats {old.id}: {old.val_loss:.4f} -> {now}")


def _cell(v) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
