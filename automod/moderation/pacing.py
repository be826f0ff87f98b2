"""Rollbacks paced to the wiki's own rate limit, instead of hammering it and backing off.

MediaWiki allows an account without ``noratelimit`` 10 rollbacks a minute by default
(``$wgRateLimits['rollback']['user']``); a burst of vandalism beyond that was answered
``ratelimited``, and a fixed retry schedule gave up on edits still young enough to revert.
The bot reads its account's rights and limits (``meta=userinfo``, ``uiprop=rights|ratelimits``)
at start and again every :data:`REREAD_SECONDS` (the config reload interval), tells the
operator when the account is limited, and sends each rollback when the window has room.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway

__all__ = ["AccountLimits", "RateLimit", "RollbackPacer", "read_limits"]

log = logging.getLogger("automod.moderation.pacing")

REREAD_SECONDS = 600.0
#: Kept between the limit's window and the next rollback (clock skew with the wiki).
MARGIN_SECONDS = 0.5


@dataclass(frozen=True)
class RateLimit:
    hits: int
    seconds: float


@dataclass(frozen=True)
class AccountLimits:
    """What the wiki says of the bot account's rollback budget (None: unlimited)."""

    user: str
    rollback: RateLimit | None

    @property
    def limited(self) -> bool:
        return self.rollback is not None

    def advice(self) -> str:
        """The operator's line: what the limit costs and what to ask for."""
        if self.rollback is None:
            return f"{self.user} holds noratelimit: rollbacks are not rate-limited"
        return (f"{self.user} lacks the noratelimit right: rollbacks are paced to {self.rollback.hits} per "
                f"{self.rollback.seconds:.0f} s (ask the wiki's bureaucrats for the noratelimit right)")


def read_limits(gateway: WikiGateway) -> AccountLimits:
    """The account's rollback limit: the strictest of ``rollback`` and ``edit`` (a rollback is
    an edit too), or none with ``noratelimit`` (raises WikiError)."""
    info = gateway.query(meta="userinfo", uiprop="rights|ratelimits")["query"]["userinfo"]
    if "noratelimit" in info.get("rights", []):
        return AccountLimits(str(info.get("name", "")), None)
    limits = [RateLimit(int(v["hits"]), float(v["seconds"]))
              for action in ("rollback", "edit") for v in (info.get("ratelimits", {}).get(action) or {}).values()
              if isinstance(v, dict) and int(v.get("hits", 0)) > 0]
    strictest = min(limits, key=lambda r: r.hits / r.seconds, default=None)
    return AccountLimits(str(info.get("name", "")), strictest)


class RollbackPacer:
    """One wiki's sliding window of rollbacks sent (one worker thread uses it)."""

    def __init__(self, gateway: WikiGateway, clock: Callable[[], float] = time.monotonic) -> None:
        self.gateway = gateway
        self.clock = clock
        self.limits: AccountLimits | None = None
        self.read_at = float("-inf")
        self.sent_at: deque[float] = deque()

    def refresh(self) -> AccountLimits | None:
        """Read the limits again when due; say so when they change (or at the first read)."""
        if self.clock() - self.read_at < REREAD_SECONDS:
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
        while self.sent_at and self.sent_at[0] <= now - window:
            self.sent_at.popleft()
        if len(self.sent_at) < limits.rollback.hits:
            return 0.0
        return self.sent_at[0] + window + MARGIN_SECONDS - now

    def sent(self) -> None:
        self.sent_at.append(self.clock())

    def refused(self) -> float:
        """The wiki said ``ratelimited`` anyway (others share the account): treat the window
        as full and return the wait."""
        limits = self.limits
        if limits is None or limits.rollback is None:
            return 10.0
        self.sent_at.extend([self.clock()] * max(0, limits.rollback.hits - len(self.sent_at)))
        return self.wait()
