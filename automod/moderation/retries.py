"""Passing faults never leave vandalism standing: the edits they hit are decided again later.

A scorer answering 5xx, timing out or sending a malformed answer, and a wiki API that is
unreachable, lagged (maxlag) or rate-limiting, all pass. An edit such a fault hit is
deferred — nothing recorded yet, the stream position held before it, so a crash brings it
again — and decided afresh, with backoff, while it is young enough for the bot to act on
(``max_edit_age_minutes``); only then is a final ``error`` recorded with the reason.

While a wiki's fault lasts, its new candidates wait in the same queue instead of each
paying for the fault (timeouts, pywikibot's own retries): one edit probes, the others
follow once it gets through. A retry decides from scratch — skip rules, the top-revision
check, the score — so an edit someone has changed since is never reverted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from automod.errors import WikiUnavailable
from automod.records import RecentChange
from automod.scoring import MalformedAnswer, ScorerUnavailable

__all__ = ["DECISION_DELAYS", "TRANSIENT_FAULTS", "DecisionRetries", "Deferred", "is_transient", "seconds_left"]

#: Waits before each new attempt at deciding an edit (the last one repeats).
DECISION_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
#: Never schedule an attempt closer than this to the edit's age limit (it would be skipped
#: as ``too-old`` instead of ending in an ``error`` that says why).
MARGIN_SECONDS = 5.0

#: Faults worth deciding again later; anything else is final at once.
TRANSIENT_FAULTS = (WikiUnavailable, ScorerUnavailable, MalformedAnswer)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_FAULTS)


def seconds_left(change: RecentChange, max_edit_age_minutes: int, now: float | None = None) -> float:
    """How long the bot may still act on ``change`` (wall clock; negative when too old)."""
    now = time.time() if now is None else now
    return change.timestamp + max_edit_age_minutes * 60 - now


T = TypeVar("T")


@dataclass(frozen=True)
class Deferred(Generic[T]):
    """One edit waiting to be decided again."""

    item: T
    order: int  # stream order, so retries keep it
    attempts: int  # attempts made so far (0: deferred behind another's fault, never tried)
    due: float  # time.monotonic() of the next attempt
    reason: str


class DecisionRetries(Generic[T]):
    """One wiki's deferred edits, and the hold while its fault lasts (one thread uses it)."""

    def __init__(self, delays: tuple[float, ...] = DECISION_DELAYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.delays = delays
        self.clock = clock
        self.waiting: list[Deferred[T]] = []
        self.hold_until = 0.0

    def __len__(self) -> int:
        return len(self.waiting)

    def delay(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed attempt."""
        return self.delays[min(max(attempts, 1), len(self.delays)) - 1]

    def holding(self) -> bool:
        """True while a fault is recent: new candidates wait instead of trying."""
        return self.clock() < self.hold_until

    def failed(self, item: T, order: int, attempts: int, reason: str) -> Deferred[T]:
        """``item``'s ``attempts``-th attempt met a passing fault: retry after backoff, and
        hold the others until then."""
        due = self.clock() + self.delay(attempts)
        self.hold_until = max(self.hold_until, due)
        return self._add(Deferred(item, order, attempts, due, reason))

    def wait_behind(self, item: T, order: int, attempts: int = 0, reason: str = "") -> Deferred[T]:
        """Queue ``item`` behind the current fault without trying it."""
        return self._add(Deferred(item, order, attempts, self.hold_until, reason or "waiting behind a fault"))

    def succeeded(self) -> None:
        """An attempt got through: the fault is over, the others may go."""
        self.hold_until = 0.0
        self.waiting = [d if d.due <= self.clock() else Deferred(d.item, d.order, d.attempts, self.clock(), d.reason)
                        for d in self.waiting]

    def due(self) -> list[Deferred[T]]:
        """Take the deferred edits whose time has come, in stream order."""
        now = self.clock()
        ready = sorted((d for d in self.waiting if d.due <= now), key=lambda d: d.order)
        self.waiting = [d for d in self.waiting if d.due > now]
        return ready

    def seconds_to_next(self) -> float | None:
        return max(0.0, min(d.due for d in self.waiting) - self.clock()) if self.waiting else None

    def _add(self, deferred: Deferred[T]) -> Deferred[T]:
        self.waiting.append(deferred)
        return deferred
