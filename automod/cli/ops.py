"""Operator sub-commands: ``automod status`` and ``automod stats``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timezone
from typing import Any

from automod.cli._options import settings_option, wiki_option

__all__ = ["register"]


def _status(args: argparse.Namespace) -> int:
    from automod.moderation import StatusLimits, heartbeat_path, quiet_note, rate_limit_notes, read_status
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    limits = StatusLimits(
        max_silence_seconds=args.max_silence if args.max_silence is not None else settings.health.max_silence_seconds,
        max_lag_seconds=args.max_lag if args.max_lag is not None else settings.health.max_lag_seconds,
        max_heartbeat_age=max(3 * settings.health.interval_seconds, 5.0),
        max_undecided_seconds=args.max_undecided)
    data, problems = read_status(heartbeat_path(settings.store), limits, store=settings.store)
    if settings.central_config is not None:
        from automod.onwiki import central_status

        data["central_config"] = central = central_status(settings)
        problems = [*problems, *(f"central config {central['wiki']}:{central['page']} governs nothing: {p}"
                                 for p in central["problems"])]
    notes = rate_limit_notes(data)  # said, but not a failure: rollbacks are paced to the limit
    quiet = quiet_note(data, limits)  # an old newest event with nothing waiting: quiet, not stuck
    notes += [quiet] if quiet else []
    print(json.dumps({"ok": not problems, "problems": problems, "notes": notes, **data}, indent=2))
    for note in notes:
        print(f"Note: {note}", file=sys.stderr)
    for problem in problems:
        print(f"Error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _stats_windows(args: argparse.Namespace) -> int:
    """The last 1, 7 or 30 days for one wiki or every served one; --publish: the central summary."""
    from automod.errors import ConfigError
    from automod.onwiki import WikiGateway, governed_wikis, publish_summary, window_stats
    from automod.settings import load_settings
    from automod.store import Store

    settings = load_settings(args.settings)
    wikis = [settings.wiki(args.wiki).name] if args.wiki else [w.name for w in settings.wikis]
    with Store(settings.store) as store:
        if args.publish:
            central = settings.central_config
            page = args.page or (central.summary_page if central else "")
            if central is None or not page:
                raise ConfigError("no summary page: set central_config.summary_page or pass --page")
            governed = [name for name in governed_wikis(settings) if name in wikis]
            publish_summary(WikiGateway(settings.wiki(central.wiki), settings.pywikibot_dir), store, governed, page)
        rows = [window_stats(store, name, args.days).to_json() for name in wikis]
    print(json.dumps(rows if not args.wiki else rows[0], indent=2))
    return 0


def _stats(args: argparse.Namespace) -> int:
    from automod.errors import ConfigError

    if args.days is not None:
        return _stats_windows(args)
    if args.wiki is None:
        raise ConfigError("stats needs --wiki (or --days for every wiki)")
    from automod.onwiki import WikiGateway, day_stats, publish_day
    from automod.settings import load_settings
    from automod.store import Store

    settings = load_settings(args.settings)
    wiki = settings.wiki(args.wiki)
    day = date.fromisoformat(args.day) if args.day else datetime.now(timezone.utc).date()
    with Store(settings.store) as store:
        if args.publish:
            page = args.page or wiki.stats_page
            if not page:
                raise ConfigError(f"no statistics page: set wikis[].stats_page for {wiki.name} or pass --page")
            stats = publish_day(WikiGateway(wiki, settings.pywikibot_dir), store, wiki.name, page, day)
        else:
            stats = day_stats(store, wiki.name, day)
    out: dict[str, Any] = {**stats.__dict__, "day": stats.day.isoformat(), "skipped": dict(stats.skipped)}
    print(json.dumps(out, indent=2))
    return 0


def register(commands: Any) -> None:
    status = commands.add_parser("status", help="Is the running bot alive and keeping up? Exit 1 if not.",
                                 description="Read the bot's heartbeat and store lock and say whether it runs "
                                             "and keeps up: stopped cleanly, not running (killed or crashed), a "
                                             "wiki's worker dead, stalled, lagging or falling behind. Exit 1 "
                                             "unless it is running and well.",
                                 parents=[settings_option("operator settings (YAML): where the bot's heartbeat is")])
    status.add_argument("--max-silence", type=float, default=None, metavar="SECONDS",
                        help="stalled when no stream event for this long (default from settings: 600)")
    status.add_argument("--max-lag", type=float, default=None, metavar="SECONDS",
                        help="lagging when the newest event is older than this while an edit waits or the "
                             "connection is silent past stream.stall_seconds (default from settings: 300)")
    status.add_argument("--max-undecided", type=float, default=120.0, metavar="SECONDS",
                        help="falling behind when an edit has waited this long for its decision (default 120)")
    status.set_defaults(func=_status)

    stats = commands.add_parser("stats", help="The day's counts; --publish appends them to the wiki's statistics page.",
                                description="Count what the bot did on a day (or the last 1, 7 or 30 days) from "
                                            "the store: scored, reverted, undone by humans, reports and precision; "
                                            "--publish writes them to the wiki.",
                                parents=[settings_option(),
                                         wiki_option("wiki name as in settings (e.g. enwiki); with --days it may be "
                                                     "left out: every wiki", required=False)])
    stats.add_argument("--days", type=int, choices=(1, 7, 30), default=None,
                       help="the last 1, 7 or 30 days instead of one day: scored, reverted, undone by humans, "
                            "failed rollbacks, reports filed/confirmed/declined, precision with its interval; "
                            "with --publish, rewrites the central summary page (all windows, one row per wiki)")
    stats.add_argument("--day", default=None, help="YYYY-MM-DD (UTC; default today)")
    stats.add_argument("--publish", action="store_true",
                       help="append the day's row to the wiki's statistics page (with --days: the central summary)")
    stats.add_argument("--page", default=None,
                       help="override wikis[].stats_page (with --days: central_config.summary_page)")
    stats.set_defaults(func=_stats)
