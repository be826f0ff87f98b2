"""``automod sandbox up|down|seed|config|edit|report|review``: a real local MediaWiki to try the bot on.

Registered into the ``automod`` command by :mod:`automod.cli`. ``up`` and ``down`` start
and stop the sandbox (:mod:`automod.sandbox`); ``seed``, ``config``, ``edit``, ``report``
and ``review`` do what a newcomer's trial would do in a browser, through the library
functions of :mod:`automod.sandbox.trial`. Each handler prints its result as JSON on stdout:
indented for ``up``, one line for the others.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automod.cli._options import dir_option
from automod.sandbox import REVIEW_STATUSES, edit_as, file_report, review_report, save_config, seed_sandbox

__all__ = ["register"]


def _print(data: dict[str, Any]) -> int:
    print(json.dumps(data, ensure_ascii=False))
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    from automod import sandbox

    info = sandbox.up(args.dir, port=args.port, wikis=args.wikis, lang=args.lang)
    out = info.to_json()
    if args.seed:
        out["seed"] = seed_sandbox(info.dir)  # every wiki; the first's figures, then "wikis" if several
    print(json.dumps(out, indent=2))
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    from automod import sandbox

    sandbox.down(args.dir)
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    return _print(seed_sandbox(args.dir))


def _cmd_config(args: argparse.Namespace) -> int:
    return _print(save_config(args.dir, args.file, args.summary, wiki=args.wiki, page=args.page))


def _cmd_edit(args: argparse.Namespace) -> int:
    return _print(edit_as(args.dir, args.as_user, args.page, args.text, args.append, args.summary, wiki=args.wiki))


def _cmd_report(args: argparse.Namespace) -> int:
    return _print(file_report(args.dir, args.as_user, args.reason, args.timeout))


def _cmd_review(args: argparse.Namespace) -> int:
    return _print(review_report(args.dir, args.status, args.as_user, args.timeout))


def register(commands: Any) -> None:
    """Add ``sandbox`` and its actions to the ``automod`` command."""
    sandbox = commands.add_parser("sandbox", help="A real local MediaWiki with an EventStreams-like feed.",
                                  description="A real local MediaWiki with an EventStreams-like feed, its accounts "
                                              "and a settings file, to try the bot on without touching a real wiki.")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")

    up = sandbox_commands.add_parser("up", help="Install (once) and start the sandbox wiki and its stream relay.",
                                     description="Install (the first time) and start a local MediaWiki on loopback "
                                                 "with its accounts (Admin, Patroller, Vandal1, Vandal2, the bot) and "
                                                 "a stream relay; writes the bot's settings.yaml into --dir and "
                                                 "prints where everything is, as JSON.",
                                     parents=[dir_option("everything the sandbox writes goes here")])
    up.add_argument("--port", type=int, default=None, help="HTTP port of the wiki (default: a free one)")
    up.add_argument("--wikis", type=int, default=1, metavar="N",
                    help="how many wikis to run (default 1): sandboxwiki, sandbox2wiki, … each with its own pages "
                         "and config page, all in one stream and one settings file, as the bot follows many wikis")
    up.add_argument("--lang", default=None,
                    help="content language of the wikis, e.g. fr (all of them) or en,fr (one per wiki); "
                         "the bot writes its notices in it (default: as last time, en for a new wiki)")
    up.add_argument("--seed", action="store_true",
                    help="then import a backdated history to train on into every wiki (as `automod sandbox seed`)")
    up.set_defaults(func=_cmd_up)
    down = sandbox_commands.add_parser("down", help="Stop the sandbox's processes (files stay).",
                                       description="Stop the sandbox's wiki servers and stream relay. Its files "
                                                   "(wiki database, settings, store) stay; `sandbox up` starts it "
                                                   "again as it was.",
                                       parents=[dir_option("the folder given to sandbox up")])
    down.set_defaults(func=_cmd_down)

    def command(name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sandbox_commands.add_parser(name, help=help_text, description=help_text,
                                                                       parents=[dir_option()])
        parser.set_defaults(func=func)
        return parser

    command("seed", "Import a backdated history (articles, good edits, vandalism reverted by a patroller) to "
                    "train a local model on, into every wiki of the sandbox; does nothing on a wiki already "
                    "seeded.", _cmd_seed)

    config = command("config", "Save a JSON file as the community config page (or any JSON page: --page), "
                               "as Admin.", _cmd_config)
    config.add_argument("file", type=Path, metavar="FILE", help="the config as JSON (see config/*.json)")
    config.add_argument("--wiki", default=None, metavar="NAME",
                        help="the sandbox wiki to save it on, e.g. sandbox2wiki (default: the first)")
    config.add_argument("--page", default=None, metavar="TITLE",
                        help="the page to save, e.g. MediaWiki:Automod-central.json (default: the wiki's "
                             "community config page)")
    config.add_argument("--summary", default="automod trial: community config", help="edit summary")

    edit = command("edit", "Edit a page as one of the sandbox's accounts, or anonymously (--as IP).", _cmd_edit)
    edit.add_argument("--as", dest="as_user", required=True, metavar="ACCOUNT",
                      help="who saves the edit: one of the sandbox's accounts (Admin, Patroller, Vandal1, "
                           "Vandal2), or the word IP for an anonymous (logged-out) edit, which the wiki records "
                           "under this machine's loopback address")
    edit.add_argument("--page", required=True, help="title of the page to edit")
    edit.add_argument("--wiki", default=None, metavar="NAME",
                      help="the sandbox wiki to edit, e.g. sandbox2wiki (default: the first)")
    content = edit.add_mutually_exclusive_group(required=True)
    content.add_argument("--text", help="the page's new wikitext (replaces the whole page)")
    content.add_argument("--append", help="wikitext to add at the end of the page")
    edit.add_argument("--summary", default="", help="edit summary")

    report = command("report", "Follow the report link the bot's notice gives for your latest article edit "
                               "and save the pre-filled report, signed by you (as the browser would).", _cmd_report)
    report.add_argument("--as", dest="as_user", required=True, metavar="ACCOUNT",
                        help="the reverted editor whose talk page holds the notice (e.g. Vandal1)")
    report.add_argument("--reason", default="I think this edit was fine.",
                        help="what you would type after the form's prompt ('Why it was a good edit:', "
                             "in the wiki's language)")
    report.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for the bot's notice about that edit")

    review = command("review", "As a reviewer, set the status of the newest report the bot answered "
                               "(confirmed: the bot restores the edit).", _cmd_review)
    review.add_argument("--status", choices=list(REVIEW_STATUSES), required=True,
                        help="confirmed (a false positive: the bot reinstates the edit) or declined")
    review.add_argument("--as", dest="as_user", default="Admin", metavar="ACCOUNT",
                        help="the reviewing account (default Admin)")
    review.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for the bot's line under the report, and its answer")
