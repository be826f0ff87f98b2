"""Daily statistics for the community: one table row per day on a wiki page, appended.

The page holds a wikitable that is never closed: MediaWiki closes an open table at the end
of the page, so each day's row is a plain ``appendtext`` — the bot never rewrites the page
and cannot lose a human's edit to it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from automod.errors import WikiError
from automod.onwiki.dashboard import publish_windows, windows_page
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.rate_limits import AccountLimits, read_limits
from automod.onwiki.wikitext import plain
from automod.store import CONFIRMED_REPORT_STATUSES, Store

__all__ = ["HEADER", "DayStats", "day_stats", "publish_day", "rate_limit_row", "table_row"]

log = logging.getLogger("automod.onwiki.stats")

HEADER = ("Daily activity of the bot, one row per day (UTC), appended automatically.\n\n"
          "{| class=\"wikitable sortable\"\n"
          "! Day !! Edits seen !! Scored !! Skipped (by reason) !! Would revert !! Reverted "
          "!! Reports opened !! Confirmed !! Declined !! Precision so far\n")


@dataclass
class DayStats:
    day: date
    seen: int = 0
    scored: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    would_revert: int = 0
    reverted: int = 0
    #: Reverts that took more than the scored revision (a rollback takes the editor's whole run
    #: of consecutive edits): scored revision → every revision taken; and how many earlier
    #: revisions they took with them.
    multi_revision_reverts: dict[int, tuple[int, ...]] = field(default_factory=dict)
    earlier_revisions_reverted: int = 0
    reports_opened: int = 0
    confirmed: int = 0  # confirmed false positives, reinstated ones included
    reinstated: int = 0
    declined: int = 0
    no_match: int = 0
    precision_so_far: float | None = None


def _bounds(day: date) -> tuple[float, float]:
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()
    return start, start + 86400


def day_stats(store: Store, wiki: str, day: date) -> DayStats:
    """Counts for one UTC day, from the store (decisions by the time they were taken)."""
    start, end = _bounds(day)
    stats = DayStats(day)
    for row in store.decisions_between(wiki, start, end):
        stats.seen += 1
        if row.probability is not None:
            stats.scored += 1
        if row.outcome in ("skip", "disabled"):
            stats.skipped[str(row.reason).split(":")[0] if row.outcome == "skip" else "disabled"] += 1
        if row.outcome == "would-revert":
            stats.would_revert += 1
        if row.outcome == "reverted":
            stats.reverted += 1
    stats.multi_revision_reverts = store.multi_revision_reverts(wiki, start, end)
    stats.earlier_revisions_reverted = sum(len(taken) - 1 for taken in stats.multi_revision_reverts.values())
    reports = store.reports(wiki)
    stats.reports_opened = sum(1 for r in reports if start <= r.created_at < end)
    decided_today = [r.status for r in reports if start <= r.updated_at < end]
    stats.confirmed = sum(1 for s in decided_today if s in CONFIRMED_REPORT_STATUSES)
    stats.reinstated = decided_today.count("reinstated")
    stats.declined = decided_today.count("declined")
    stats.no_match = decided_today.count("no-match")
    total_reverted = store.count_decisions(wiki, outcomes=("reverted",), before=end)
    total_confirmed = store.count_reports(wiki, statuses=CONFIRMED_REPORT_STATUSES, updated_before=end,
                                          distinct_revisions=True)
    if total_reverted:
        stats.precision_so_far = round(1 - total_confirmed / total_reverted, 4)
    return stats


def table_row(stats: DayStats) -> str:
    # Reasons are the bot's codes, but a cell must never hold a stray "|" or "{{": quoted.
    skipped = ", ".join(f"{plain(reason)} {n}" for reason, n in stats.skipped.most_common()) or "—"
    precision = f"{stats.precision_so_far:.1%}" if stats.precision_so_far is not None else "—"
    reverted = str(stats.reverted)
    if stats.earlier_revisions_reverted:  # said in the same cell: the table's columns stay as they were
        reverted += (f" (+{stats.earlier_revisions_reverted} earlier edits by the same editors, taken with "
                     f"{len(stats.multi_revision_reverts)} rollbacks)")
    return (f"|-\n| {stats.day.isoformat()} || {stats.seen} || {stats.scored} || {skipped} || "
            f"{stats.would_revert} || {reverted} || {stats.reports_opened} || {stats.confirmed} || "
            f"{stats.declined} || {precision}\n")


def rate_limit_row(limits: AccountLimits | None) -> str:
    """A full-width row under the day's when the bot account lacks ``noratelimit``: the
    community can see why a burst of vandalism takes minutes to revert, and who can fix it."""
    if limits is None or limits.rollback is None:
        return ""
    return f'|-\n| colspan="10" | Note: {plain(limits.advice())}\n'


def publish_day(gateway: WikiGateway, store: Store, wiki: str, page: str, day: date) -> DayStats:
    """Append ``day``'s row to ``page`` (creating the table first if the page is new, with
    the 1/7/30-day figures transcluded from the bot-owned ``<page>/Windows``, rewritten now)."""
    stats = day_stats(store, wiki, day)
    publish_windows(gateway, store, wiki, page)
    if gateway.page_text(page) is None:
        intro, table = HEADER.split("\n\n", 1)
        gateway.edit(page, text=f"{intro}\n\n{{{{:{windows_page(page)}}}}}\n\n{table}",
                     summary="automod: daily statistics table", create_only=True)
    try:
        limits: AccountLimits | None = read_limits(gateway)
    except WikiError as exc:  # the day's row matters more than the note
        log.warning("%s: cannot read the bot account's rate limits: %s", wiki, exc)
        limits = None
    gateway.edit(page, appendtext=table_row(stats) + rate_limit_row(limits),
                 summary=f"automod: statistics for {day.isoformat()}")
    store.mark_published(wiki, day.isoformat(), time.time())
    log.info("%s: published statistics for %s on %s", wiki, day, page)
    return stats


def yesterday_unpublished(store: Store, wiki: str, now: float | None = None) -> date | None:
    """Yesterday (UTC) if its row has not been published yet."""
    today = datetime.fromtimestamp(now if now is not None else time.time(), tz=timezone.utc).date()
    day = today - timedelta(days=1)
    return None if store.published(wiki, day.isoformat()) else day
