"""Scoring a wiki's queued candidates ahead of their decisions, a bounded few at a time.

A remote scorer (Lift Wing) answers in 160–280 ms median and 1.4 s p95, so a wiki whose
edits are scored one after another is capped at a few edits per second however little the
bot itself does. :class:`ConcurrentPrefetch` wraps such a scorer: ``prefetch`` starts the
requests for revisions waiting in the wiki's queue on a bounded pool (``max_in_flight``
threads, each with its own scorer, since a ``requests`` session is not thread-safe) and
returns at once; ``score`` then takes that revision's answer, waiting for it if it is still
on its way, exactly once. Everything that matters for safety stays where it was: the wiki's
worker decides and rolls back one edit at a time in stream order, so per-page order, the
cap, the circuit breaker and at most one action per revision do not change. A prefetch that
fails costs only itself (the edit is scored again, normally, when decided); a revision
scored ahead but skipped later costs one wasted request.

A scorer that speaks Lift Wing's batch form (``batches``: the language-agnostic model) gets
the waiting revisions in shares, one per pool thread, up to 20 a request: the same
concurrency, fewer requests against Lift Wing's per-client rate limit.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields
from typing import Any

from automod.records import Score
from automod.scoring import BATCH_MAX, LiftWingStats, Scorer, Unscorable

__all__ = ["MEMO_MAX", "ConcurrentPrefetch"]

log = logging.getLogger("automod.moderation.prefetch")

#: Answers kept for revisions not decided yet; past this the oldest are dropped (a revision
#: scored ahead but never asked for, e.g. skipped by a rule, must not pile up).
MEMO_MAX = 256


class ConcurrentPrefetch:
    """A :class:`~automod.scoring.base.Scorer` that can score queued revisions concurrently.

    ``scorer`` is the worker thread's own scorer (used when nothing was prefetched);
    ``make`` builds one more scorer of the same kind for each pool thread. ``score`` and
    ``prefetch`` are called from the wiki's worker thread only.
    """

    def __init__(self, scorer: Scorer, make: Callable[[], Scorer], max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, not {max_in_flight}")
        self.scorer = scorer
        self.max_in_flight = max_in_flight
        self._make = make
        self._pool = ThreadPoolExecutor(max_in_flight, thread_name_prefix="prefetch")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._thread_scorers: list[Scorer] = []
        self._memo: OrderedDict[tuple[str, int], Future[Score]] = OrderedDict()
        self._closed = False

    def __repr__(self) -> str:
        return f"ConcurrentPrefetch({self.scorer!r}, max_in_flight={self.max_in_flight})"

    def _thread_scorer(self) -> Scorer:
        scorer: Scorer | None = getattr(self._local, "scorer", None)
        if scorer is None:
            scorer = self._local.scorer = self._make()
            with self._lock:
                self._thread_scorers.append(scorer)
        return scorer

    def _score_in_pool(self, wiki: str, rev_id: int) -> Score:
        return self._thread_scorer().score(wiki, rev_id)

    def _score_batch_in_pool(self, wiki: str, futures: dict[int, Future[Score]]) -> None:
        """One batch request for ``futures``' revisions; each gets its own answer or error."""
        wanted = {rev_id: f for rev_id, f in futures.items() if f.set_running_or_notify_cancel()}
        if not wanted:
            return
        try:
            batcher: Any = self._thread_scorer()  # one with ``batches`` (LiftWingScorer): Scorer has no score_many
            outcomes = batcher.score_many(wiki, list(wanted))
        except BaseException as exc:  # noqa: BLE001 - each revision is scored again when decided
            for future in wanted.values():
                future.set_exception(exc)
            return
        for future, outcome in zip(wanted.values(), outcomes):
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def prefetch(self, wiki: str, rev_ids: Sequence[int]) -> int:
        """Start scoring ``rev_ids`` (those not already started) and return at once; returns
        how many were started. The pool's size bounds the requests in flight."""
        if self._closed:
            return 0
        new = [rev_id for rev_id in dict.fromkeys(rev_ids) if (wiki, rev_id) not in self._memo]
        share = min(BATCH_MAX, -(-len(new) // self.max_in_flight))  # one share per pool thread
        if share > 1 and getattr(self.scorer, "batches", False):
            for start in range(0, len(new), share):
                futures: dict[int, Future[Score]] = {rev_id: Future() for rev_id in new[start:start + share]}
                for rev_id, future in futures.items():
                    self._memo[(wiki, rev_id)] = future
                self._pool.submit(self._score_batch_in_pool, wiki, futures)
        else:
            for rev_id in new:
                self._memo[(wiki, rev_id)] = self._pool.submit(self._score_in_pool, wiki, rev_id)
        while len(self._memo) > MEMO_MAX:
            _, dropped = self._memo.popitem(last=False)
            dropped.cancel()
        return len(new)

    def forget(self, wiki: str, rev_id: int) -> None:
        """Drop what was prefetched for ``rev_id``, decided without taking it (a skipped edit):
        kept until pushed out of the memo, each such answer (a future, its lock and condition, the
        score) outlived hundreds of decisions and pinned CPython's arenas (issue 29)."""
        future = self._memo.pop((wiki, rev_id), None)
        if future is not None:
            future.cancel()

    def score(self, wiki: str, rev_id: int) -> Score:
        """The prefetched answer for ``rev_id`` (taken once), else a score asked for now.
        Whatever went wrong in the pool, the revision is scored again here, so its error
        (or its retry) is the one :meth:`score` of the plain scorer would give."""
        future = self._memo.pop((wiki, rev_id), None)
        if future is not None and not future.cancelled():
            try:
                return future.result()
            except Unscorable:
                raise  # Lift Wing's answer for this revision (a 422): asking again gives it again
            except Exception as exc:  # noqa: BLE001 - only the prefetch is lost
                log.info("%s r%d: prefetched scoring failed (%s: %s); scoring again", wiki, rev_id,
                         type(exc).__name__, exc)
        return self.scorer.score(wiki, rev_id)

    @property
    def stats(self) -> LiftWingStats | None:
        """The request counters of every scorer of this wiki's model, summed (for health)."""
        with self._lock:
            scorers = [self.scorer, *self._thread_scorers]
        parts = [stats for s in scorers if isinstance(stats := getattr(s, "stats", None), LiftWingStats)]
        if not parts:
            return None
        total = LiftWingStats()
        for stats in parts:
            for f in fields(LiftWingStats):
                if f.name == "last_success":
                    if stats.last_success is not None:
                        total.last_success = max(total.last_success or 0.0, stats.last_success)
                elif f.name == "errors":
                    total.errors.update(stats.errors)
                else:
                    setattr(total, f.name, getattr(total, f.name) + getattr(stats, f.name))
        return total

    def close(self) -> None:
        """Stop the pool (pending prefetches are dropped) and close every scorer."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._memo.clear()
        with self._lock:
            scorers, self._thread_scorers = [self.scorer, *self._thread_scorers], []
        for scorer in scorers:
            scorer.close()
