"""Command line: ``bnviz`` (the app), ``bnviz train``, ``bnviz sweep``, ``bnviz bench``.

Qt is imported only when the app starts, so the headless commands start fast and run on
machines without a display. Bad flags get one clear line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from bnviz import __version__
from bnviz.nn.blas import set_env_before_numpy

EXIT_USAGE = 2
COMMANDS = ("train", "sweep", "bench")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line ("bnviz train: --lr: ...") and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value


def nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def unit_interval(text: str) -> float:
    value = nonneg_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


def int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = f"int>={low}"
    return parse


def hidden_widths(text: str) -> tuple[int, ...]:
    from bnviz.train.config import ConfigError, parse_hidden

    try:
        return parse_hidden(text)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_training_flags(p: argparse.ArgumentParser, sampled: frozenset = frozenset()) -> None:
    """The flags of a :class:`~bnviz.train.config.TrainConfig`; defaults None = the config's.

    ``sampled`` names flags that a sweep defines itself (as search spaces)."""
    g = p.add_argument_group("data")
    g.add_argument(
        "--dataset",
        help="built-in name (spirals, blobs, rings, moons, xor, digits) or a .npz/.csv file",
    )
    g.add_argument(
        "--classes",
        type=int_at_least(2),
        dest="n_classes",
        help="number of classes of a 2-D set (2..10)",
    )
    g.add_argument("--noise", type=nonneg_float, help="noise of a 2-D set (0 = clean)")
    g.add_argument("--samples", type=int_at_least(20), dest="n_samples", help="points in a 2-D set")
    g.add_argument("--val-fraction", type=unit_interval, help="share held out for validation")
    g = p.add_argument_group("network")
    if "width" not in sampled:
        g.add_argument("--hidden", type=hidden_widths, help="hidden widths, e.g. 64,64 (0: none)")
    if "activation" not in sampled:
        g.add_argument("--activation", choices=["relu", "tanh", "sigmoid", "linear"])
    bn = g.add_mutually_exclusive_group()
    bn.add_argument(
        "--bn",
        dest="batchnorm",
        action="store_const",
        const=True,
        help="batch norm on every hidden layer",
    )
    bn.add_argument(
        "--no-bn", dest="batchnorm", action="store_const", const=False, help="no batch norm"
    )
    if "compare" not in sampled:
        bn.add_argument(
            "--compare",
            action="store_const",
            const=True,
            help="train BN and plain side by side (same start, same batches)",
        )
    g.add_argument("--bn-momentum", type=unit_interval, help="running = k*running + (1-k)*batch")
    g.add_argument("--eps", type=positive_float, help="BN epsilon (default 1e-5)")
    g = p.add_argument_group("optimization")
    g.add_argument("--optimizer", choices=["sgd", "momentum", "rmsprop", "adam"])
    for name, kind, text in [
        ("lr", positive_float, "learning rate alpha"),
        ("momentum", unit_interval, "momentum beta (beta1 for Adam)"),
        ("batch-size", int_at_least(2), "mini-batch size"),
    ]:
        if name.replace("-", "_") not in sampled and not (name == "momentum" and "beta" in sampled):
            g.add_argument(f"--{name}", type=kind, help=text)
    g.add_argument("--beta2", type=unit_interval, help="RMSprop/Adam second-moment beta")
    g.add_argument("--lr-decay", type=nonneg_float, help="alpha = lr / (1 + decay * epoch)")
    g.add_argument("--seed", type=int_at_least(0), help="seed of weights, data and batches")
    g.add_argument("--settings", metavar="FILE", help="start from a saved settings file")


def config_from_args(args: argparse.Namespace, base=None):
    """A validated TrainConfig from parsed flags (flags given override the settings file)."""
    from bnviz.train.config import TrainConfig

    config = base or (TrainConfig.load(args.settings) if args.settings else TrainConfig())
    names = [f for f in config.to_dict() if getattr(args, f, None) is not None]
    from dataclasses import replace

    config = replace(config, **{n: getattr(args, n) for n in names})
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
        type=nonneg_float,
        default=3.0,
        metavar="SECONDS",
        help="with --screenshot: how long to train first (default 3)",
    )
    add_training_flags(p)
    sub = p.add_subparsers(dest="command", parser_class=OneLineParser)
    import importlib

    for name in COMMANDS:
        importlib.import_module(f"bnviz.commands.{name}").add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    set_env_before_numpy(1)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from bnviz.train.config import ConfigError

        try:
            # No training flag: None lets the window restore the last session's settings.
            config = config_from_args(args) if training_flags_given(args) else None
        except ConfigError as e:
            parser.error(str(e))
        from bnviz.gui.app import run_app

        return run_app(config, screenshot=args.screenshot, run_for=args.run_for)
    return args.run(args, args.subparser)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
