"""Rollbacks paced to the wiki's own rate limit, instead of hammering it and backing off.

MediaWiki allows an account without ``noratelimit`` 10 rollbacks a minute by default
(``$wgRateLimits['rollback']['user']``); a burst of vandalism beyond that was answered
``ratelimited``, and a fixed retry schedule gave up on edits still young enough to revert.
The bot reads its account's rights and limits (``meta=userinfo``, ``uiprop=rights|ratelimits``)
at start, on a forced config reload and every :data:`REREAD_SECONDS` (the config reload
interval), tells the operator when the account is limited, and sends each rollback when the
window has room (``moderation.rollback.RollbackQueue`` holds the others until then).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from automod.errors import WikiError
from automod.onwiki import AccountLimits, RateLimit, WikiGateway, read_limits

__all__ = ["AccountLimits", "RateLimit", "RollbackPacer", "read_limits"]

log = logging.getLogger("automod.moderation.pacing")

REREAD_SECONDS = 600.0
#: Kept between the limit's window and the next rollback (clock skew with the wiki).
MARGIN_SECONDS = 0.5
#: MediaWiki 1.39 counts a limit in 30 buckets per window (WRStatsRateLimiter) and
#: interpolates the oldest one, so a hit stays partly counted up to one bucket past its
#: window: the pacer waits that bucket out too, instead of being refused.
WINDOW_BUCKETS = 30


class RollbackPacer:
    """One wiki's sliding window of rollbacks sent (one worker thread uses it)."""

    def __init__(self, gateway: WikiGateway, clock: Callable[[], float] = time.monotonic) -> None:
        self.gateway = gateway
        self.clock = clock
        self.limits: AccountLimits | None = None
        self.read_at = float("-inf")
        self.sent_at: deque[float] = deque()

    def refresh(self, force: bool = False) -> AccountLimits | None:
        """Read the limits again when due (or ``force``d); say so when they change (or at
        the first read)."""
        if not force and self.clock() - self.read_at < REREAD_SECONDS:
            return self.limits
        try:
            limits = read_limits(self.gateway)
        except WikiError as exc:
            log.warning("%s: cannot read the bot account's rate limits: %s", self.gateway.wiki.name, exc)
            return self.limits
        self.read_at = self.clock()
        if limits != self.limits:
            (log.warning if limits.limited else log.info)("%s: %s", self.gateway.wiki.name, limits.advice())
        self.limits = limits
        return limits

    def wait(self) -> float:
        """Seconds until a rollback fits within the limit (0: send now)."""
        limits = self.refresh()
        if limits is None or limits.rollback is None:
            return 0.0
        now, window = self.clock(), limits.rollback.seconds
        counted = window + window / WINDOW_BUCKETS + MARGIN_SECONDS  # how long the wiki counts a hit
        while self.sent_at and self.sent_at[0] <= now - counted:
            self.sent_at.popleft()
        if len(self.sent_at) < limits.rollback.hits:
            return 0.0
        return max(0.0, self.sent_at[0] + counted - now)

    def sent(self) -> None:
        self.sent_at.append(self.clock())

    def refused(self) -> float:
        """The wiki said ``ratelimited`` anyway (others share the account): treat the window
        as full and return the wait."""
        limits = self.limits
        if limits is None or limits.rollback is None:
            return 10.0
        self.sent_at.extend([self.clock()] * max(0, limits.rollback.hits - len(self.sent_at)))
        return max(self.wait(), MARGIN_SECONDS)
