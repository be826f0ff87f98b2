"""What a rollback says, and when a rollback that cannot go now is sent (the moderator sends it).

Two kinds of waiting. The wiki's rate limit is known in advance (``pacing.RollbackPacer``):
a rollback beyond it waits for its slot, and so does one the wiki refused as ``ratelimited``
anyway (another process sharing the account); neither counts as a failed attempt, and
neither is ever given up while the edit is younger than ``max_edit_age_minutes`` — then it
is recorded ``rollback-expired``. Other passing refusals (maxlag, read-only, an API error)
are sent again after the fixed :data:`ROLLBACK_DELAYS`, each one an attempt. The queue lives
in memory: the decision is recorded ``rollback-pending``, and a restart queues those again
(``restart.py``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automod.config import DEFAULT_SUMMARY, CommunityConfig
from automod.moderation.pacing import RollbackPacer
from automod.moderation.retries import seconds_left
from automod.onwiki import AccountLimits, WikiGateway, fill, messages_for, summary
from automod.records import RecentChange, Verdict

__all__ = ["ROLLBACK_DELAYS", "PendingRollback", "RollbackQueue", "render_summary", "rollback_summary"]

#: Waits before re-sending a rollback the wiki refused as lagged, read-only or failing.
ROLLBACK_DELAYS = (10.0, 30.0, 60.0, 120.0)
#: A rollback waiting for its slot is looked at again this long after the edit's age limit
#: at the latest, so it ends as ``rollback-expired`` (the age check is strict).
PAST_AGE_LIMIT = 1.0


@dataclass(frozen=True)
class PendingRollback:
    """A rollback to send again at ``due`` (``time.monotonic()``)."""

    change: RecentChange
    attempts: int  # failed attempts so far; waiting for the rate limit is not one
    due: float
    summary: str


class RollbackQueue:
    """One worker's rollbacks waiting to be sent, and one pacer per wiki (one thread uses it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.wall = wall
        self.waiting: list[PendingRollback] = []
        self.pacers: dict[str, RollbackPacer] = {}

    def __len__(self) -> int:
        return len(self.waiting)

    def pacer(self, wiki: str, gateway: WikiGateway) -> RollbackPacer:
        """The wiki's pacer (a new one, read at once, when the gateway was replaced)."""
        pacer = self.pacers.get(wiki)
        if pacer is None or pacer.gateway is not gateway:
            pacer = self.pacers[wiki] = RollbackPacer(gateway, clock=self.clock)
        return pacer

    def refresh(self, wiki: str, gateway: WikiGateway) -> AccountLimits | None:
        """Read the account's limits now (at start and when the config is reloaded)."""
        return self.pacer(wiki, gateway).refresh(force=True)

    def limits(self, wiki: str) -> AccountLimits | None:
        """The limits last read for ``wiki`` (None: not read yet)."""
        pacer = self.pacers.get(wiki)
        return pacer.limits if pacer is not None else None

    def status(self, wiki: str) -> dict[str, Any]:
        """The heartbeat's fields: the advice when the account is rate-limited (None
        otherwise, or not read yet) and the rollbacks waiting."""
        limits = self.limits(wiki)
        return {"rate_limited": limits.advice() if limits is not None and limits.limited else None,
                "rollbacks_waiting": sum(1 for p in list(self.waiting) if p.change.wiki == wiki)}

    def hold(self, change: RecentChange, summary: str, attempts: int, gateway: WikiGateway,
             max_edit_age_minutes: int, *, refused: bool = False) -> str | None:
        """Queue the rollback for the next slot of the rate limit and return why it waits, or
        None when it may be sent now (never None when the wiki ``refused`` it as rate-limited)."""
        pacer = self.pacer(change.wiki, gateway)
        wait = pacer.refused() if refused else pacer.wait()
        if wait <= 0:
            return None
        left = seconds_left(change, max_edit_age_minutes, self.wall())
        self._add(change, attempts, min(wait, max(0.0, left) + PAST_AGE_LIMIT), summary)
        limit = pacer.limits.rollback if pacer.limits is not None else None
        pace = f"{limit.hits} per {limit.seconds:.0f} s" if limit is not None else "unknown"
        return (f"{'ratelimited' if refused else 'paced'}: the account's rollback limit ({pace}) has its next "
                f"slot in {wait:.0f} s")[:300]

    def retry(self, change: RecentChange, summary: str, attempts: int) -> str | None:
        """Queue a refused rollback after its fixed delay (its ``attempts``-th failure); None
        when the attempts are used up."""
        if attempts >= len(ROLLBACK_DELAYS):
            return None
        self._add(change, attempts + 1, ROLLBACK_DELAYS[attempts], summary)
        return f"retry in {ROLLBACK_DELAYS[attempts]:.0f} s"

    def resume(self, change: RecentChange, summary: str) -> None:
        """Queue, due at once, a rollback the last run left waiting: the checks before
        sending (``Moderator.retry_pending``) decide whether it still goes."""
        self._add(change, 0, 0.0, summary)

    def sent(self, wiki: str) -> None:
        pacer = self.pacers.get(wiki)
        if pacer is not None:
            pacer.sent()

    def due(self) -> list[PendingRollback]:
        """Take the rollbacks whose time has come, oldest edit first."""
        now = self.clock()
        ready = sorted((p for p in self.waiting if p.due <= now), key=lambda p: (p.change.timestamp, p.due))
        self.waiting = [p for p in self.waiting if p.due > now]
        return ready

    def expired(self, item: PendingRollback, max_edit_age_minutes: int) -> str | None:
        """Why ``item`` may no longer be sent: its edit is older than the age limit."""
        if seconds_left(item.change, max_edit_age_minutes, self.wall()) >= 0:
            return None
        return f"the edit grew older than {max_edit_age_minutes} minutes before the rollback could be sent"

    def still_paced(self, item: PendingRollback, gateway: WikiGateway, max_edit_age_minutes: int) -> bool:
        """Put ``item`` back, silently, when its slot is not free yet (another took it)."""
        wait = self.pacer(item.change.wiki, gateway).wait()
        if wait <= 0:
            return False
        left = max(0.0, seconds_left(item.change, max_edit_age_minutes, self.wall()))
        self.waiting.append(dataclasses.replace(item, due=self.clock() + min(wait, left + PAST_AGE_LIMIT)))
        return True

    def _add(self, change: RecentChange, attempts: int, delay: float, summary: str) -> None:
        self.waiting.append(PendingRollback(change, attempts, self.clock() + delay, summary))


def rollback_summary(config: CommunityConfig, gateway: WikiGateway, change: RecentChange, verdict: Verdict) -> str:
    """The summary of the rollback of ``change``, rendered when it is decided and again when a
    restart queues it anew: the community's own summary wins; the default one is written in
    the wiki's language."""
    report_page = config.false_positive_page or f"User talk:{gateway.bot_user}"
    template = (config.summary if config.summary != DEFAULT_SUMMARY
                else messages_for(gateway).text("automod-rollback-summary"))
    return render_summary(template, title=change.title, user=change.user, probability=verdict.probability or 0.0,
                          model=verdict.model or "", report_page=report_page, rev_id=change.rev_id or 0)


def render_summary(template: str, *, title: str, user: str, probability: float, model: str,
                   report_page: str, rev_id: int) -> str:
    """The edit summary, from the community's template with ``$1``…``$6`` filled in one pass
    over the template (a ``$1`` inside a user name or title stays as typed), the title and
    user name quoted for a summary (``onwiki.wikitext.summary``)."""
    return fill(template, summary(title), summary(user), f"{probability:.3f}", model, report_page, str(rev_id))[:500]
