"""The ``automod`` command: global options, then one module per command group.

Each group module has ``register(commands)``, which adds its sub-commands; its handlers
load settings and call one library function:

- :mod:`automod.cli.bot`: ``run``, ``check-config``, ``score``, ``reports``;
- :mod:`automod.cli.sandbox`: ``sandbox up|down|seed|config|edit|report|review``;
- :mod:`automod.cli.models`, :mod:`automod.cli.analysis`, :mod:`automod.cli.ops`,
  :mod:`automod.cli.serve` (``serve``, ``shard``): the
  other groups, each skipped when its module is not installed.

Expected failures print one ``Error: …`` line on stderr and exit 1; bad arguments exit 2.
Machine-readable output goes to stdout, logs to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys

from automod import __version__
from automod.cli import bot, sandbox
from automod.errors import AutomodError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automod",
                                     description="Community-configured anti-vandalism bot for MediaWiki.")
    parser.add_argument("--version", action="version", version=f"automod {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="how much to log on stderr (default INFO)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (bot, sandbox, *_COMMAND_MODULES):
        module.register(commands)
    return parser


def _command_modules() -> list:
    """The optional command groups that are installed (each module has ``register``)."""
    import importlib

    found = []
    for name in ("automod.cli.models", "automod.cli.analysis", "automod.cli.ops", "automod.cli.serve",
                 "automod.cli.gadgets"):
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


_COMMAND_MODULES = _command_modules()


def main(argv: list[str] | None = None) -> int:
    import faulthandler
    import signal

    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>` prints every thread's stack to stderr
        try:
            faulthandler.register(signal.SIGUSR1, all_threads=True)
        except (OSError, ValueError, AttributeError):  # stderr is not a real file (e.g. captured)
            pass
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except AutomodError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
