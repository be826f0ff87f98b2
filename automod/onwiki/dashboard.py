"""The figures over the last 1, 7 and 30 days, per wiki, and one summary page for all of them.

What stewards watching many small wikis ask for (Phabricator T360127): edits scored,
reverts, reverts that humans undid, rollbacks that failed or expired, false-positive reports
filed / confirmed / declined, and the precision so far with its 95% interval. The summary
page on the central wiki has one row per governed wiki; the bot owns that page and rewrites
it whole (humans discuss on its talk page).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from automod.errors import AutomodError, StoreError
from automod.evidence import wilson
from automod.onwiki.central_config import governed_wikis
from automod.onwiki.gateway import WikiGateway
from automod.settings import Settings
from automod.store import CONFIRMED_REPORT_STATUSES, Store

__all__ = ["WINDOWS", "WindowStats", "publish_summary", "publish_summary_if_due", "publish_windows", "summary_table",
           "window_stats", "windows_page", "windows_table"]

log = logging.getLogger("automod.onwiki.dashboard")

WINDOWS = (1, 7, 30)
DAY = 86400.0
#: Rollbacks decided but not done: refused, given up after retries (expired), cut by a stop,
#: or refused because the event did not match the revision.
FAILED_ROLLBACKS = ("rollback-failed", "rollback-abandoned", "rollback-expired", "interrupted", "target-mismatch")


@dataclass(frozen=True)
class WindowStats:
    """One wiki's figures over the last ``days`` days (precision: all reverts until now)."""

    wiki: str
    days: int
    scored: int
    reverts: int
    reverts_undone: int
    failed_rollbacks: int
    reports_filed: int
    reports_confirmed: int
    reports_declined: int
    precision_so_far: float | None
    precision_low: float | None
    precision_high: float | None
    #: The page whose revision governed the wiki's latest decision (local or central).
    governed_by: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def window_stats(store: Store, wiki: str, days: int, now: float | None = None) -> WindowStats:
    """The figures of the last ``days`` days before ``now``, from the store."""
    now = time.time() if now is None else now
    since = now - days * DAY
    confirmed = CONFIRMED_REPORT_STATUSES
    total_reverted = store.count_decisions(wiki, outcomes=("reverted",), before=now)
    total_confirmed = store.count_reports(wiki, statuses=confirmed, updated_before=now, distinct_revisions=True)
    interval = wilson(max(total_reverted - total_confirmed, 0), total_reverted) if total_reverted else None
    return WindowStats(
        wiki=wiki, days=days,
        scored=store.count_decisions(wiki, scored=True, since=since, before=now),
        reverts=store.count_decisions(wiki, outcomes=("reverted",), since=since, before=now),
        reverts_undone=store.count_reports(wiki, kind="implicit", created_since=since, created_before=now),
        failed_rollbacks=store.count_decisions(wiki, outcomes=FAILED_ROLLBACKS, since=since, before=now),
        reports_filed=store.count_reports(wiki, kind="explicit", created_since=since, created_before=now),
        reports_confirmed=store.count_reports(wiki, statuses=confirmed, updated_since=since, updated_before=now),
        reports_declined=store.count_reports(wiki, statuses=("declined",), updated_since=since, updated_before=now),
        precision_so_far=round(1 - total_confirmed / total_reverted, 4) if total_reverted else None,
        precision_low=round(interval[0], 4) if interval else None,
        precision_high=round(interval[1], 4) if interval else None,
        governed_by=store.latest_config_page(wiki),
    )


def _precision(stats: WindowStats) -> str:
    if stats.precision_so_far is None or stats.precision_low is None or stats.precision_high is None:
        return "—"
    return f"{stats.precision_so_far:.1%} ({stats.precision_low:.1%}–{stats.precision_high:.1%})"


