"""Sub-commands that turn the score history into answers: ``thresholds``, ``export``, ``backtest``.

Loaded by :mod:`automod.cli` (``register``). Each command opens what it needs, calls the
library, prints machine-readable output on stdout and everything else on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from automod.cli._options import settings_option, wiki_option
from automod.errors import ConfigError

__all__ = ["parse_since", "register"]

log = logging.getLogger("automod.cli.analysis")


def parse_since(text: str) -> float:
    """Epoch seconds for an ISO 8601 date or date-time (UTC unless it says otherwise)."""
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or date-time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return value


def _open_store(path: Path) -> Any:
    from automod.evidence import with_labels
    from automod.store import MIGRATIONS, Store

    if not path.exists():
        raise ConfigError(f"no store at {path}: nothing has been scored yet")
    return Store(path, migrations=with_labels(MIGRATIONS))


# -- thresholds ---------------------------------------------------------------------------------------


def _files_prefix(out: Path | None, settings: Any, name: str) -> Path | None:
    """Where the CSV and PNG go: ``--out``, else a ``thresholds/`` folder beside the store,
    else nowhere — never the current directory, which may be anyone's checkout or home."""
    if out is not None:
        return out.resolve()
    if settings is not None:
        return Path(settings.store).resolve().parent / "thresholds" / f"thresholds-{name}"
    return None


def _cmd_thresholds(args: argparse.Namespace) -> int:
    from automod.evidence import (
        build_table,
        combined_observations,
        current_threshold,
        models_in_store,
        observations_from_store,
        read_observations,
        render_json,
        render_text,
        render_wikitext,
        write_png,
        write_table_csv,
    )
    from automod.settings import load_settings

    settings = load_settings(args.settings) if args.settings else None
    if args.input is None and (settings is None or not args.wiki):
        args.parser.error("give --input FILE, or --settings FILE and --wiki NAME")
    if args.publish and (settings is None or not args.wiki):
        args.parser.error("--publish needs --settings and --wiki (the wiki to write to)")
    current = args.current
    if args.input is not None:
        observations = read_observations(args.input)
        name = label = args.input.stem
    else:
        assert settings is not None
        settings.wiki(args.wiki)  # ConfigError for a wiki we do not serve
        with _open_store(settings.store) as store:
            models = models_in_store(store, args.wiki)
            if args.combine:
                wanted = [m.strip() for m in args.combine.split(",") if m.strip()]
                missing = [m for m in wanted if m not in models]
                if len(wanted) < 2 or missing:
                    raise ConfigError(f"--combine needs two or more models with scores in the store"
                                      f" (have: {', '.join(models) or 'none'}; missing: {', '.join(missing)})")
                observations = combined_observations(store, args.wiki, wanted, args.since)
                models = ["+".join(wanted)]
            model = args.model or (models[0] if models else None)
            if model is None or model not in models:
                raise ConfigError(f"no scores for {args.wiki}" + (f" with model {model}" if model else "")
                                  + f" in {settings.store}" + (f" (models: {', '.join(models)})" if models else ""))
            if not args.combine:
                observations = observations_from_store(store, args.wiki, model, args.since)
                if current is None:
                    current = current_threshold(store, args.wiki, model)
        name, label = f"{args.wiki}-{model.replace(':', '_')}", model
        print(f"{args.wiki}: model {model}", file=sys.stderr)
    if not observations:
        raise ConfigError("no observations to analyse")
    table = build_table(observations, target_precision=args.target_precision, current=current, days=args.days)
    print(render_json(table) if args.json else render_text(table))
    prefix = None if args.no_files else _files_prefix(args.out, settings, name)
    if prefix is None and not args.no_files:
        print("no CSV or PNG written: give --out PREFIX (or --settings, to write beside the store)", file=sys.stderr)
    if prefix is not None:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        csv_path, png_path = prefix.with_name(prefix.name + ".csv"), prefix.with_name(prefix.name + ".png")
        write_table_csv(table, csv_path)
        print(f"wrote {csv_path}", file=sys.stderr)
        try:
            write_png(table, png_path, f"automod thresholds: {name}")
        except ImportError:
            print("PNG skipped: matplotlib is not installed (pip install -e '.[analysis]' in the checkout)",
                  file=sys.stderr)
        else:
            print(f"wrote {png_path}", file=sys.stderr)
    if args.publish:
        from automod.onwiki import WikiGateway

        assert settings is not None
        gateway = WikiGateway(settings.wiki(args.wiki), settings.pywikibot_dir)
        if args.publish.lower().endswith(".json"):  # the data page the config gadget reads
            import time

            from automod.evidence import PUBLISH_GRID, render_data_page

            fine = build_table(observations, grid=PUBLISH_GRID, target_precision=args.target_precision,
                               current=current, days=args.days)
            text = render_data_page(fine, wiki=args.wiki or name, model=label, generated=time.time())
        else:
            text = render_wikitext(table, f"Revert thresholds: {name}")
        rev = gateway.edit(args.publish, text=text,
                           summary=args.summary or "automod: threshold table from the score history")
        print(f"published to {args.publish} (r{rev})", file=sys.stderr)
    return 0


