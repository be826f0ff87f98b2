"""The ``automod`` command. Each sub-command loads settings and calls one library function.

Expected failures print one ``Error: …`` line on stderr and exit 1; bad arguments exit 2.
Machine-readable output goes to stdout, logs to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from automod import __version__
from automod.errors import AutomodError
from automod.store import REPORT_STATUSES

__all__ = ["main"]


def _cmd_run(args: argparse.Namespace) -> int:
    from automod.moderation.runner import RunOptions, run
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    run(settings, RunOptions(dry_run=args.dry_run, max_events=args.max_events,
                             exit_after=args.exit_after), sys.stdout)
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from automod.moderation.served_wiki import check_config
    from automod.settings import load_settings

    report = check_config(load_settings(args.settings), args.wiki)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if report["problems"]:
        for problem in report["problems"]:
            print(f"Error: {problem}", file=sys.stderr)
        return 1
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from automod.moderation.runner import score_revision
    from automod.settings import load_settings

    print(json.dumps(score_revision(load_settings(args.settings), args.wiki, args.rev_id), indent=2,
                     ensure_ascii=False))
    return 0


def _cmd_reports(args: argparse.Namespace) -> int:
    from automod.settings import load_settings
    from automod.store import Store

    settings = load_settings(args.settings)
    wiki = settings.wiki(args.wiki)
    index = wiki.api.rsplit("/", 1)[0] + "/index.php"
    with Store(settings.store) as store:
        for row in store.reports(args.wiki, args.status):
            print(json.dumps({
                "rev_id": row["rev_id"], "kind": row["kind"], "status": row["status"], "title": row["title"],
                "user": row["user"], "reporter": row["reporter"], "probability": row["probability"],
                "model": row["model"], "model_version": row["model_version"], "threshold": row["threshold"],
                "config_rev": row["config_rev"], "page": row["page"],
                "diff": f"{index}?diff={row['rev_id']}",
                "revert": f"{index}?diff={row['revert_rev_id']}" if row["revert_rev_id"] else None,
            }, ensure_ascii=False))
    return 0


def _cmd_sandbox_up(args: argparse.Namespace) -> int:
    from automod import sandbox

    info = sandbox.up(args.dir, port=args.port, wikis=args.wikis, lang=args.lang)
    out = info.to_json()
    if args.seed:
        from automod.sandbox.seed import seed

        out["seed"] = seed(info.dir, info.api_url).to_json()
    print(json.dumps(out, indent=2))
    return 0


def _cmd_sandbox_down(args: argparse.Namespace) -> int:
    from automod import sandbox

    sandbox.down(args.dir)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automod", description="Community-configured anti-vandalism bot for MediaWiki.")
    parser.add_argument("--version", action="version", version=f"automod {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="how much to log on stderr (default INFO)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="Follow the recent-changes stream and moderate edits.")
    run.add_argument("--settings", type=Path, required=True, help="operator settings (YAML)")
    run.add_argument("--dry-run", action="store_true", help="log-only everywhere: decide and record, change nothing on any wiki")
    run.add_argument("--max-events", type=int, default=None, help="stop after reading N stream events (canaries excluded)")
    run.add_argument("--exit-after", type=float, default=None, metavar="SECONDS", help="stop after this many seconds")
    run.set_defaults(func=_cmd_run)

    check = commands.add_parser("check-config", help="Fetch and validate a wiki's community config page.")
    check.add_argument("--settings", type=Path, required=True, help="operator settings (YAML)")
    check.add_argument("--wiki", required=True, help="wiki name as in settings (e.g. enwiki)")
    check.set_defaults(func=_cmd_check_config)

    score = commands.add_parser("score", help="Score one revision and show the decision; change nothing.")
    score.add_argument("--settings", type=Path, required=True, help="operator settings (YAML)")
    score.add_argument("--wiki", required=True, help="wiki name as in settings (e.g. enwiki)")
    score.add_argument("rev_id", type=int, help="the revision to score (any revision, not only a page's latest)")
    score.set_defaults(func=_cmd_score)

    reports = commands.add_parser("reports", help="List false-positive reports with status, score and links.")
    reports.add_argument("--settings", type=Path, required=True, help="operator settings (YAML)")
    reports.add_argument("--wiki", required=True, help="wiki name as in settings (e.g. enwiki)")
    reports.add_argument("--status", choices=REPORT_STATUSES, default=None,
                         help="only reports with this status (confirmed includes reinstated; default: all)")
    reports.set_defaults(func=_cmd_reports)

    sandbox = commands.add_parser("sandbox", help="A real local MediaWiki with an EventStreams-like feed.")
    sandbox_cmds = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    up = sandbox_cmds.add_parser("up", help="Install (once) and start the sandbox wiki and its stream relay.")
    up.add_argument("--dir", type=Path, required=True, help="everything the sandbox writes goes here")
    up.add_argument("--port", type=int, default=None, help="HTTP port of the wiki (default: a free one)")
    up.add_argument("--wikis", type=int, default=1,
                    help="number of wikis feeding the one stream (sandboxwiki, sandbox2wiki, ...)")
    up.add_argument("--lang", default=None,
                    help="content language of the wikis, e.g. fr (all of them) or en,fr (one per wiki); "
                         "the bot writes its notices in it (default: as last time, en for a new wiki)")
    up.add_argument("--seed", action="store_true",
                    help="then import a backdated history to train on (as `automod sandbox seed`)")
    up.set_defaults(func=_cmd_sandbox_up)
    down = sandbox_cmds.add_parser("down", help="Stop the sandbox's processes (files stay).")
    down.add_argument("--dir", type=Path, required=True, help="the folder given to sandbox up")
    down.set_defaults(func=_cmd_sandbox_down)
    from automod.sandbox.trial import register as register_trial

    register_trial(sandbox_cmds)
    for module in _COMMAND_MODULES:
        module.register(commands)
    return parser


def _command_modules() -> list:  # type: ignore[type-arg]
    """Sub-commands that live beside their library code (each module has ``register``)."""
    import importlib

    found = []
    for name in ("automod.cli.models", "automod.cli.analysis", "automod.cli.ops"):
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
