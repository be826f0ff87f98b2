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
import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TextIO

from automod.errors import AutomodError, StoreError
from automod.evidence import Labeller, record_report_label
from automod.moderation.candidates import rejection_reason
from automod.moderation.chores import Chore, Scheduler
from automod.moderation.memory import TRIM_INTERVAL, release_free_memory
from automod.moderation.moderator import Moderator, RunSummary
from automod.moderation.retries import MARGIN_SECONDS, DecisionRetries, Deferred, seconds_left
from automod.moderation.served_wiki import ServedWiki
from automod.moderation.shared_tasks import run_shared_tasks
from automod.moderation.work_queue import HeldEdit, ReportPasses
from automod.onwiki import PassSteps, publish_day, publish_summary_if_due, yesterday_unpublished
from automod.records import HandleResult, RecentChange
from automod.settings import Settings, WikiSettings
from automod.store import Store
from automod.stream import MALFORMED_KEEP_BYTES

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


@dataclass
class _PassInHand:
    """A report-page pass begun and not finished: its steps, resumed between candidate edits."""

    page: str | None  # None: the pass for the reports that waited for the flood limits
    held: list[HeldEdit[_Item]]  # the held edits it stands for, settled when it ends
    steps: PassSteps
    since: float  # monotonic: when its oldest held edit was held (or the pass began)


#: Faults of the whole system, not of one event: they stop the worker (and the bot) loudly.
SYSTEM_FAULTS = (StoreError, sqlite3.Error, MemoryError)