# -- export -------------------------------------------------------------------------------------------------


def _cmd_export(args: argparse.Namespace) -> int:
    from urllib.parse import urlparse

    from automod.evidence import ExportError, post_events, stored_scores, to_event, write_events, write_scores_csv
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    if args.post and args.format != "events":
        args.parser.error("--post sends events: use --format events")
    domains = {w.name: urlparse(w.api).hostname for w in settings.wikis}
    with _open_store(settings.store) as store:
        scores = stored_scores(store, since=args.since, wiki=args.wiki, model=args.model)
    out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.format == "csv":
            count = write_scores_csv(scores, out)
        else:
            events = [to_event(s, stream=args.stream, domain=domains.get(s.wiki)) for s in scores]
            if args.post:
                result = post_events(events, args.post, user_agent=settings.user_agent, batch_size=args.batch_size)
                print(json.dumps({"events": len(events), "accepted": result.accepted, "invalid": len(result.invalid),
                                  "requests": result.requests, "retried_events": result.retried_events}), file=out)
                for status in result.invalid[:10]:
                    print(f"invalid: {json.dumps(status.get('context', status))[:300]}", file=sys.stderr)
                if result.invalid:
                    raise ExportError(f"{len(result.invalid)} events were refused as invalid by {args.post}")
                return 0
            count = write_events(events, out)
    finally:
        if args.output:
            out.close()
    print(f"exported {count} scores", file=sys.stderr)
    return 0


# -- backtest -------------------------------------------------------------------------------------------


def _cmd_backtest(args: argparse.Namespace) -> int:
    from automod.evidence import render_json, render_text
    from automod.moderation import BacktestOptions, backtest
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    options = BacktestOptions(wiki=args.wiki, since=args.since_text, until=args.until, store=args.store,
                              max_events=args.max_events, idle_seconds=args.idle_seconds,
                              label_wait=args.label_wait)
    table = backtest(settings, options, progress=sys.stderr, target_precision=args.target_precision)
    print(render_json(table) if args.json else render_text(table))
    return 0


READ_THE_STORE = "operator settings (YAML): read the store"


