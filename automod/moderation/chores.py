"""A worker's periodic chores, each with its name and interval, run between events.

The worker's loop asks :meth:`Scheduler.run_due` once a pass, instead of calling each chore
inline; so what runs, and how often, is one list (``workers.WikiWorker``). A chore that
raises is logged with its name and the error goes on up, as it always has: a chore's own
expected failures are caught inside it, so what reaches here is a fault of the worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Chore", "Scheduler"]

log = logging.getLogger("automod.moderation.chores")


@dataclass(frozen=True)
class Chore:
    """A named piece of periodic work. ``fn`` returning False means it could not run yet
    (nothing to run it with, e.g. no connection): it is due again at the next pass."""

    name: str
    interval_s: float  # 0: every pass
    fn: Callable[[], bool | None]


class Scheduler:
    """Runs each chore when its interval has passed since it last ran (the first run at once)."""

    def __init__(self, chores: Sequence[Chore], clock: Callable[[], float] = time.monotonic) -> None:
        names = [c.name for c in chores]
        if len(set(names)) != len(names):
            raise ValueError(f"chore names must be unique: {names}")  # a bug, not bad input
        self.chores = tuple(chores)
        self.clock = clock
        self._last_run: dict[str, float] = {}

    def due(self, chore: Chore, now: float) -> bool:
        last = self._last_run.get(chore.name)
        return last is None or now - last >= chore.interval_s

    def run_due(self, now: float | None = None) -> list[str]:
        """Run the chores that are due, in their order; the names of those that ran."""
        now = self.clock() if now is None else now
        ran = []
        for chore in self.chores:
            if not self.due(chore, now):
                continue
            previous = self._last_run.get(chore.name)
            self._last_run[chore.name] = now  # a chore that fails is not retried at once either
            try:
                done = chore.fn()
            except BaseException:
                log.error("chore %r failed", chore.name)
                raise
            if done is False:
                if previous is None:
                    del self._last_run[chore.name]
                else:
                    self._last_run[chore.name] = previous
                continue
            ran.append(chore.name)
        return ran
