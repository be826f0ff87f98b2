"""Backtest: replay last week's stream, score every candidate without acting, show the table.

A community can choose a threshold from edits already made instead of running log-only for
weeks. The replay goes through the real :class:`~automod.moderation.moderator.Moderator` in dry-run
mode, so intake filters, skip rules, scoring and decisions are exactly the bot's; then
:class:`~automod.evidence.labels.Labeller` fetches what became of each scored edit and the threshold
table is built as for ``automod thresholds``.

Looking back changes what the wiki says about an edit: since it was made, it may have been
reverted (``mw-reverted``) or edited over (no longer the top revision), and the skip rules
would then wrongly pass over exactly the edits that matter. The replay therefore judges each
edit as the live bot would have seen it moments after it was saved: the edit is the top
revision and carries none of the tags added later. Rights, protection and blocks are read as
they are now, and the per-user cap counts would-reverts of the whole replay (not 24 h).

Resumable: the replay has its own store (never the bot's), which keeps the stream position;
running the same command again continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from automod.config import AppliedConfig
from automod.errors import ConfigError
from automod.evidence import (
    Labeller,
    ThresholdTable,
    build_table,
    current_threshold,
    models_in_store,
    observations_from_store,
    with_labels,
)
from automod.moderation.candidates import rejection_reason
from automod.moderation.moderator import POSITION_SAVE_INTERVAL, Moderator
from automod.moderation.served_wiki import ServedWiki
from automod.moderation.skip_rules import RevisionContext
from automod.records import RecentChange
from automod.settings import Settings
from automod.store import MIGRATIONS, Store
from automod.stream import StreamFollower

__all__ = ["AsOfEditGateway", "BacktestOptions", "BacktestSummary", "BacktestWiki", "backtest", "default_store_path"]

log = logging.getLogger("automod.moderation.backtest")

#: Tags MediaWiki adds to a revision after it was saved.
LATER_TAGS = frozenset({"mw-reverted"})
PROGRESS_EVERY = 2.0


@dataclass(frozen=True)
class BacktestOptions:
    wiki: str
    since: str                    # ISO 8601, as EventStreams' ?since=
    until: str | None = None      # ISO 8601; default: when the backtest started
    store: Path | None = None
    max_events: int | None = None
    idle_seconds: float = 30.0    # stop when the stream is quiet this long (caught up on a quiet wiki)
    label_wait: float = 120.0     # seconds spent fetching outcomes after the replay


@dataclass
class BacktestSummary:
    events: int = 0
    candidates: int = 0
    last_dt: str | None = None
    stopped_by: str = ""


def _epoch(iso: str) -> float:
    try:
        stamp = datetime.fromisoformat(iso.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{iso!r} is not an ISO 8601 date or date-time") from None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def default_store_path(settings: Settings, wiki: str, since: str) -> Path:
    """Beside the bot's store, one per wiki and start: re-running resumes the same replay."""
    slug = "".join(c if c.isalnum() else "-" for c in since).strip("-")
    return settings.store.with_name(f"backtest-{wiki}-{slug}.sqlite")


class AsOfEditGateway:
    """A WikiGateway whose revision context is as of the moment the edit was saved."""

    def __init__(self, inner: Any):
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def revision_context(self, change: RecentChange, **options: Any) -> RevisionContext:
        ctx: RevisionContext = self._inner.revision_context(change, **options)
        return dataclasses.replace(ctx, tags=ctx.tags - LATER_TAGS, top_rev_id=ctx.rev_id, top_user=ctx.user,
                                   edited_since_by_others=False)


class BacktestWiki(ServedWiki):
    """A served wiki for replays: judged as of each edit, and scored even while the bot is off.

    Choosing a threshold before switching the bot on is the point, so ``enabled: false`` is
    ignored here (nothing is ever acted on: the moderator runs in dry-run mode).
    """

    def connect(self) -> Any:
        gateway = super().connect()
        if gateway is not None and not isinstance(gateway, AsOfEditGateway):
            self.gateway = gateway = AsOfEditGateway(gateway)  # type: ignore[assignment]  # wraps, not subclasses
        return gateway

    def refresh_config(self, force: bool = False) -> AppliedConfig:
        applied = super().refresh_config(force)
        if applied.config is not None and not applied.config.enabled:
            applied = dataclasses.replace(applied, config=dataclasses.replace(applied.config, enabled=True))
            self.applied = applied
        return applied


def _idle_watchdog(follower: StreamFollower, last_seen: list[float], idle: float) -> threading.Thread:
    def watch() -> None:
        while not follower.closed:
            if time.monotonic() - last_seen[0] > idle:
                log.info("no event for %.0f s: caught up", idle)
                follower.close()
                return
            time.sleep(min(0.5, idle / 4))

    thread = threading.Thread(target=watch, name="backtest-idle", daemon=True)
    thread.start()
    return thread