def register(commands: Any) -> None:
    """Add ``thresholds``, ``export`` and ``backtest`` to the ``automod`` sub-commands."""
    p = commands.add_parser("thresholds", help="Threshold table from scores and outcome labels.",
                            description="Would-reverts per day, precision, recall and false positives for "
                            "thresholds 0.5-0.999, with 95% Wilson intervals; writes PREFIX.csv and PREFIX.png "
                            "(see --out).",
                            parents=[settings_option(READ_THE_STORE, required=False),
                                     wiki_option("wiki name as in settings", required=False)])
    p.add_argument("--input", type=Path, help="CSV or JSON lines with rev_id, probability, label[, timestamp]")
    p.add_argument("--model", help="model to analyse (default: the one with most scores)")
    p.add_argument("--combine", metavar="M1,M2", help="model agreement: the table for reverting only when every "
                   "listed model is above the threshold (each model alone: run once per --model)")
    p.add_argument("--since", type=parse_since, metavar="DATE", help="only edits made since (ISO 8601)")
    p.add_argument("--days", type=float, help="days the data covers (default: span of the timestamps, >= 1)")
    p.add_argument("--current", type=_probability, help="current threshold (default: the bot's latest)")
    p.add_argument("--target-precision", type=_probability, default=0.95,
                   help="recommend the lowest threshold whose precision lower bound reaches this (default 0.95)")
    p.add_argument("--json", action="store_true", help="print the table as a JSON array, one object per threshold")
    p.add_argument("--out", type=Path, metavar="PREFIX", help="write PREFIX.csv and PREFIX.png (default: with "
                   "--settings, thresholds/thresholds-WIKI-MODEL.* beside the store; with --input alone, no files)")
    p.add_argument("--no-files", action="store_true", help="write no CSV or PNG")
    p.add_argument("--publish", metavar="PAGE", help="write the table to this wiki page (a title ending in .json, "
                   "e.g. User:AutomodBot/Thresholds.json, gets the JSON data page the config gadget reads)")
    p.add_argument("--summary", help="edit summary for --publish")
    p.set_defaults(func=_cmd_thresholds, parser=p)

    e = commands.add_parser("export", help="Stored scores as prediction_classification_change events or CSV.",
                            description="Write every score the store holds as prediction_classification_change "
                                        "events (JSON lines) or as CSV, to a file, stdout, or (--post) an "
                                        "EventGate-compatible endpoint.",
                            parents=[settings_option(READ_THE_STORE), wiki_option("only this wiki", required=False)])
    e.add_argument("--since", type=parse_since, metavar="DATE", help="only edits made since (ISO 8601)")
    e.add_argument("--model", help="only this model")
    e.add_argument("--format", choices=["events", "csv"], required=True,
                   help="events: prediction_classification_change JSON lines; csv: one row per score")
    e.add_argument("--output", type=Path, help="file to write (default: stdout)")
    e.add_argument("--post", metavar="URL",
                   help="instead of writing them, POST the events (--format events) in batches to this "
                        "EventGate-compatible URL; failed batches are resent, schema rejections reported (exit 1)")
    e.add_argument("--stream", default="automod.page_prediction_classification_change.v1", metavar="NAME",
                   help="the stream name written into each event's meta.stream, i.e. the EventGate stream the "
                        "events belong to (default %(default)s)")
    e.add_argument("--batch-size", type=int, default=100, help="events per POST (default 100)")
    e.set_defaults(func=_cmd_export, parser=e)

    b = commands.add_parser("backtest", help="Replay the stream from a date, score without acting, show the table.",
                            description="Replay the wiki's recent-changes stream from --since through the bot's "
                                        "skip rules and scorer, acting on nothing, into a store of its own; then "
                                        "fetch what became of each edit and print the threshold table.",
                            parents=[settings_option(), wiki_option("wiki name as in settings")])
    b.add_argument("--since", dest="since_text", required=True, metavar="ISO", help="replay from (ISO 8601)")
    b.add_argument("--until", metavar="ISO", help="stop at events after this time (default: when caught up)")
    b.add_argument("--store", type=Path, metavar="FILE",
                   help="SQLite file the replay records into, never the bot's own store; re-running with the same "
                        "file resumes the replay (default: backtest-WIKI-SINCE.sqlite beside the bot's store)")
    b.add_argument("--max-events", type=int, help="stop after reading N events")
    b.add_argument("--idle-seconds", type=float, default=30.0, metavar="SECONDS",
                   help="end the replay when the stream has sent no event for this many seconds, i.e. it has "
                        "caught up with the present (default 30)")
    b.add_argument("--label-wait", type=float, default=120.0, metavar="SECONDS",
                   help="after the replay, at most this many seconds spent asking the wiki what became of each "
                        "edit (reverted or not) for the table; edits not labelled by then are left out (default 120)")
    b.add_argument("--target-precision", type=_probability, default=0.95,
                   help="recommend the lowest threshold whose precision lower bound reaches this (default 0.95)")
    b.add_argument("--json", action="store_true", help="print the table as a JSON array, one object per threshold")
    b.set_defaults(func=_cmd_backtest, parser=b)
