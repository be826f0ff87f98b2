"""The pipeline: stream → intake filters → (prechecks → score → decide → act) → store.

Reading :func:`run` top to bottom should explain the bot. In this version the bot follows
the stream and reports candidates (``--dry-run``); scoring and acting plug in after the
intake filters.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from automod.candidates import rejection_reason
from automod.errors import ConfigError
from automod.events import RecentChange
from automod.settings import Settings
from automod.store import Store
from automod.stream import RetryPolicy, StreamFollower

__all__ = ["RunOptions", "RunSummary", "candidate_line", "run"]

log = logging.getLogger("automod.moderator")

#: Positions of events that need no action are saved at most this often; replaying a
#: few rejected events after a crash is harmless, a commit per event is not free.
POSITION_SAVE_INTERVAL = 1.0


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = True
    max_events: int | None = None
    exit_after: float | None = None
    retry: RetryPolicy = RetryPolicy()


@dataclass
class RunSummary:
    events: int = 0
    candidates: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


def candidate_line(change: RecentChange) -> dict[str, Any]:
    """The JSON object printed for each candidate edit in dry-run mode."""
    return {
        "wiki": change.wiki,
        "title": change.title,
        "rev_id": change.rev_id,
        "parent_id": change.parent_id,
        "user": change.user,
        "timestamp": change.timestamp,
    }


def run(settings: Settings, options: RunOptions, out: TextIO) -> RunSummary:
    """Follow the stream until closed, ``max_events`` or ``exit_after``; return counts."""
    if not options.dry_run:
        raise ConfigError("only --dry-run is available in this version: scoring and reverting are not built yet")
    url = settings.stream.url
    served = settings.served_wikis
    summary = RunSummary()
    with Store(settings.store) as store:
        position = store.position(url)
        follower = StreamFollower(
            url,
            user_agent=settings.user_agent,
            last_event_id=position.event_id if position else None,
            stall_seconds=settings.stream.stall_seconds,
            retry=options.retry,
            on_malformed=lambda eid, raw, err: store.record_malformed(url, eid, raw, str(err)),
        )
        log.info("following %s for %s from %s", url, ", ".join(sorted(served)),
                 f"event {position.event_id}" if position else "now")
        stop = _stop_on_signal_and_timer(follower, options.exit_after)
        unsaved: tuple[str, str] | None = None
        last_save = time.monotonic()
        try:
            for event_id, change in follower:
                summary.events += 1
                reason = rejection_reason(change, served)
                if reason is None:
                    with store.atomic():  # the decision and the position commit together
                        _handle_candidate(store, change, out, summary)
                        store.save_position(url, event_id, change.meta.dt)
                    unsaved = None
                else:
                    summary.rejected[reason] = summary.rejected.get(reason, 0) + 1
                    unsaved = (event_id, change.meta.dt)
                    if time.monotonic() - last_save >= POSITION_SAVE_INTERVAL:
                        store.save_position(url, *unsaved)
                        unsaved, last_save = None, time.monotonic()
                if options.max_events and summary.events >= options.max_events:
                    break
        finally:
            stop()
            follower.close()
            if unsaved is not None:
                store.save_position(url, *unsaved)
    log.info("stopped after %d events: %d candidates, %d duplicates, rejected %s",
             summary.events, summary.candidates, summary.duplicates, summary.rejected)
    return summary


def _handle_candidate(store: Store, change: RecentChange, out: TextIO, summary: RunSummary) -> None:
    assert change.rev_id is not None  # guaranteed for edits by events.parse_event
    if store.has_decision(change.wiki, change.rev_id):
        # Re-delivered after a reconnect or restart: it was handled already.
        summary.duplicates += 1
        log.info("%s r%d already handled, skipping duplicate delivery", change.wiki, change.rev_id)
        return
    out.write(json.dumps(candidate_line(change), ensure_ascii=False) + "\n")
    out.flush()
    store.record_decision(
        wiki=change.wiki, rev_id=change.rev_id, parent_id=change.parent_id, title=change.title,
        user=change.user, event_dt=change.meta.dt, outcome="candidate", reason="dry-run",
    )
    summary.candidates += 1


def _stop_on_signal_and_timer(follower: StreamFollower, exit_after: float | None):  # type: ignore[no-untyped-def]
    """Close the follower on SIGTERM/SIGINT or after ``exit_after`` s; return an undo."""
    timer = threading.Timer(exit_after, follower.close) if exit_after else None
    if timer:
        timer.daemon = True
        timer.start()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: follower.close())

    def undo() -> None:
        if timer:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return undo
