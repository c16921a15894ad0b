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
import os
import sys
import warnings
from typing import TYPE_CHECKING, Any, TextIO

from bnviz.commands.sweep_report import _complete, _failed, _finite, print_rechecks, print_table

if TYPE_CHECKING:  # imported where used, so that --help starts fast
    from bnviz.search.executors import ExecutorHandle
    from bnviz.search.spaces import Space
    from bnviz.search.study import Study, TrialRecord
    from bnviz.search.sweep import Sweep
    from bnviz.train.config import TrainConfig

DEFAULT_TRIALS = 16
DEFAULT_ETA = 3  # as bnviz.search.hyperband's (not imported here: --help stays light)
DEFAULT_EPOCHS = 20  # about 140 steps on spirals: enough to tell good lr from bad
DEFAULT_OPTIMIZER = "momentum"  # so that the default beta space matters
EXIT_CANCELLED = 130  # what a shell reports for Ctrl-C
EXIT_FAILED = 1  # every trial of the round raised


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bnviz.cli import add_training_flags, int_at_least, run_param, seconds
    from bnviz.train.config import SAMPLED
    from bnviz.train.params import MAX_EPOCHS, MAX_TRIALS, WORKERS_PER_CORE

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
        nargs: dict[str, Any] = {"nargs": "?", "const": "true"} if name == "bn" else {}
        flag = "--" + name.replace("_", "-")
        g.add_argument(flag, dest=f"space_{name}", metavar="SPACE", help=sampled.help, **nargs)
    g = p.add_argument_group("sweep")
    g.add_argument("--trials", type=run_param("trials"), metavar="N",
                   help=f"trials (default {DEFAULT_TRIALS}; 0: report only; at most "
                   f"{MAX_TRIALS:,}, generated as they start)")  # fmt: skip
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
    g.add_argument("--recheck", type=run_param("recheck"), metavar="K",
                   help="re-run the study's best K trials with their values under today's fixed "
                   "settings (--seed, --epochs, --dataset...), as a new round")  # fmt: skip
    g.add_argument("--export-optuna", metavar="STORAGE_URL",
                   help="write the study into an Optuna storage (sqlite:///optuna.db) as a study "
                   "named after the study file; needs pip install 'bnviz[optuna]'")  # fmt: skip
    g.add_argument("--pair-bn", action="store_true",
                   help="train every sampled point twice, with batch norm and without (same "
                   "values, same seed): 2 x --trials trials ('bn' in params)")  # fmt: skip
    g.add_argument("--grid", action="store_true", help="a grid instead of random sampling")
    g.add_argument("--epochs", type=run_param("epochs"), default=DEFAULT_EPOCHS,
                   help=f"each trial's budget (default {DEFAULT_EPOCHS}; at most "
                   f"{MAX_EPOCHS:,})")  # fmt: skip
    g.add_argument("--workers", type=run_param("workers"), metavar="K",
                   help=f"local worker processes (default: one per core; never more than the "
                   f"trials or {WORKERS_PER_CORE} per core)")  # fmt: skip
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run trials on a Dask cluster (tcp://host:8786, or 'local')")  # fmt: skip
    g.add_argument("--timeout", type=seconds, metavar="SECONDS",
                   help="with --scheduler: stop the round when the cluster has had no worker "
                   "for SECONDS (default: keep waiting, saying so)")  # fmt: skip
    g.add_argument("--study", metavar="FILE", help="study file (default: sweep.sqlite in the "
                   "user data folder); an existing one gets a new round")  # fmt: skip
    g.add_argument("--json", action="store_true", help="print the study as JSON on stdout")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run, subparser=p)


