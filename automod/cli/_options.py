"""Options several sub-commands share, declared once as argparse parent parsers.

A sub-command takes them with ``commands.add_parser(name, parents=[settings_option(), ...])``;
the arguments let a command keep its own help text and whether the option is required,
so ``automod COMMAND --help`` reads as it did when each command declared them itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

SETTINGS_HELP = "operator settings (YAML)"
WIKI_HELP = "wiki name as in settings (e.g. enwiki)"


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def settings_option(help: str = SETTINGS_HELP, *, required: bool = True,
                    type: Any = Path) -> argparse.ArgumentParser:
    """``--settings FILE``: the operator's settings file."""
    parent = _parent()
    parent.add_argument("--settings", type=type, required=required, default=None, help=help)
    return parent


def wiki_option(help: str = WIKI_HELP, *, required: bool = True) -> argparse.ArgumentParser:
    """``--wiki NAME``: one wiki of the settings, by its name there."""
    parent = _parent()
    parent.add_argument("--wiki", required=required, default=None, help=help)
    return parent


def dir_option(help: str = "the sandbox's directory (as given to `up`)") -> argparse.ArgumentParser:
    """``--dir DIR``: the sandbox's folder (always required)."""
    parent = _parent()
    parent.add_argument("--dir", type=Path, required=True, help=help)
    return parent