#: How often the statistics page is checked for yesterday's row (and the central summary).
STATISTICS_INTERVAL = 3600.0
#: How often reports waiting for the flood limits are looked at (a store read; the wiki only
#: when some wait and the limits allow a line).
WAITING_REPORTS_INTERVAL = 10.0

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
        self.in_hand: float | None = None  # when the event being handled now was received
        #: Edits a passing fault hit, decided again later (their stream position held).
        self.retries: DecisionRetries[_Item] = DecisionRetries()
        #: Report-page edits held for one coalesced pass per page, run when no candidate waits.
        self.passes: ReportPasses[_Item] = ReportPasses()
        #: The report-page pass begun, paused while candidate edits go first (issue 26).
        self.in_pass: _PassInHand | None = None
        #: Since when the waiting reports' pass has been kept back by candidate edits (None: not kept back).
        self.waiting_kept_since: float | None = None
        #: Called when the worker dies of a system fault (the runner closes the stream, so the
        #: bot stops at once and loudly instead of running on with a dead wiki).
        self.on_fatal: Callable[[], None] | None = None
        #: The periodic chores between events, in the order they run in a pass.
        self.chores = Scheduler([
            *([] if dry_run else [Chore("statistics", STATISTICS_INTERVAL, self._daily_statistics)]),
            Chore("outcome labels", self.labeller.interval, self._outcome_labels),
            Chore("shared report tasks", 0.0, self._shared_tasks),
            Chore("deferred decisions", 0.0, self._retry_deferred),
            Chore("report-page passes", 0.0, self._due_report_passes),
            Chore("free memory", TRIM_INTERVAL, release_free_memory),
            Chore("waiting reports", WAITING_REPORTS_INTERVAL, self._waiting_reports),
        ])

    def oldest_undecided_seconds(self) -> float:
        """How long the oldest event given to this wiki has waited for its decision (0: none)."""
        waiting = [self.in_hand] if self.in_hand is not None else []
        waiting += [d.item.received for d in list(self.retries.waiting)]
        with self.queue.mutex:  # a peek at the head; the queue itself is not consumed
            waiting += [i.received for i in list(self.queue.queue)[:1] if isinstance(i, _Item)]
        return round(time.monotonic() - min(waiting), 1) if waiting else 0.0

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
                self.moderator.read_rate_limits()  # logs when the account lacks noratelimit
                self.moderator.reconcile_interrupted()
                self.ready.set()
                self._loop()
                self.moderator.close()
        except BaseException as exc:  # reported to the main thread, which exits non-zero
            if isinstance(exc, StoreError):  # an expected fault: one line, the runner says it again
                log.error("%s: stopping: %s", self.wiki.name, exc)
            else:
                log.exception("%s: worker failed", self.wiki.name)
            self.error = exc
            if self.on_fatal is not None:
                self.on_fatal()
        finally:
            self.ready.set()

    def _loop(self) -> None:
        moderator = self.moderator
        assert moderator is not None
        while True:
            self.chores.run_due()
            if self.stop_now.is_set():
                return  # stopped during the chores (the event in hand is finished, the rest comes again)
            waits = [w for w in (self.retries.seconds_to_next(), self.passes.seconds_to_next(),
                                 0.0 if self.in_pass is not None else None) if w is not None]
            wait = min(waits) if waits else None
            try:
                item = self.queue.get(timeout=1.0 if wait is None else min(1.0, max(0.05, wait)))
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
            candidates += self._queued_candidates()  # scored ahead while this batch is decided
            if len(candidates) > 1:
                try:
                    moderator.prefetch(candidates)
                except SYSTEM_FAULTS:
                    raise
                except Exception:  # only costs the batch: each is then scored on its own
                    log.exception("%s: batch scoring failed", self.wiki.name)
            for item in batch:
                if item is _DRAIN and not self.stop_now.is_set():
                    self._report_passes(drain=True)  # finish everything queued, held passes too
                if item is _DRAIN or self.stop_now.is_set():
                    return
                assert isinstance(item, _Item)
                if self._held(item):
                    continue  # a report-page edit: its pass runs when no candidate waits
                if self._handle_isolated(item):
                    self._settled(item)
                if moderator.pending:
                    moderator.retry_pending()

    def _held(self, item: _Item) -> bool:
        """Hold a report-page edit for its page's coalesced pass (candidates go first). The
        config page and candidate edits are never held: they are handled at once, in order."""
        moderator = self.moderator
        assert moderator is not None
        change = item.change
        served = moderator.wikis.get(change.wiki)
        reason = rejection_reason(change, self.served)
        try:
            if served is None or reason is None or served.is_config_page(change.title):
                return False
            page = moderator.aftermath.report_page_of(served, change)
        except SYSTEM_FAULTS:
            raise
        except Exception:  # handled on its own then, where a failure costs only this event
            log.exception("%s: cannot tell whether r%s edits a report page", self.wiki.name, change.rev_id)
            return False
        if page is None:
            return False
        self.summary.rejected[reason] = self.summary.rejected.get(reason, 0) + 1
        self.passes.hold(page, change, item)
        return True

    def _queued_candidates(self) -> list[RecentChange]:
        """Candidates still waiting in the queue, at most ``BATCH_MAX`` (a peek, nothing taken),
        so a concurrent scorer keeps working while the batch in hand is decided."""
        with self.queue.mutex:
            waiting = [i.change for i in list(self.queue.queue)[:BATCH_MAX] if isinstance(i, _Item)]
        return [c for c in waiting if rejection_reason(c, self.served) is None]

    def _candidate_waiting(self) -> bool:
        """Whether a candidate edit is waiting in the queue or due for a retry (a peek)."""
        if self.retries.seconds_to_next() == 0:
            return True
        with self.queue.mutex:
            return any(isinstance(i, _Item) and rejection_reason(i.change, self.served) is None
                       for i in self.queue.queue)

    def _due_report_passes(self) -> None:
        """The chore: the held report-page passes that are due (stopping is seen by the loop)."""
        self._report_passes()

    def _waiting_reports(self) -> bool:
        """The chore: reports that waited for the flood limits, answered once the limits allow
        — while no candidate waits (a flood never slows a revert), or, once candidate edits have
        kept the pass back for ``max_wait``, a step between candidates as a held pass (a steady
        trickle of vandal edits starves no waiting report)."""
        moderator = self.moderator
        assert moderator is not None
        if len(self.passes) or self.in_pass is not None:
            return False  # due again at the next pass of the loop (a held pass reads them too)
        now = self.passes.clock()
        if self._candidate_waiting():
            self.waiting_kept_since = now if self.waiting_kept_since is None else self.waiting_kept_since
            if now - self.waiting_kept_since < self.passes.max_wait:
                return False
        since, self.waiting_kept_since = self.waiting_kept_since or now, None
        steps = moderator.aftermath.waiting_reports_steps(moderator.wikis[self.wiki.name])
        self.in_pass = _PassInHand(None, [], steps, since)
        self._report_passes()  # its steps, until a candidate edit comes (then resumed after it)
        return True

    def _shared_tasks(self) -> None:
        """The chore: this wiki's part of the shared false-positive page (shared_tasks.py)."""
        moderator = self.moderator
        assert moderator is not None
        run_shared_tasks(moderator.wikis[self.wiki.name], moderator.store, moderator.on_report_label)

    def _report_passes(self, drain: bool = False) -> bool:
        """Run the report-page passes that are due (all of them when draining), a step at a
        time: between two steps a waiting candidate edit goes first — the pass is paused in
        ``in_pass`` and resumed at the next pass of the loop — so a vandal edit never waits for
        a whole pass, only for the step in hand (issue 26: a flood never slows a revert). A
        pass whose oldest edit waited ``max_wait`` still takes one step between candidates, so
        a busy wiki starves no report. True if told to stop meanwhile (a pass stopped half way
        leaves its edits unsettled: they come again after a restart, and what it wrote is in
        the store, so nothing is answered twice). Every held edit a pass stands for is settled
        after it."""
        moderator = self.moderator
        assert moderator is not None
        stepped = False
        while True:
            if self.stop_now.is_set():
                return True
            if self.in_pass is None:
                page = (self.passes.pages()[0] if drain and len(self.passes)
                        else self.passes.due(self._candidate_waiting()))
                if page is None or (stepped and not drain and self._candidate_waiting()):
                    return False
                held = self.passes.take(page)
                steps = moderator.aftermath.report_page_pass_steps(moderator.wikis[self.wiki.name],
                                                                   [h.change for h in held])
                self.in_pass = _PassInHand(page, held, steps, held[0].held_at if held else self.passes.clock())
            elif not drain and self._candidate_waiting() and (stepped or not self._overdue(self.in_pass)):
                return False  # candidates first: the pass goes on after them
            stepped = True
            if self._step(self.in_pass):
                ended, self.in_pass = self.in_pass, None
                for h in ended.held:
                    self._settled(h.item)

    def _overdue(self, in_pass: _PassInHand) -> bool:
        return self.passes.clock() - in_pass.since >= self.passes.max_wait

    def _step(self, in_pass: _PassInHand) -> bool:
        """One step of a pass; True when the pass has ended (done, or failed: a failure costs
        only this pass, recorded, and the page's next edit reads it again)."""
        moderator = self.moderator
        assert moderator is not None
        try:
            next(in_pass.steps)
            return False
        except StopIteration:
            return True
        except SYSTEM_FAULTS:
            raise
        except Exception as exc:
            log.exception("%s: pass over %s failed; recorded and skipped", self.wiki.name,
                          in_pass.page or "the waiting reports")
            if in_pass.held:
                newest = in_pass.held[-1]
                moderator.store.record_malformed(self.settings.stream.url, newest.item.event_id or None,
                                                 repr(newest.change)[:MALFORMED_KEEP_BYTES],
                                                 f"handling failed: {type(exc).__name__}: {exc}")
            return True

    def _settled(self, item: _Item) -> None:
        assert self.moderator is not None
        self.tracker.done(item.seq)
        self.tracker.commit(self.moderator.store, self.settings.stream.url)  # handled → position saved

    def _retry_deferred(self) -> None:
        """Decide again the deferred edits whose time has come (one probes while a fault lasts)."""
        for deferred in self.retries.due():
            if self.stop_now.is_set():
                return
            if self.retries.holding():  # the probe before it failed again: wait behind it
                self.retries.wait_behind(deferred.item, deferred.order, deferred.attempts, deferred.reason)
            elif self._handle_isolated(deferred.item, deferred):
                self._settled(deferred.item)

    def _outcome_labels(self) -> bool:
        """Learn, a small batch at a time, what became of the edits the bot scored (False: no
        connection yet, tried again at the next pass)."""
        moderator = self.moderator
        assert moderator is not None
        gateway = moderator.wikis[self.wiki.name].gateway
        if gateway is None:
            return False
        self.labeller.run_once(gateway.query, moderator.store, self.wiki.name, bot_user=gateway.bot_user,
                               now=time.time(), budget_seconds=2.0)
        return True

    def _daily_statistics(self) -> None:
        """Once an hour (``STATISTICS_INTERVAL``; never in a dry run): publish yesterday's row
        if it is not on the page yet (and on the central wiki, the central summary page once a day)."""
        moderator = self.moderator
        assert moderator is not None
        gateway = moderator.wikis[self.wiki.name].gateway
        if gateway is not None:
            publish_summary_if_due(gateway, moderator.store, self.settings, self.wiki.name)
        day = yesterday_unpublished(moderator.store, self.wiki.name) if self.wiki.stats_page else None
        if gateway is None or day is None:
            return
        try:
            publish_day(gateway, moderator.store, self.wiki.name, self.wiki.stats_page, day)
        except SYSTEM_FAULTS:
            raise  # a full or read-only store stops the bot, not just this page
        except AutomodError as exc:
            log.error("%s: cannot publish statistics: %s", self.wiki.name, exc)

    def _handle_isolated(self, item: _Item, deferred: Deferred[_Item] | None = None) -> bool:
        """Handle one event so that whatever goes wrong with it costs only that event: it is
        recorded with its event id and reason and the position moves past it. Only faults of
        the whole system (the store unusable) stop the worker, which stops the bot loudly.
        False when the event was deferred (a passing fault): it is not settled yet."""
        self.in_hand = item.received
        try:
            return self._handle(item, deferred)
        except StoreError as exc:  # its position is not saved: the next run handles it again
            raise StoreError(f"{exc}; stopped at r{item.change.rev_id}, handled again by the next run") from exc
        except SYSTEM_FAULTS:
            raise
        except Exception as exc:
            log.exception("%s: event %s (r%s) failed; recorded and skipped", self.wiki.name, item.event_id,
                          item.change.rev_id)
            moderator = self.moderator
            assert moderator is not None
            moderator.store.record_malformed(self.settings.stream.url, item.event_id or None,
                                             repr(item.change)[:MALFORMED_KEEP_BYTES],
                                             f"handling failed: {type(exc).__name__}: {exc}")
            if rejection_reason(item.change, self.served) is None:
                moderator.record_failure(item.change, exc)
            return True
        finally:
            self.in_hand = None

    def _handle(self, item: _Item, deferred: Deferred[_Item] | None = None) -> bool:
        moderator = self.moderator
        assert moderator is not None
        change = item.change
        if deferred is None:
            moderator.notice_config_edit(change)
        reason = rejection_reason(change, self.served)
        if reason is None:
            attempts = deferred.attempts if deferred else 0
            config = moderator.wikis[self.wiki.name].applied.config
            left = seconds_left(change, config.max_edit_age_minutes) if config is not None else 0.0
            may_defer = left > self.retries.delay(attempts + 1) + MARGIN_SECONDS
            if may_defer and self.retries.holding():
                self.retries.wait_behind(item, item.seq, attempts)
                return False
            if deferred is None:
                self.summary.candidates += 1
            outcome = moderator.handle(change, received=item.received, may_defer=may_defer, attempt=attempts + 1)
            if outcome is HandleResult.DEFERRED:
                self.retries.failed(item, item.seq, attempts + 1, "passing fault")
                return False
            if attempts:
                self.retries.succeeded()
        else:
            self.summary.rejected[reason] = self.summary.rejected.get(reason, 0) + 1
            if reason == "page-creation" and change.namespace == 0:
                moderator.record_creation(change)
        return True
