"""Headless subcommands: each module adds its parser and a run(args, parser) function."""
