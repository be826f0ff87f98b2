"""Running the bot: the stream feeding the :class:`~automod.moderator.Moderator`, signals,
timers and the one-off ``automod score``.

Positions of events that need no action are saved at most once a second: replaying a few
rejected events after a crash is harmless, a commit per event is not free.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from automod.candidates import rejection_reason
from automod.errors import WikiError
from automod.moderator import POSITION_SAVE_INTERVAL, Moderator, RunSummary
from automod.served_wiki import ServedWiki
from automod.settings import Settings
from automod.store import Store
from automod.stream import RetryPolicy, StreamFollower

__all__ = ["RunOptions", "run", "score_revision"]

log = logging.getLogger("automod.runner")


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    max_events: int | None = None
    exit_after: float | None = None
    retry: RetryPolicy = RetryPolicy()



def run(settings: Settings, options: RunOptions, out: TextIO) -> RunSummary:
    """Follow the stream until closed, ``max_events`` or ``exit_after``; return counts."""
    url = settings.stream.url
    served = settings.served_wikis
    with Store(settings.store) as store:
        moderator = Moderator(settings, store, out, dry_run=options.dry_run)
        summary = moderator.summary
        for wiki in moderator.wikis.values():
            wiki.refresh_config(force=True)
        moderator.reconcile_interrupted()
        position = store.position(url)
        follower = StreamFollower(
            url, user_agent=settings.user_agent,
            last_event_id=position.event_id if position else None,
            stall_seconds=settings.stream.stall_seconds, retry=options.retry,
            on_malformed=lambda eid, raw, err: store.record_malformed(url, eid, raw, str(err)))
        log.info("following %s for %s from %s%s", url, ", ".join(sorted(served)),
                 f"event {position.event_id}" if position else "now", " (dry run)" if options.dry_run else "")
        stop = _stop_on_signal_and_timer(follower, options.exit_after)
        unsaved: tuple[str, str] | None = None
        last_save = time.monotonic()
        try:
            for event_id, change in follower:
                summary.events += 1
                moderator.notice_config_edit(change)
                reason = rejection_reason(change, served)
                if reason is None:
                    summary.candidates += 1
                    moderator.handle(change, event_id, url)
                    unsaved = None
                else:
                    summary.rejected[reason] = summary.rejected.get(reason, 0) + 1
                    unsaved = (event_id, change.meta.dt)
                    if reason == "page-creation" and change.wiki in served and change.namespace == 0:
                        moderator.record_creation(change)
                    if time.monotonic() - last_save >= POSITION_SAVE_INTERVAL:
                        store.save_position(url, *unsaved)
                        unsaved, last_save = None, time.monotonic()
                if moderator.pending:
                    moderator.retry_pending()
                if options.max_events and summary.events >= options.max_events:
                    break
        finally:
            stop()
            follower.close()
            moderator.close()
            if unsaved is not None:
                store.save_position(url, *unsaved)
    log.info("stopped after %d events: %d candidates, %d duplicates, outcomes %s, rejected %s",
             summary.events, summary.candidates, summary.duplicates, summary.outcomes, summary.rejected)
    return summary


def score_revision(settings: Settings, wiki_name: str, rev_id: int) -> dict[str, Any]:
    """Score one revision and say what the bot would decide; change nothing anywhere."""

    with Store(":memory:") as store:
        out = io.StringIO()
        moderator = Moderator(settings, store, out, dry_run=True,
                              wikis={wiki_name: ServedWiki(settings.wiki(wiki_name), settings, store, login=False)})
        served = moderator.wikis[wiki_name]
        served.refresh_config(force=True)
        gateway = served.connect()
        if gateway is None:
            raise WikiError(served.disabled_reason() or f"cannot connect to {wiki_name}")
        change = gateway.revision_as_change(rev_id)
        # Age is irrelevant when asking about one revision by hand: judge it as if it were new.
        change = dataclasses.replace(change, timestamp=int(moderator.clock()))
        record = moderator._decide(change)
        moderator.close()
    return {"wiki": wiki_name, "rev_id": rev_id, "title": change.title, "user": change.user, **record}


def _stop_on_signal_and_timer(follower: StreamFollower, exit_after: float | None) -> Callable[[], None]:
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
