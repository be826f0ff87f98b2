"""Telling the community, on the config page's talk page, that the circuit breaker closed by
itself (the rate of reverts stayed under the limit for the healing window)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from automod.onwiki.config_notice import talk_page_of
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.messages import messages_for

__all__ = ["post_breaker_healed"]

log = logging.getLogger("automod.onwiki.breaker_notice")


def _stamp(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def post_breaker_healed(gateway: WikiGateway, config_page: str, *, tripped_at: float, reverts_last_hour: int,
                        healed_at: float, reverts_in_window: int, window_s: int, limit_per_hour: int) -> int:
    """Post one new section on ``config_page``'s talk page; return its revision id (raises
    WikiError). The caller posts it once per trip (``Store.heal_breaker`` says who closed it)."""
    m = messages_for(gateway)
    heading = m.format("automod-breaker-healed-heading", _stamp(healed_at))
    body = m.format("automod-breaker-healed", _stamp(tripped_at), reverts_last_hour, _stamp(healed_at),
                    max(1, round(window_s / 60)), reverts_in_window, limit_per_hour)
    title = talk_page_of(config_page)
    revid = gateway.edit(title, section="new", sectiontitle=heading, text=body,
                         summary=m.format("automod-breaker-healed-summary", heading))
    log.info("%s: circuit breaker closed; said so on %s (r%d)", gateway.wiki.name, title, revid)
    return revid
