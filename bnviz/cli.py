"""Command line: ``bnviz`` (the app), ``bnviz train``, ``bnviz sweep``, ``bnviz bench``,
``bnviz presets``, ``bnviz lesson``, ``bnviz lr-find``.

Qt is imported only when the app starts, so the headless commands start fast and run on
machines without a display. Bad flags get one clear line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from bnviz import __version__

if TYPE_CHECKING:
    from bnviz.lessons.presets import Preset
    from bnviz.train.config import TrainConfig
    from bnviz.train.params import Param

EXIT_USAGE = 2
EXIT_CANCELLED = 130  # what a shell reports for Ctrl-C
COMMANDS = (
    "train",
    "sweep",
    "bench",
    "presets",
    "lesson",
    "export_code",
    "export_model",
    "lr-find",
)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line ("bnviz train: --lr: ...") and exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


# Seconds (--run-for, bench --seconds) and counts without a registry entry (bench --rounds) are
# bounded too: a day, and a million.
MAX_SECONDS = 86_400.0
MAX_COUNT = 1_000_000


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value


def nonneg_float(text: str) -> float:
    value = _number(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def seconds(text: str) -> float:
    """A duration: 0 to a day."""
    value = nonneg_float(text)
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_SECONDS:.0f} s (a day), got {text!r}"
        )
    return value


def int_at_least(low: int, high: int = MAX_COUNT) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        if value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high:,}, got {value:,}")
        return value

    parse.__name__ = f"int>={low}"
    return parse


def run_param(name: str) -> Callable[[str], Any]:
    """The argparse type of a run flag (``--epochs``, ``--trials``...): its registry bounds."""
    from bnviz.train.params import RUN_PARAMS

    return param_type(RUN_PARAMS[name])


def memory_size(text: str) -> int:
    from bnviz.data.budget import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def hidden_widths(text: str) -> tuple[int, ...]:
    from bnviz.train.config import ConfigError, parse_hidden

    try:
        return parse_hidden(text)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def param_type(p: Param) -> Callable[[str], Any]:
    """The argparse type of a registry parameter: its own parse and check, one-line errors."""
    from bnviz.train.config import ConfigError

    def parse(text: str) -> Any:  # the parameter's type
        try:
            return p.parse(text)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = p.name
    return parse


def add_training_flags(p: argparse.ArgumentParser, sampled: frozenset = frozenset()) -> None:
    """The flags of a :class:`~bnviz.train.config.TrainConfig`, generated from its parameter
    registry; defaults None = the config's.

    ``sampled`` names fields whose flag a sweep defines itself (as a search space)."""
    from bnviz.train.config import PARAMS

    groups: dict[str, argparse._ArgumentGroup] = {}
    bn = None
    for name, param in PARAMS.items():
        g = groups.get(param.group) or groups.setdefault(
            param.group, p.add_argument_group(param.group)
        )
        if name in ("batchnorm", "compare"):
            bn = bn or g.add_mutually_exclusive_group()
            if name == "batchnorm":
                if name not in sampled:
                    bn.add_argument("--bn", dest=name, action="store_const", const=True,
                                    help=param.help)  # fmt: skip
                bn.add_argument("--no-bn", dest=name, action="store_const", const=False,
                                help="no batch norm")  # fmt: skip
            elif name not in sampled:
                bn.add_argument("--compare", action="store_const", const=True, help=param.help)
            continue
        if name in sampled:
            continue
        dest: dict[str, Any] = (
            {"dest": name} if param.cli_flag != "--" + name.replace("_", "-") else {}
        )
        if name == "hidden":
            g.add_argument(param.cli_flag, type=hidden_widths, help=param.help, **dest)
        elif param.choices:
            g.add_argument(param.cli_flag, choices=list(param.choices), help=param.help, **dest)
        else:
            g.add_argument(param.cli_flag, type=param_type(param), help=param.help, **dest)
    groups["optimization"].add_argument(
        "--settings", metavar="FILE", help="start from a saved settings file"
    )
    groups["data"].add_argument(
        "--memory-budget", type=memory_size, metavar="SIZE",
        help="how much memory a data file's arrays may take (e.g. 8G; default half the "
        "available memory; also the BNVIZ_MEMORY_BUDGET environment variable)",
    )  # fmt: skip


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """A validated TrainConfig from parsed flags (flags given override the settings file)."""
    from bnviz.train.config import TrainConfig

    config = base or (TrainConfig.load(args.settings) if args.settings else TrainConfig())
    names = [f for f in config.to_dict() if getattr(args, f, None) is not None]
    from dataclasses import replace

    config = replace(config, **{n: getattr(args, n) for n in names})
    # Naming a setting to compare (or the twin's value) asks for compare mode.
    if any(getattr(args, n, None) is not None for n in ("compare_setting", "compare_value")):
        config = replace(config, compare=True)
    if getattr(args, "compare", None):
        config = replace(config, compare=True)
    return config.validated()


def training_flags_given(args: argparse.Namespace) -> bool:
    """Whether the command line sets any training setting (or a settings file)."""
    from bnviz.train.config import TrainConfig

    names = [*TrainConfig().to_dict(), "settings", "compare"]
    return any(getattr(args, n, None) is not None for n in names)


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="bnviz", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"bnviz {__version__}")
    p.add_argument("--screenshot", metavar="FILE", help="train, save a PNG of the window, exit")
    p.add_argument(
        "--run-for",
        type=seconds,
        default=3.0,
        metavar="SECONDS",
        help="with --screenshot or --report: how long to train first (default 3)",
    )
    p.add_argument(
        "--report",
        metavar="FILE",
        help="train, write a self-contained HTML report (plots, settings, metrics), exit",
    )
    p.add_argument(
        "--preset",
        metavar="NAME",
        help="open a lesson preset (bnviz presets lists them) or a lesson file (FILE.json); "
        "training flags given too override its settings",
    )
    p.add_argument(
        "--lesson",
        metavar="NAME",
        help="open a lesson view at start (its title in lower case with hyphens, e.g. "
        "loss-landscape; the Lessons menu lists them)",
    )
    p.add_argument(
        "--record",
        metavar="FILE",
        help="record every frame the window draws (and the run's events) to FILE",
    )
    p.add_argument(
        "--replay", metavar="FILE", help="replay a recording (no training) with a timeline scrubber"
    )
    p.add_argument(
        "--at",
        type=int_at_least(0),
        metavar="STEP",
        help="with --replay --screenshot: the step to show (default the last)",
    )
    add_training_flags(p)
    sub = p.add_subparsers(dest="command", parser_class=OneLineParser)
    import importlib

    for name in COMMANDS:
        importlib.import_module(f"bnviz.commands.{name.replace('-', '_')}").add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the app or a command; Ctrl-C anywhere exits 130 with one line."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("\nbnviz: cancelled (Ctrl-C)\n")
        _end_children()
        return EXIT_CANCELLED


def _end_children() -> None:
    """Kill the worker processes a Ctrl-C left behind: Python joins its non-daemon children at
    exit, and a pool's worker that the interrupt caught before the pool could tell it to stop
    (while the pool was starting) waits for work forever: the exit hung (seen in CI)."""
    process = sys.modules.get("multiprocessing.process")
    if process is None:  # nothing was started
        return
    for child in process.active_children():
        child.kill()
        child.join(5)


def _main(argv: list[str] | None) -> int:
    from bnviz.nn.blas import set_env_before_numpy  # bnviz.nn loads NumPy: inside main's try

    set_env_before_numpy(1)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "memory_budget", None) is not None:
        from bnviz.data.budget import set_memory_budget

        set_memory_budget(args.memory_budget)  # spawned workers inherit it
    if args.command is None and (args.replay is not None or args.at is not None):
        return _replay(args, parser)
    if args.command is None:
        from bnviz.data import BUILTIN_DATASETS, DataError
        from bnviz.train.config import ConfigError
        from bnviz.train.trainer import load_data

        preset = None
        if args.preset is not None:
            preset = _load_preset(args, parser)
        try:
            # No training flag: None lets the window restore the last session's settings.
            config: TrainConfig | None
            if preset is not None:
                config = config_from_args(args, base=preset.config)
            else:
                config = config_from_args(args) if training_flags_given(args) else None
            data = None
            if config is not None and config.dataset.strip().lower() not in BUILTIN_DATASETS:
                # A file named on the command line is checked like train's, by loading it
                # (before any window exists); the window then trains on this very Dataset.
                data = load_data(config.validated())
        except (ConfigError, DataError) as e:
            parser.error(str(e))
        lesson = None
        if args.lesson is None and preset is not None and preset.lesson and preset.lesson.view:
            lesson = _preset_view(preset.lesson.view)
        if args.lesson is not None:
            from bnviz.gui.lessons import find_lesson, lesson_classes

            lesson = find_lesson(args.lesson)
            if lesson is None:
                names = ", ".join(c.slug() for c in lesson_classes().values())
                parser.error(f"--lesson: no lesson view named {args.lesson!r}; choose {names}")
        if args.report and args.screenshot:
            parser.error("--report and --screenshot: choose one")
        from bnviz.gui.app import run_app

        interrupted = _close_window_on_ctrl_c()
        status = run_app(config, screenshot=args.screenshot, run_for=args.run_for, data=data,
                         lesson=lesson, preset=preset, report=args.report,
                         record=args.record)  # fmt: skip
        if interrupted:
            sys.stderr.write("bnviz: cancelled (Ctrl-C)\n")
            return EXIT_CANCELLED
        return status
    try:
        return args.run(args, args.subparser)
    except BrokenPipeError:  # `bnviz sweep | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _close_window_on_ctrl_c() -> list[int]:
    """Ctrl-C while the window runs closes it as its Quit does (the training process and any
    sweep shut down) instead of a KeyboardInterrupt traceback inside a Qt slot; the returned
    list is non-empty once it happened."""
    import signal

    hit: list[int] = []

    def close(signum: int, frame: object) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if not isinstance(app, QApplication):  # before Qt starts: the usual one line from main()
            raise KeyboardInterrupt
        hit.append(signum)

        def quit_() -> None:
            app.closeAllWindows()
            app.quit()

        # posted, so that it also works before the event loop runs (quit() would be lost)
        QTimer.singleShot(0, quit_)

    signal.signal(signal.SIGINT, close)
    return hit


def _replay(args: argparse.Namespace, parser: OneLineParser) -> int:
    """``--replay FILE [--screenshot PNG [--at STEP]]``; training flags make no sense here."""
    if args.replay is None:
        parser.error("--at needs --replay FILE")
    if args.record or args.report or args.preset or args.lesson or training_flags_given(args):
        parser.error("--replay shows a recording: it takes only --screenshot and --at")
    from bnviz.gui.replay import run_replay

    return run_replay(args.replay, screenshot=args.screenshot, at=args.at)


def _load_preset(args: argparse.Namespace, parser: OneLineParser) -> Preset:
    """The preset ``--preset`` names (a shipped name or a file); a bad one exits 2, one line."""
    from bnviz.lessons.presets import load_preset
    from bnviz.train.config import ConfigError

    if args.settings is not None:
        parser.error("--preset and --settings: choose one (a preset is a settings file)")
    try:
        return load_preset(args.preset)
    except ConfigError as e:
        parser.error(f"--preset: {e}")


def _preset_view(slug: str) -> str | None:
    """The class name of a preset's lesson view; a view not installed is a warning only."""
    from bnviz.gui.lessons import find_lesson

    name = find_lesson(slug)
    if name is None:
        sys.stderr.write(f"bnviz: warning: lesson view {slug!r} is not installed; "
                         "opening the preset's settings without it\n")  # fmt: skip
    return name


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