def summary_table(rows: list[list[WindowStats]], generated: float) -> str:
    """A wikitable: one row per wiki; for each window, reverts / undone / failed / reports
    filed, confirmed and declined; then the precision so far and the governing page."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(generated))
    windows = [s.days for s in rows[0]] if rows else list(WINDOWS)
    head = " !! ".join(f"Last {d} day{'s' if d > 1 else ''}: scored / reverted / undone by humans / failed"
                       f" / reports filed / confirmed / declined" for d in windows)
    lines = [f"Activity of the bot on every wiki the central configuration governs (updated {stamp}).", "",
             '{| class="wikitable sortable"', f"! Wiki !! {head} !! Precision so far (95% interval) !! Governed by"]
    for per_window in rows:
        cells = [f"{s.scored} / {s.reverts} / {s.reverts_undone} / {s.failed_rollbacks} / {s.reports_filed}"
                 f" / {s.reports_confirmed} / {s.reports_declined}" for s in per_window]
        last = per_window[-1]
        governed = f"<nowiki>{last.governed_by}</nowiki>" if last.governed_by else "—"
        lines += ["|-", f"| {last.wiki} || {' || '.join(cells)} || {_precision(last)} || {governed}"]
    return "\n".join(lines + ["|}", ""])


def publish_summary(gateway: WikiGateway, store: Store, wikis: list[str], page: str,
                    now: float | None = None) -> list[list[WindowStats]]:
    """Rewrite the summary ``page`` with every wiki's 1/7/30-day figures."""
    now = time.time() if now is None else now
    rows = [[window_stats(store, wiki, days, now) for days in WINDOWS] for wiki in wikis]
    gateway.edit(page, text=summary_table(rows, now), summary="automod: activity of the governed wikis")
    return rows


def publish_summary_if_due(gateway: WikiGateway, store: Store, settings: Settings, wiki: str,
                           now: float | None = None) -> bool:
    """The running bot's daily summary: on the central wiki's thread (whose ``gateway`` this
    is), at most once per UTC day (remembered in the store, so across restarts). A failure is
    logged and tried again at the next check; True if the page was rewritten."""
    central = settings.central_config
    if central is None or not central.summary_page or central.wiki != wiki:
        return False
    now = time.time() if now is None else now
    key, day = f"{central.wiki}:summary", datetime.fromtimestamp(now, tz=timezone.utc).date().isoformat()
    if store.published(key, day):
        return False
    try:
        publish_summary(gateway, store, list(governed_wikis(settings)), central.summary_page, now)
    except StoreError:
        raise  # the store is the bot's memory: a fault there stops the bot
    except AutomodError as exc:
        log.error("%s: cannot publish the central summary on %s: %s", wiki, central.summary_page, exc)
        return False
    store.mark_published(key, day, now)
    log.info("%s: published the central summary on %s", wiki, central.summary_page)
    return True


def windows_page(stats_page: str) -> str:
    """The bot-owned subpage of a wiki's statistics page with its 1/7/30-day figures (the
    statistics page itself is only ever appended to)."""
    return f"{stats_page}/Windows"


def windows_table(rows: list[WindowStats], generated: float) -> str:
    """One wiki's figures, one row per window (the statistics page transcludes it)."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(generated))
    lines = [f"Activity of the bot over the last 1, 7 and 30 days (updated {stamp}).", "",
             '{| class="wikitable"', "! Window !! Edits scored !! Reverted !! Undone by humans !! Failed or expired"
             " rollbacks !! Reports filed !! Confirmed !! Declined !! Precision so far (95% interval)"]
    for s in rows:
        lines += ["|-", f"| {s.days} day{'s' if s.days > 1 else ''} || {s.scored} || {s.reverts}"
                        f" || {s.reverts_undone} || {s.failed_rollbacks} || {s.reports_filed}"
                        f" || {s.reports_confirmed} || {s.reports_declined} || {_precision(s)}"]
    return "\n".join(lines + ["|}", ""])


def publish_windows(gateway: WikiGateway, store: Store, wiki: str, stats_page: str,
                    now: float | None = None) -> list[WindowStats]:
    """Rewrite ``<stats_page>/Windows`` with ``wiki``'s 1/7/30-day figures."""
    now = time.time() if now is None else now
    rows = [window_stats(store, wiki, days, now) for days in WINDOWS]
    gateway.edit(windows_page(stats_page), text=windows_table(rows, now),
                 summary="automod: activity over the last 1, 7 and 30 days")
    return rows
