"""The bot account's rollback budget, as the wiki states it (``meta=userinfo``).

MediaWiki allows an account without ``noratelimit`` 10 rollbacks a minute by default
(``$wgRateLimits['rollback']['user']``). Read here, below the live loop, because two layers
need it: the moderator paces its rollbacks to it (``moderation.pacing``) and the statistics
page tells the community when the account is limited (``onwiki.stats``).
"""

from __future__ import annotations

from dataclasses import dataclass

from automod.onwiki.gateway import WikiGateway

__all__ = ["AccountLimits", "RateLimit", "read_limits"]


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
