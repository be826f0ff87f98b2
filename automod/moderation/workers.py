"""One thread per served wiki, so a slow or failing wiki never delays the others.

The stream is read by one thread; each event for a served wiki goes to that wiki's queue
and its own :class:`~automod.moderation.moderator.Moderator` (own SQLite connection, own config,
circuit breaker and scorers). The stream position may only move past an event once it is
fully handled, whichever wiki it belongs to: :class:`CompletionTracker` commits the highest
event below which everything is done. After a crash, events past that point come again and
are recognised by their recorded decisions (at least once, acted on at most once).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import TextIO

from automod.errors import AutomodError
from automod.evidence.labels import Labeller, record_report_label
from automod.moderation.candidates import rejection_reason
from automod.moderation.moderator import Moderator, RunSummary
from automod.moderation.served_wiki import ServedWiki
from automod.onwiki.stats import publish_day, yesterday_unpublished
from automod.settings import Settings, WikiSettings
from automod.store import Store
from automod.stream.events import RecentChange

__all__ = ["CompletionTracker", "WikiWorker"]

log = logging.getLogger("automod.moderation.workers")


class CompletionTracker:
    """Sequence numbers of stream events, and the newest position safe to commit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[str, str | None, bool]] = {}  # seq -> (event id, dt, done)
        self._next = 1  # lowest seq not yet committed
        self._safe: tuple[str, str | None] | None = None

    def add(self, seq: int, event_id: str, dt: str | None, done: bool = False) -> None:
        with self._lock:
            self._pending[seq] = (event_id, dt, done)
            self._advance()

    def done(self, seq: int) -> None:
        with self._lock:
            event_id, dt, _ = self._pending[seq]
            self._pending[seq] = (event_id, dt, True)
            self._advance()

    def _advance(self) -> None:
        while self._next in self._pending and self._pending[self._next][2]:
            event_id, dt, _ = self._pending.pop(self._next)
            self._safe = (event_id, dt)
            self._next += 1

    def commit(self, store: Store, url: str) -> None:
        """Save the newest fully handled position, if it moved (serialised: never backwards)."""
        with self._lock:
            safe, self._safe = self._safe, None
            if safe is not None:
                store.save_position(url, safe[0], safe[1])

    @property
    def outstanding(self) -> int:
        with self._lock:
            return len(self._pending)


@dataclass
class _Item:
    seq: int
    event_id: str
    change: RecentChange
    received: float  # time.monotonic() when the stream thread read it


_DRAIN = object()
#: Events taken from the queue at once when several are waiting, so a scorer that batches
#: (the multilingual model) can run their texts through its encoder together.
BATCH_MAX = 8


class WikiWorker(threading.Thread):
    """Handles every event of one wiki, in stream order, on its own thread."""

    def __init__(self, wiki: WikiSettings, settings: Settings, out: TextIO, tracker: CompletionTracker,
                 *, dry_run: bool, served: Collection[str]):
        super().__init__(name=f"wiki-{wiki.name}", daemon=True)
        self.wiki = wiki
        self.settings = settings
        self.out = out
        self.tracker = tracker
        self.dry_run = dry_run
        self.served = served
        self.queue: queue.Queue[object] = queue.Queue()
        self.stop_now = threading.Event()
        self.ready = threading.Event()
        self.summary = RunSummary()
        self.moderator: Moderator | None = None
        self.error: BaseException | None = None
        self.labeller = Labeller()

    def put(self, seq: int, event_id: str, change: RecentChange) -> None:
        self.queue.put(_Item(seq, event_id, change, time.monotonic()))

    def drain(self) -> None:
        """Finish everything queued, then stop."""
        self.queue.put(_DRAIN)

    def stop(self) -> None:
        """Finish the event in hand, then stop (the rest comes again after a restart)."""
        self.stop_now.set()
        self.queue.put(_DRAIN)

    def run(self) -> None:
        try:
            with Store(self.settings.store) as store:
                served = ServedWiki(self.wiki, self.settings, store, login=not self.dry_run)
                self.moderator = Moderator(self.settings, store, self.out, dry_run=self.dry_run,
                                           wikis={self.wiki.name: served})
                self.summary = self.moderator.summary
                self.moderator.on_report_label = record_report_label  # reviewers' verdicts → labels
                served.refresh_config(force=True)
                self.moderator.reconcile_interrupted()
                self.ready.set()
                self._loop()
                self.moderator.close()
        except BaseException as exc:  # reported to the main thread, which exits non-zero
            log.exception("%s: worker failed", self.wiki.name)
            self.error = exc
        finally:
            self.ready.set()

    def _loop(self) -> None:
        moderator = self.moderator
        assert moderator is not None
        while True:
            self._daily_statistics()
            self._outcome_labels()
            try:
                item = self.queue.get(timeout=1.0)
            except queue.Empty:
                if moderator.pending:
                    moderator.retry_pending()
                continue
            batch = [item]
            while len(batch) < BATCH_MAX:  # what is already waiting: no added latency
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            candidates = [i.change for i in batch
                          if isinstance(i, _Item) and rejection_reason(i.change, self.served) is None]
            if len(candidates) > 1:
                moderator.prefetch(candidates)
            for item in batch:
                if item is _DRAIN or self.stop_now.is_set():
                    return
                assert isinstance(item, _Item)
                self._handle(item)
                self.tracker.done(item.seq)
                self.tracker.commit(moderator.store, self.settings.stream.url)  # handled → position saved
                if moderator.pending:
                    moderator.retry_pending()

    def _outcome_labels(self) -> None:
        """Learn, a small batch at a time, what became of the edits the bot scored."""
        moderator = self.moderator
        assert moderator is not None
        now = time.time()
        gateway = moderator.wikis[self.wiki.name].gateway
        if gateway is not None and self.labeller.due(now):
            self.labeller.run_once(gateway.query, moderator.store, self.wiki.name, bot_user=gateway.bot_user,
                                   now=now, budget_seconds=2.0)

    _last_stats_check = 0.0

    def _daily_statistics(self) -> None:
        """Once an hour: publish yesterday's row if it is not on the page yet."""
        if not self.wiki.stats_page or self.dry_run or time.monotonic() - self._last_stats_check < 3600:
            return
        self._last_stats_check = time.monotonic()
        moderator = self.moderator
        assert moderator is not None
        gateway = moderator.wikis[self.wiki.name].gateway
        day = yesterday_unpublished(moderator.store, self.wiki.name)
        if gateway is None or day is None:
            return
        try:
            publish_day(gateway, moderator.store, self.wiki.name, self.wiki.stats_page, day)
        except AutomodError as exc:
            log.error("%s: cannot publish statistics: %s", self.wiki.name, exc)

    def _handle(self, item: _Item) -> None:
        moderator = self.moderator
        assert moderator is not None
        change = item.change
        moderator.notice_config_edit(change)
        reason = rejection_reason(change, self.served)
        if reason is None:
            self.summary.candidates += 1
            moderator.handle(change, received=item.received)
        else:
            self.summary.rejected[reason] = self.summary.rejected.get(reason, 0) + 1
            if reason == "page-creation" and change.namespace == 0:
                moderator.record_creation(change)