def replay(settings: Settings, options: BacktestOptions, store: Store, progress: TextIO) -> BacktestSummary:
    """Feed the stream from ``options.since`` through a dry-run moderator; return counts."""
    until = _epoch(options.until) if options.until else time.time()
    _epoch(options.since)  # fail early on a bad date
    url = settings.stream.url
    current_ts = [time.time()]
    served = BacktestWiki(settings.wiki(options.wiki), settings, store, login=False)
    served.refresh_config(force=True)
    if served.gateway is None:
        raise ConfigError(served.disabled_reason() or f"cannot connect to {options.wiki}")
    moderator = Moderator(settings, store, io.StringIO(), dry_run=True, clock=lambda: current_ts[0],
                          wikis={options.wiki: served})
    position = store.position(url)
    follower = StreamFollower(url, user_agent=settings.user_agent, since=options.since,
                              last_event_id=position.event_id if position else None,
                              stall_seconds=settings.stream.stall_seconds)
    log.info("replaying %s for %s from %s", url, options.wiki,
             f"event {position.event_id}" if position else options.since)
    summary = BacktestSummary()
    last_seen = [time.monotonic()]
    _idle_watchdog(follower, last_seen, options.idle_seconds)
    last_print = last_save = time.monotonic()
    unsaved: tuple[str, str] | None = None
    wikis = frozenset({options.wiki})
    try:
        for event_id, change in follower:
            last_seen[0] = time.monotonic()
            if _epoch(change.meta.dt) > until:
                summary.stopped_by = "until"
                break
            summary.events += 1
            summary.last_dt = change.meta.dt
            current_ts[0] = float(change.timestamp)
            moderator.notice_config_edit(change)
            reason = rejection_reason(change, wikis)
            if reason is None:
                summary.candidates += 1
                moderator.handle(change, event_id, url)
                unsaved = None
            else:
                unsaved = (event_id, change.meta.dt)
                if reason == "page-creation" and change.wiki in wikis and change.namespace == 0:
                    moderator.record_creation(change)
                if time.monotonic() - last_save >= POSITION_SAVE_INTERVAL:
                    store.save_position(url, *unsaved)
                    unsaved, last_save = None, time.monotonic()
            if time.monotonic() - last_print >= PROGRESS_EVERY:
                _progress(progress, summary, served.name)
                last_print = time.monotonic()
            if options.max_events and summary.events >= options.max_events:
                summary.stopped_by = "max-events"
                break
        else:
            summary.stopped_by = summary.stopped_by or "idle"
    finally:
        follower.close()
        moderator.close()
        if unsaved is not None:
            store.save_position(url, *unsaved)
    _progress(progress, summary, served.name)
    return summary


def _progress(out: TextIO, summary: BacktestSummary, wiki: str) -> None:
    out.write(f"backtest {wiki}: {summary.events} events, {summary.candidates} candidates,"
              f" at {summary.last_dt or '-'}\n")
    out.flush()


def fetch_labels(settings: Settings, wiki: str, store: Store, progress: TextIO, wait: float) -> int:
    """Label the replay's scored edits for up to ``wait`` seconds; return how many were checked."""
    served = ServedWiki(settings.wiki(wiki), settings, store, login=False)
    gateway = served.connect()
    if gateway is None:
        raise ConfigError(served.disabled_reason() or f"cannot connect to {wiki}")
    labeller = Labeller(min_age=0.0, batch=50)
    deadline = time.monotonic() + wait
    checked = 0
    while time.monotonic() < deadline:
        run = labeller.run_once(gateway.query, store, wiki, bot_user=gateway.bot_user,
                                budget_seconds=max(0.0, deadline - time.monotonic()))
        checked += run.checked
        progress.write(f"labels {wiki}: {checked} edits checked\n")
        if run.checked == 0 or run.error:
            break
    return checked


def backtest(settings: Settings, options: BacktestOptions, *, progress: TextIO,
             target_precision: float = 0.95) -> ThresholdTable:
    """Replay, label, and return the threshold table for the replayed window."""
    wiki = settings.wiki(options.wiki)
    path = options.store or default_store_path(settings, options.wiki, options.since)
    if path.resolve() == settings.store.resolve():
        raise ConfigError("the backtest needs its own store, not the bot's")
    only = dataclasses.replace(settings, wikis=(wiki,), store=path)
    progress.write(f"backtest store: {path}\n")
    with Store(path, migrations=with_labels(MIGRATIONS)) as store:
        replay(only, options, store, progress)
        fetch_labels(only, options.wiki, store, progress, options.label_wait)
        models = models_in_store(store, options.wiki)
        if not models:
            raise ConfigError(f"the replay scored no edit on {options.wiki} (is the bot enabled in its config?)")
        observations = observations_from_store(store, options.wiki, models[0])
        current = current_threshold(store, options.wiki, models[0])
    return build_table(observations, target_precision=target_precision, current=current)