def with_importance(report: dict, study: Study) -> dict:
    """``report`` with the study's ``"importance"`` object (``study_importance``: |rank
    correlation| with its bootstrap interval, fANOVA where Optuna is installed, the course's
    rank), added last so the keys before it keep their place."""
    from bnviz.search.importance_report import study_importance

    return {**report, "importance": study_importance(study.trials(), study.rounds())}


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bnviz.search.study import Study, StudyError, default_study_dir
    from bnviz.search.sweep import SweepError, make_executor, sweep_json

    check_combination(args, parser)
    if args.plan:
        return print_plan(args)
    path = args.study or str(default_study_dir() / "sweep.sqlite")
    if args.trials == 0 and not args.recheck and not os.path.exists(path):
        parser.error(f"{path}: no such study (run a sweep first)")
    existed = os.path.exists(path)
    try:
        study = Study(path)
    except StudyError as e:
        parser.error(str(e))
    status = 0
    with study:
        if args.trials > 0 or args.recheck:
            try:
                study.check_writable()  # before a worker starts, not at the first result
                sweep = build_recheck(args, study) if args.recheck else build_sweep(args, study)
                sweep.check()  # configs validated before any worker starts
                check_data(sweep.base)
                executor = make_executor(workers_for(args, sweep.n_trials), args.scheduler)
            except (SweepError, StudyError) as e:
                if not existed:  # a refused first round leaves no empty study behind
                    study.close()
                    remove_study(path)
                parser.error(str(e))
            if args.recheck:
                note_recheck(sweep, args.recheck)
            with executor, warnings.catch_warnings():
                warnings.showwarning = _one_line_warning
                cancelled, stopped = run_with_progress(sweep, executor, args)
            failed = [t for t in study.trials(sweep.round_id) if _failed(t)]
            if stopped or (failed and len(failed) == sweep.n_trials):
                if not stopped:
                    sys.stderr.write("bnviz sweep: every trial of this round failed (see above)\n")
                status = EXIT_FAILED
        if (args.trials > 0 or args.recheck) and sweep.recheck_of and not args.json:
            assert sweep.round_id is not None  # the round ran
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


