"""Telling the community, on the config page's talk page, that one of the bot's pages was
moved and the bot turned itself off on that wiki until someone who may edit the config page
sets it right (posted once per move: the caller says which move is new)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from automod.onwiki.config_notice import talk_page_of
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.messages import messages_for
from automod.onwiki.wikitext import link, plain

__all__ = ["post_surface_moved"]

log = logging.getLogger("automod.onwiki.move_notice")


def post_surface_moved(gateway: WikiGateway, config_page: str, *, source: str, target: str, mover: str,
                       when: float) -> int:
    """Post one new section on ``config_page``'s talk page; return its revision id (raises
    WikiError). The titles and the mover's name come from the move log: quoted, never markup."""
    m = messages_for(gateway)
    heading = m.format("automod-surface-moved-heading",
                       datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    body = m.format("automod-surface-moved", link(source), link(target), plain(mover))
    title = talk_page_of(config_page)
    revid = gateway.edit(title, section="new", sectiontitle=heading, text=body,
                         summary=m.format("automod-surface-moved-summary", heading))
    log.info("%s: a move of %s turned the bot off; said so on %s (r%d)", gateway.wiki.name, source, title, revid)
    return revid
