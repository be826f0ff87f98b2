"""Telling a reverted editor what happened and how to report a mistake, in one click.

One talk-page section per user per month ("<Month> <Year>: <bot> reverted your edit", the
month in the wiki's own language), later reverts that month add a line to it. Sent only
after a rollback that actually happened. The texts are package defaults that a community
overrides on wiki pages (``MediaWiki:Automod-notice`` …) with ``$1``-style parameters, so
translating or rewording needs no code change.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from automod.community_config import CommunityConfig
from automod.errors import WikiError
from automod.wiki import WikiGateway, is_ip

__all__ = ["DEFAULT_TEXTS", "NoticeResult", "OVERRIDE_PAGES", "fill", "is_temporary", "report_url", "send_notice"]

log = logging.getLogger("automod.notices")

DEFAULT_TEXTS = {
    # $1 month, $2 year, $3 bot name
    "heading": "$1 $2: $3 reverted your edit",
    # $1 bot, $2 revert revision, $3 page, $4 score, $5 report URL, $6 help line, $7 reverted revision
    "notice": ("Hello. I am $1, a bot that undoes edits that look like vandalism. I reverted "
               "[[Special:Diff/$2|your edit]] to [[$3]] because it looked unconstructive (score $4).\n\n"
               "If it was a good edit, I am sorry: please [$5 tell us in one click] and a human will "
               "look at it. You may also simply restore your edit.$6 ~~~~"),
    # $1 revert revision, $2 page, $3 score, $4 report URL, $5 reverted revision
    "followup": "I also reverted [[Special:Diff/$1|another of your edits]] to [[$2]] (score $3). "
                "[$4 Report a mistake] ~~~~",
    # $1 help page
    "help": "\n\nHelp: [[$1]].",
    "summary": "Notice of an automated revert on [[$1]]",
}
OVERRIDE_PAGES = {
    "heading": "MediaWiki:Automod-notice-heading",
    "notice": "MediaWiki:Automod-notice",
    "followup": "MediaWiki:Automod-notice-followup",
    "help": "MediaWiki:Automod-notice-help",
    "summary": "MediaWiki:Automod-notice-summary",
}
TEXT_CACHE_SECONDS = 600.0


@dataclass(frozen=True)
class NoticeResult:
    status: str  # new-section | follow-up | skipped
    detail: str = ""
    rev_id: int | None = None


def fill(template: str, *values: object) -> str:
    """Replace ``$1``…``$9`` (highest first, so ``$1`` never eats ``$10``)."""
    out = template
    for i in range(len(values), 0, -1):
        out = out.replace(f"${i}", str(values[i - 1]))
    return out


def is_temporary(user: str) -> bool:
    """MediaWiki's temporary accounts (1.40+) are named like ``~2025-12345``."""
    return user.startswith("~")


def report_url(index_url: str, report_page: str, rev_id: int, title: str) -> str:
    """A link that opens a new, pre-filled section on the report page."""
    return index_url + "?" + urlencode([
        # No "nosummary": with it MediaWiki adds the section without a heading.
        ("title", report_page), ("action", "edit"), ("section", "new"),
        ("preloadtitle", f"{title} (r{rev_id})"), ("preload", f"{report_page}/Preload"),
        ("preloadparams[]", str(rev_id)), ("preloadparams[]", title)])


class _Texts:
    """Package defaults overlaid with the community's pages, re-read every 10 minutes."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}

    def get(self, gateway: WikiGateway) -> dict[str, str]:
        cached = self._cache.get(gateway.wiki.name)
        if cached and time.monotonic() - cached[0] < TEXT_CACHE_SECONDS:
            return cached[1]
        texts = dict(DEFAULT_TEXTS)
        for key, page in OVERRIDE_PAGES.items():
            try:
                found = gateway.page_text(page)
            except WikiError as exc:
                log.warning("cannot read %s, using the default text: %s", page, exc)
                continue
            if found and found[1].strip():
                texts[key] = found[1].strip()
        self._cache[gateway.wiki.name] = (time.monotonic(), texts)
        return texts


TEXTS = _Texts()


def send_notice(gateway: WikiGateway, config: CommunityConfig, *, user: str, title: str,
                reverted_rev: int, revert_rev: int, probability: float, now: float | None = None) -> NoticeResult:
    """Post the notice (or the month's follow-up line) on ``user``'s talk page."""
    if not config.talk_notice_enabled:
        return NoticeResult("skipped", "talk notices are off")
    if config.talk_notice_registered_only and (is_ip(user) or is_temporary(user)):
        return NoticeResult("skipped", "registered_only: not a registered account")
    texts = TEXTS.get(gateway)
    moment = time.gmtime(now if now is not None else time.time())
    month = gateway.month_names()[moment.tm_mon - 1]
    bot = gateway.bot_user
    heading = fill(texts["heading"], month, moment.tm_year, bot)
    url = report_url(gateway.index_url, config.false_positive_page, reverted_rev, title)
    score = f"{probability:.3f}"
    talk = f"User talk:{user}"
    summary = fill(texts["summary"], title)
    existing = None
    if gateway.page_text(talk) is not None:
        existing = next((i for i, line in gateway.sections(talk) if line.strip() == heading.strip()), None)
    if existing is not None:
        line = fill(texts["followup"], revert_rev, title, score, url, reverted_rev)
        rev = gateway.edit(talk, section=str(existing), appendtext="\n\n" + line, summary=summary)
        return NoticeResult("follow-up", heading, rev)
    help_line = fill(texts["help"], config.help_page) if config.help_page else ""
    body = fill(texts["notice"], bot, revert_rev, title, score, url, help_line, reverted_rev)
    rev = gateway.edit(talk, section="new", sectiontitle=heading, text=body, summary=summary)
    return NoticeResult("new-section", heading, rev)