def remove_study(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except OSError:
            pass


def check_data(base: TrainConfig) -> None:
    """Load a data file once here, so a bad one is one line before the round, not one failed
    trial per sample. Raises SweepError."""
    from bnviz.data import BUILTIN_DATASETS, DataError
    from bnviz.search.sweep import SweepError
    from bnviz.train.trainer import load_data

    if base.dataset.strip().lower() in BUILTIN_DATASETS:
        return
    try:
        load_data(base)
    except DataError as e:
        raise SweepError(f"--dataset: {e}") from None


def workers_for(args: argparse.Namespace, trials: int) -> int:
    """The processes to start (:func:`~bnviz.search.executors.worker_count`); says so when
    that is fewer than ``--workers`` asked for."""
    from bnviz.search.executors import worker_count
    from bnviz.train.params import WORKERS_PER_CORE

    n = worker_count(args.workers, trials)
    if args.workers is not None and n < args.workers and not args.quiet:
        cores = os.cpu_count() or 1
        sys.stderr.write(
            f"bnviz sweep: --workers {args.workers}: starting {n} (never more than the {trials} "
            f"trials or {WORKERS_PER_CORE} per core, {cores} cores)\n"
        )
    return n


#: Why --pair-bn and --repeats are refused together (README says the same).
PAIR_AND_REPEATS = (
    "--repeats with --pair-bn: a pair compares BN with plain on one point and one training seed; "
    "for that comparison over seeds run `bnviz lesson bn-makes-the-search-easier --seeds K` (each "
    "seed its own paired round, its interval over points and seeds)"
)


def check_combination(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
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
    if args.timeout is not None and not args.scheduler:
        parser.error("--timeout SECONDS is how long a Dask round waits for workers: give "
                     "--scheduler too")  # fmt: skip
    if args.trials is None:
        args.trials = 0 if args.recheck or args.export_optuna else DEFAULT_TRIALS
    if args.export_optuna and not optuna_available():
        parser.error(OPTUNA_HINT)


def export_optuna(study: Study, storage: str, parser: argparse.ArgumentParser) -> int:
    """Write the study into the Optuna storage; say where on stderr (stdout may be JSON)."""
    from bnviz.search.optuna_export import ExportError, export_study

    try:
        name = export_study(study, storage)
    except ExportError as e:
        parser.error(str(e))
    n = len(study.trials())
    sys.stderr.write(f"exported {n} trials to the Optuna study {name!r} in {storage}\n")
    return 0


def base_config(args: argparse.Namespace, study: Study) -> TrainConfig:
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


def build_recheck(args: argparse.Namespace, study: Study) -> Sweep:
    """The round that re-runs the study's best ``--recheck`` trials under today's settings."""
    from dataclasses import replace

    from bnviz.search.sweep import Sweep, SweepError
    from bnviz.train.config import ConfigError

    try:
        base = replace(base_config(args, study), compare=False)
    except ConfigError as e:
        raise SweepError(str(e)) from None
    return Sweep.recheck(study, base, args.recheck, epochs=args.epochs, seed=base.seed)


def note_recheck(sweep: Sweep, asked: int) -> None:
    """Say when the study has fewer complete trials than ``--recheck`` asked for."""
    n = sweep.n_trials
    if n < asked:
        trials = "trial" if n == 1 else "trials"
        sys.stderr.write(f"bnviz sweep: the study has only {n} complete {trials} to re-check\n")


def build_sweep(args: argparse.Namespace, study: Study) -> Sweep:
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


def zoom_box(study: Study, spaces: list[Space]) -> dict | None:
    """The ranges of this round in axis units where they differ from the last round's."""
    rounds = study.rounds()
    if not rounds:
        return None
    previous = {s.name: s for s in rounds[-1]["spaces"]}
    box = {s.name: s.axis_range for s in spaces if s.name in previous and previous[s.name] != s}
    return box or None


def run_with_progress(
    sweep: Sweep, executor: ExecutorHandle, args: argparse.Namespace
) -> tuple[bool, bool]:
    """Run the round with a progress bar on stderr; Ctrl-C keeps what has finished.

    Returns (cancelled by the user, stopped: a Dask cluster lost its workers, or the study
    stopped taking trials)."""
    from bnviz.search.study import StudyError
    from bnviz.search.sweep import SweepError

    quiet = args.quiet
    total = sweep.n_trials
    done: list[TrialRecord] = []

    def show(record: TrialRecord) -> None:
        done.append(record)
        if quiet:
            return
        ok = [r for r in done if _complete(r) and _finite(r.val_loss)]
        losses = [r.val_loss for r in ok if r.val_loss is not None]  # all of ok: finite ones
        best = f"best val loss {min(losses):.4f}" if ok else "no result yet"
        bar = "#" * int(20 * len(done) / total)
        end = "\r" if sys.stderr.isatty() and len(done) < total else "\n"
        if end == "\n" or sys.stderr.isatty():
            sys.stderr.write(f"[{bar:<20}] {len(done)}/{total} trials  {best}{end}")
            sys.stderr.flush()

    if not quiet:
        sys.stderr.write(f"{describe(sweep)} on {executor.description}\n")

    def status(message: str) -> None:  # said even with --quiet: the round is stuck
        sys.stderr.write(f"bnviz sweep: {message}\n")
        sys.stderr.flush()

    try:
        sweep.run(executor, on_result=show, on_status=status, timeout=args.timeout)
    except KeyboardInterrupt:
        sys.stderr.write(f"\ncancelled: {len(done)} of {total} trials stored\n")
        executor.close(wait=False)
        return True, False
    except (SweepError, StudyError) as e:  # workers lost, or the study stopped taking trials
        sys.stderr.write(f"bnviz sweep: {e} ({len(done)} of {total} trials stored)\n")
        executor.close(wait=False)
        return False, True
    return False, False


def describe(sweep: Sweep) -> str:
    """The round in one line: how many trials of how many epochs, pruned or re-checked how."""
    from bnviz.search.halving import PRUNE_FACTOR, planned_epochs, rung_epochs

    n = sweep.n_trials
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


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(f"bnviz sweep: {message}\n")
