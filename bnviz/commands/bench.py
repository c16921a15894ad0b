"""``bnviz bench``: training steps per second, NumPy against PyTorch, side by side.

Prints a table (``--json``: one JSON object); ``--quick`` is a smoke run in this process;
``--blas-compare`` adds 1 BLAS thread vs the library default, ``--snapshots`` the cost of taking
snapshots 30 times a second; ``--gui`` runs the GUI benchmark when it is installed;
``--first-minute`` how many steps the default setting needs with and without BN;
``--parcoords`` how long the explorer's parallel coordinates take to redraw 1,000 trials.
``--gui`` takes ``bnviz``'s training flags (``--dataset FILE``, ``--hidden``, ...) to measure the
window on that run; ``--make-bigdata DIR`` writes the two big files its targets name.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_USAGE = 2
WORKLOAD_OPTIMIZERS = ("adam", "momentum")  # what PyTorch is run with too


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bnviz.cli import add_training_flags, int_at_least, seconds

    p = sub.add_parser(
        "bench", help="measure training speed (no window)", description=__doc__.splitlines()[0]
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--quick", action="store_true", help="a fast smoke run, in this process")
    p.add_argument(
        "--workloads", default="W1,W2,W3", help="comma-separated subset of W1,W2,W3 (default all)"
    )
    p.add_argument(
        "--blas-threads",
        type=int_at_least(0),
        default=1,
        metavar="N",
        help="BLAS threads of the NumPy side (default 1; 0 = the BLAS library's default)",
    )
    p.add_argument(
        "--blas-compare",
        action="store_true",
        help="also compare 1 BLAS thread with the library default (fresh processes)",
    )
    p.add_argument(
        "--snapshots",
        action="store_true",
        help="also measure the cost of trainer.snapshot() every 1/30 s (single and compare)",
    )
    p.add_argument(
        "--sweep",
        action="store_true",
        help="also time 16 default sweep trials on 2 worker processes vs 1",
    )
    p.add_argument("--all", action="store_true", help="--blas-compare, --snapshots and --sweep")
    p.add_argument("--rounds", type=int_at_least(1), help="interleaved rounds (default 7)")
    p.add_argument("--seconds", type=seconds, help="seconds per round (default 0.25)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument(
        "--torch-flushed",
        action="store_true",
        help="also measure PyTorch with subnormals flushed to zero (torch.set_flush_denormal), "
        "as bnviz's trainer runs; the ratio column stays against PyTorch's default",
    )
    p.add_argument(
        "--gui",
        action="store_true",
        help="benchmark the GUI (bnviz.bench.gui_bench); the training flags below choose its run "
        "(default: compare mode, spirals, 64-64 ReLU, Adam)",
    )
    p.add_argument(
        "--session",
        action="store_true",
        help="with --gui: a scripted session (train, B, every lesson, a file's run, a search "
        "round, an export, classroom mode); the longest GUI-thread block per action. "
        "--dataset FILE names the file it opens (default: an MNIST-size file it writes)",
    )
    p.add_argument(
        "--gui-profile",
        metavar="FILE",
        help="with --gui: write cProfile statistics of the window's GUI thread to FILE",
    )
    p.add_argument(
        "--make-bigdata",
        metavar="DIR",
        help="write the MNIST-size .npz and the 1,000,000-row CSV the GUI targets are measured on",
    )
    p.add_argument(
        "--first-minute",
        action="store_true",
        help="steps the default setting needs to learn, with BN and without (3 seeds)",
    )
    p.add_argument(
        "--parcoords",
        action="store_true",
        help="redraw time of the explorer's parallel coordinates, 1,000 trials (target < 100 ms)",
    )
    # The training flags of ``bnviz`` (``--optimizer`` also picks the optimizer of the NumPy
    # vs PyTorch workloads: adam or momentum there).
    add_training_flags(p)
    p.set_defaults(run=run, subparser=p)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.make_bigdata:
        from bnviz.bench.bigdata import make_bigdata

        try:
            for path in make_bigdata(args.make_bigdata):
                print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        except OSError as e:  # a folder that cannot be made or written: one line, exit 2
            parser.error(f"--make-bigdata: {args.make_bigdata}: {e.strerror or e}")
        return 0
    if args.gui:
        return run_gui(args)
    if args.session:
        parser.error("--session is a GUI benchmark: add --gui")
    if args.parcoords:
        return run_parcoords(args)
    from bnviz.cli import training_flags_given

    if training_flags_given(argparse.Namespace(**{**vars(args), "optimizer": None})):
        parser.error("training flags (--dataset, --hidden, ...) choose the run of --gui only")
    if args.optimizer not in (None, *WORKLOAD_OPTIMIZERS):
        parser.error(f"--optimizer: the workloads run {' or '.join(WORKLOAD_OPTIMIZERS)} "
                     f"(any optimizer with --gui)")  # fmt: skip
    if args.first_minute:
        from bnviz.bench.first_minute import format_first_minute, measure

        found = measure(seeds=(0,) if args.quick else (0, 1, 2))
        print(json.dumps(found, indent=1) if args.json else format_first_minute(found))
        return 0
    from bnviz.bench.bench import BY_NAME, BenchOptions, run_bench

    names = tuple(n.strip().upper() for n in args.workloads.split(",") if n.strip())
    unknown = [n for n in names if n not in BY_NAME]
    if unknown or not names:
        parser.error(f"--workloads: unknown {', '.join(unknown) or 'empty list'}; use W1,W2,W3")
    opt = BenchOptions(
        workloads=names,
        optimizer=args.optimizer or WORKLOAD_OPTIMIZERS[0],
        rounds=args.rounds or (1 if args.quick else 7),
        seconds=args.seconds or (0.01 if args.quick else 0.25),
        blas_threads=args.blas_threads,
        blas_compare=args.blas_compare or args.all,
        snapshots=args.snapshots or args.all,
        fresh=not args.quick,
        with_torch=not args.no_torch,
        torch_flushed=args.torch_flushed,
    )
    progress = None if args.json else (lambda text: print(f"... {text}", file=sys.stderr))
    report = run_bench(opt, progress)
    if (args.sweep or args.all) and not args.quick:
        from bnviz.bench.sweep_bench import measure_sweep_speedup

        if progress:
            progress("sweep: 16 trials, 2 workers vs 1")
        report["sweep"] = measure_sweep_speedup()
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


def run_parcoords(args: argparse.Namespace) -> int:
    try:
        from bnviz.bench.parcoords_bench import format_parcoords, measure_parcoords

        found = measure_parcoords(repeats=3 if args.quick else 30)
    except ModuleNotFoundError as e:  # PySide6 or pyqtgraph missing
        print(f"bnviz bench --parcoords: needs {e.name}, which is not installed")
        return EXIT_USAGE
    print(json.dumps(found, indent=1) if args.json else format_parcoords(found))
    return 0


def run_gui(args: argparse.Namespace) -> int:
    if args.session:
        return run_session(args)
    try:
        from bnviz.bench.gui_bench import run_gui_bench
    except ModuleNotFoundError as e:
        if e.name in ("bnviz.bench.gui_bench", "bnviz.gui"):
            print("bnviz bench --gui: the GUI benchmark (bnviz.bench.gui_bench) is not available")
        else:  # PySide6 or pyqtgraph missing
            print(f"bnviz bench --gui: needs {e.name}, which is not installed")
        return EXIT_USAGE
    from bnviz.cli import config_from_args, training_flags_given
    from bnviz.train.config import ConfigError

    try:
        # the flags mean what they mean to ``bnviz``: on the app's defaults, not the bench's
        config = config_from_args(args) if training_flags_given(args) else None
    except ConfigError as e:
        args.subparser.error(str(e))
    return run_gui_bench(args, config)


def run_session(args: argparse.Namespace) -> int:
    """``--gui --session``: the session starts on the app's defaults; ``--dataset`` is the file
    it opens, the other training flags have no run to choose."""
    from bnviz.cli import training_flags_given

    if training_flags_given(argparse.Namespace(**{**vars(args), "dataset": None})):
        args.subparser.error("--session runs the app's defaults: of the training flags it takes "
                             "--dataset FILE only (the file it opens)")  # fmt: skip
    try:
        from bnviz.bench.session_bench import run_session_bench
    except ModuleNotFoundError as e:  # PySide6 or pyqtgraph missing
        print(f"bnviz bench --gui --session: needs {e.name}, which is not installed")
        return EXIT_USAGE
    return run_session_bench(args, args.dataset)


def _f(x: float | None, fmt: str = "{:,.0f}") -> str:
    return "-" if x is None else fmt.format(x)


def format_report(report: dict) -> str:
    """The report as plain-text tables."""
    s = report["settings"]
    lines = [
        f"float32, {s['optimizer']}, BLAS threads {s['blas_threads']}, "
        f"{'fresh process per workload' if s['fresh_processes'] else 'in this process (quick)'}, "
        f"{s['rounds']} interleaved rounds of {s['seconds_per_round']} s",
        f"PyTorch: {s['torch']}; subnormals flushed to zero: NumPy "
        f"{'yes' if s.get('subnormals_flushed') else 'no'}, PyTorch no (its default)",
        "",
        f"{'':4} {'BN':3} {'NumPy/s':>9} {'torch/s':>9} {'ratio':>6} {'target':>6} "
        f"{'BN +time':>9} {'torch BN':>9}  other CPU",
    ]
    for e in report["workloads"]:
        ok = {True: " ok", False: " MISS", None: ""}[e["meets_target"]]
        shared = " (shared)" if e["shared_cpu"] else ""
        lines.append(
            f"{e['name']:4} {'on' if e['bn'] else 'off':3} {_f(e['steps_per_s']):>9} "
            f"{_f(e['torch_steps_per_s']):>9} {_f(e['ratio_vs_torch'], '{:.2f}'):>6} "
            f"{'>=' + format(e['target_ratio'], 'g'):>6} "
            f"{_f(e['bn_extra_time_pct'], '{:+.0f}%'):>9} "
            f"{_f(e['torch_bn_extra_time_pct'], '{:+.0f}%'):>9}  "
            f"{_f(e['other_cpu'], '{:.2f}')}{shared}{ok}"
        )
    flushed = [e for e in report["workloads"] if e.get("ratio_vs_torch_flushed") is not None]
    if flushed:
        lines += ["", "Against PyTorch with subnormals flushed too (torch.set_flush_denormal):"]
        for e in flushed:
            lines.append(
                f"{e['name']:4} {'on' if e['bn'] else 'off':3} "
                f"{_f(e['torch_flushed_steps_per_s']):>9} torch/s  ratio "
                f"{e['ratio_vs_torch_flushed']:.2f}"
            )
    if report.get("blas"):
        lines += ["", "BLAS threads (NumPy steps/s): 1 thread vs library default"]
        for b in report["blas"]:
            lines.append(
                f"{b['name']:4} default={b['default_threads']} threads  "
                f"BN off {_f(b['plain_steps_per_s_1_thread'])} vs "
                f"{_f(b['plain_steps_per_s_default'])} (x{b['plain_default_over_1']})  "
                f"BN on {_f(b['bn_steps_per_s_1_thread'])} vs {_f(b['bn_steps_per_s_default'])} "
                f"(x{b['bn_default_over_1']})  other CPU {b['other_cpu']:.2f}"
            )
    if report.get("sweep"):
        w = report["sweep"]
        lines += [
            "",
            f"Sweep: {w['trials']} trials x {w['epochs']} epochs, {w['workers']} workers vs 1 "
            f"(median of {w['repeats']}): serial {w['serial_s']} s, pool start-up "
            f"{w['pool_startup_s']} s + trials {w['pool_trials_s']} s -> speed-up "
            f"{w['speedup_trials']} (trials), {w['speedup_wall']} (with start-up)",
        ]
    if report.get("snapshots"):
        lines += ["", "Snapshots every 1/30 s, default TrainConfig (target: ratio >= 0.90)"]
        for r in report["snapshots"]:
            lines.append(
                f"{r['mode']:8} {_f(r['steps_per_s'])} -> {_f(r['steps_per_s_with_snapshots'])} "
                f"steps/s, ratio {r['ratio']:.3f}, {r['snapshot_ms']} ms per snapshot "
                f"(probe {r['probe_size']}), {100 * r['time_in_snapshots']:.1f}% of the time, "
                f"other CPU {_f(r['other_cpu'], '{:.2f}')}"
            )
    return "\n".join(lines)
