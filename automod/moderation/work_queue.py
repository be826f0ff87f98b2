"""Report-page edits held back so that candidate edits go first (issue 14: a flood of
reports must not delay the reverting of vandalism).

A pass over a report page reads the page's latest revision, which holds every earlier
edit, so the edits of one page waiting together need one pass, not one each. The worker
holds them here, one pending pass per page, and runs a pass only when no candidate edit is
waiting and the page's edits have paused for :data:`QUIET_SECONDS` — or, so that reports
are never starved by a busy wiki, once the oldest held edit has waited
:data:`MAX_WAIT_SECONDS` (or :data:`MAX_HELD` edits are held), and then one pass before the next candidate. A held
edit counts as handled (its stream position may be passed) once a pass at or after its
revision ran: :meth:`ReportPasses.take` hands back every edit the pass stands for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from automod.records import RecentChange

__all__ = ["MAX_HELD", "MAX_WAIT_SECONDS", "QUIET_SECONDS", "HeldEdit", "ReportPasses"]

T = TypeVar("T")

#: How long a report-page edit may wait behind candidate edits before its pass runs anyway
#: (between two candidates). Reports are answered by humans' standards — seconds do not
#: matter there, while every second a vandal edit stands does.
MAX_WAIT_SECONDS = 15.0
#: A page's pass waits until its edits have stopped coming for this long (when no candidate
#: waits): a flood's reports are then read a burst at a time, and a vandal edit arriving
#: meanwhile rarely finds a pass in progress.
QUIET_SECONDS = 2.0
#: A page's pass is due, like one that waited too long, once this many of its edits are held
#: (a pass reads the history as far back as its reports need, so this only bounds how long
#: a burst of reports goes unanswered while candidates keep coming).
MAX_HELD = 8


@dataclass(frozen=True)
class HeldEdit(Generic[T]):
    """One report-page edit waiting for its page's pass, with the worker's own event record."""

    item: T
    change: RecentChange
    held_at: float  # monotonic time when it was held


class ReportPasses(Generic[T]):
    """Report-page edits waiting for a pass, coalesced per page (oldest page first)."""

    def __init__(self, max_wait: float = MAX_WAIT_SECONDS, quiet: float = QUIET_SECONDS, max_held: int = MAX_HELD,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.max_held = max_held
        self.quiet = quiet
        self.clock = clock
        self._held: dict[str, list[HeldEdit[T]]] = {}  # page -> its edits, in arrival order

    def hold(self, page: str, change: RecentChange, item: T) -> None:
        self._held.setdefault(page, []).append(HeldEdit(item, change, self.clock()))

    def __len__(self) -> int:
        return sum(len(edits) for edits in self._held.values())

    def due(self, candidate_waiting: bool) -> str | None:
        """The page whose pass should run now (None: nothing to run now): one whose oldest
        held edit has waited ``max_wait``, or with ``max_held`` edits held; else, if no
        candidate edit is waiting, one whose edits have stopped coming for ``quiet`` seconds —
        in a flood, one pass then reads a burst of reports instead of one pass each."""
        now = self.clock()
        by_age = sorted(self._held, key=lambda p: self._held[p][0].held_at)
        for page in by_age:
            if now - self._held[page][0].held_at >= self.max_wait or len(self._held[page]) >= self.max_held:
                return page
        if candidate_waiting:
            return None
        for page in by_age:
            if now - self._held[page][-1].held_at >= self.quiet:
                return page
        return None

    def seconds_to_next(self) -> float | None:
        """How long until a pass is due if no candidate edit comes (None: nothing held)."""
        if not self._held:
            return None
        now = self.clock()
        return max(0.0, min(min(e[0].held_at + self.max_wait, e[-1].held_at + self.quiet) - now
                            for e in self._held.values()))

    def take(self, page: str) -> list[HeldEdit[T]]:
        """Every held edit of ``page``: one pass over its latest revision handles them all."""
        return self._held.pop(page, [])

    def pages(self) -> list[str]:
        return list(self._held)
