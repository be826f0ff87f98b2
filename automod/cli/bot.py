"""The bot's own sub-commands: ``automod run``, ``check-config``, ``score`` and ``reports``.

Registered into the ``automod`` command by :mod:`automod.cli`. Each handler loads the
operator settings and calls one library function (:mod:`automod.moderation`,
:mod:`automod.store`); the heavier imports happen inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from automod.cli._options import settings_option, wiki_option
from automod.store import REPORT_STATUSES

__all__ = ["register"]


def _cmd_run(args: argparse.Namespace) -> int:
    from automod.moderation import RunOptions, run
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    run(settings, RunOptions(dry_run=args.dry_run, max_events=args.max_events,
                             exit_after=args.exit_after), sys.stdout)
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from automod.moderation import check_config
    from automod.settings import load_settings

    report = check_config(load_settings(args.settings), args.wiki)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    for warning in report.get("warnings", []):
        print(f"Warning: {warning}", file=sys.stderr)
    if report["problems"]:
        for problem in report["problems"]:
            print(f"Error: {problem}", file=sys.stderr)
        return 1
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from automod.errors import ConfigError

    if args.input is not None:
        if args.model is None or args.output is None or args.rev_id is not None:
            raise ConfigError("score --input FILE needs --model local:NAME and --output FILE, and no REV_ID")
        return _score_file(args)
    if args.settings is None or args.wiki is None or args.rev_id is None:
        raise ConfigError("score needs --settings FILE --wiki NAME REV_ID (or --input FILE to score a file offline)")
    from automod.moderation import score_revision
    from automod.settings import load_settings

    print(json.dumps(score_revision(load_settings(args.settings), args.wiki, args.rev_id), indent=2,
                     ensure_ascii=False))
    return 0


def _score_file(args: argparse.Namespace) -> int:
    """``score --model local:NAME --input FILE --output FILE``: offline, no wiki."""
    from automod.errors import ConfigError

    if not args.model.startswith("local:") or len(args.model) <= len("local:"):
        raise ConfigError(f"--model {args.model!r}: offline scoring takes a local model, local:NAME")
    models_dir = args.models_dir
    if models_dir is None:
        if args.settings is None:
            raise ConfigError("score --input needs --models-dir DIR (or --settings, for its models_dir)")
        from automod.settings import load_settings

        models_dir = load_settings(args.settings).models_dir
    try:
        from automod.training import score_csv
    except ImportError as exc:
        raise ConfigError(f"scoring a file needs the 'local' extra (pip install -e '.[local]'): {exc}") from exc
    count = score_csv(models_dir / args.model.removeprefix("local:"), args.input, args.output)
    print(json.dumps({"model": args.model, "scored": count, "output": str(args.output)}))
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
                "rev_id": row.rev_id, "kind": row.kind, "status": row.status, "title": row.title,
                "user": row.user, "reporter": row.reporter, "probability": row.probability,
                "model": row.model, "model_version": row.model_version, "threshold": row.threshold,
                "config_rev": row.config_rev, "page": row.page,
                "diff": f"{index}?diff={row.rev_id}",
                "revert": f"{index}?diff={row.revert_rev_id}" if row.revert_rev_id else None,
            }, ensure_ascii=False))
    return 0


def register(commands: Any) -> None:
    """Add ``run``, ``check-config``, ``score`` and ``reports`` to the ``automod`` command."""
    run = commands.add_parser("run", help="Follow the recent-changes stream and moderate edits.",
                              description="Follow the recent-changes stream of every wiki in the settings, score "
                                          "each main-namespace edit and act as each wiki's community config page "
                                          "says (revert, notify, answer reports); every decision is kept in the "
                                          "store. Stops cleanly on Ctrl-C or SIGTERM.",
                              parents=[settings_option()])
    run.add_argument("--dry-run", action="store_true",
                     help="log-only everywhere: decide and record, change nothing on any wiki")
    run.add_argument("--max-events", type=int, default=None,
                     help="stop after reading N stream events (canaries excluded)")
    run.add_argument("--exit-after", type=float, default=None, metavar="SECONDS", help="stop after this many seconds")
    run.set_defaults(func=_cmd_run)

    check = commands.add_parser("check-config", help="Fetch and validate a wiki's community config page.",
                                description="Fetch the wiki's community config page, validate it against the "
                                            "schema and print the effective config (defaults filled in); each "
                                            "problem with its JSON path. Exit 1 if the page is invalid. Changes "
                                            "nothing.",
                                parents=[settings_option(), wiki_option()])
    check.set_defaults(func=_cmd_check_config)

    score = commands.add_parser("score", help="Score one revision and show the decision; change nothing. With --input: "
                                              "score a labelled-edits CSV offline with a local model.",
                                description="Score one revision on the wiki and print, as JSON, the decision the "
                                            "bot would take (skip reason, probability, threshold); nothing is "
                                            "recorded or changed. With --input, score a CSV of edits offline "
                                            "with a local model instead.",
                                parents=[settings_option(required=False), wiki_option(required=False)])
    score.add_argument("rev_id", type=int, nargs="?", default=None,
                       help="the revision to score (any revision, not only a page's latest)")
    score.add_argument("--model", default=None, help="with --input: the model, local:NAME")
    score.add_argument("--models-dir", type=Path, default=None,
                       help="with --input: the directory holding local models (default: the settings' models_dir)")
    score.add_argument("--input", type=Path, default=None,
                       help="a CSV of edits (old_text, new_text, ...; as for train --from-csv):"
                            " scored offline, no wiki")
    score.add_argument("--output", type=Path, default=None,
                       help="with --input: the CSV written, rev_id,probability for every input row")
    score.set_defaults(func=_cmd_score)

    reports = commands.add_parser("reports", help="List false-positive reports with status, score and links.",
                                  description="List the false-positive reports the store holds for a wiki, one JSON "
                                              "object a line: status, the reverted edit and its editor, the "
                                              "reporter, the score, model and threshold, and links to the edit's "
                                              "and the revert's diffs.",
                                  parents=[settings_option(), wiki_option()])
    reports.add_argument("--status", choices=REPORT_STATUSES, default=None,
                         help="only reports with this status (confirmed includes reinstated; default: all)")
    reports.set_defaults(func=_cmd_reports)
