"""Telling a reverted editor what happened and how to report a mistake, in one click.

One talk-page section per user per month ("<Month> <Year>: <bot> reverted your edit", in the
wiki's content language, month names from the wiki itself), later reverts that month add a
line to it. Sent only after a rollback that actually happened. The texts are the packaged
messages of the wiki's language (:mod:`automod.onwiki.i18n`), which a community overrides on wiki
pages (``MediaWiki:Automod-notice`` …, see :mod:`automod.onwiki.messages`) with ``$1``-style
parameters, so translating or rewording needs no code change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from automod.config import CommunityConfig
from automod.onwiki.exclusion import exclusion_templates, talk_page_excludes_bot
from automod.onwiki.gateway import WikiGateway, is_ip
from automod.onwiki.i18n import fill
from automod.onwiki.messages import OVERRIDE_PAGES, messages_for
from automod.onwiki.talk_page import TalkPage, read_talk_page, section_index
from automod.onwiki.warnings import level_comment
from automod.onwiki.wikitext import link

__all__ = ["TalkNoticeResult", "OVERRIDE_PAGES", "fill", "is_temporary", "fp_report_url", "send_notice"]


@dataclass(frozen=True)
class TalkNoticeResult:
    status: str  # new-section | follow-up | skipped | excluded ({{nobots}} its owner or a trusted user added)
    detail: str = ""
    rev_id: int | None = None


def is_temporary(user: str) -> bool:
    """MediaWiki's temporary accounts (1.40+) are named like ``~2025-12345``."""
    return user.startswith("~")


def fp_report_url(index_url: str, report_page: str, rev_id: int, title: str) -> str:
    """A link that opens a new, pre-filled section on the report page."""
    return index_url + "?" + urlencode([
        # No "nosummary": with it MediaWiki adds the section without a heading.
        ("title", report_page), ("action", "edit"), ("section", "new"),
        ("preloadtitle", f"{title} (r{rev_id})"), ("preload", f"{report_page}/Preload"),
        ("preloadparams[]", str(rev_id)), ("preloadparams[]", link(title))])  # in [[$2]]


def send_notice(gateway: WikiGateway, config: CommunityConfig, *, user: str, title: str,
                reverted_rev: int, revert_rev: int, probability: float, now: float | None = None,
                level: int = 1, report_link: str | None = None, earlier: tuple[int, ...] = (),
                talk: TalkPage | None = None) -> TalkNoticeResult:
    """Post the notice (or the month's follow-up line) on ``user``'s talk page, marked with
    its warning ``level`` as patrollers' tools mark theirs (see :mod:`automod.onwiki.warnings`).
    ``report_link`` replaces the link to the local report page (a centrally governed wiki
    without one reports on the shared page, :mod:`automod.onwiki.shared_reports`). ``earlier``:
    the same editor's earlier revisions the rollback took with ``reverted_rev``, named in the
    notice (``automod-notice-earlier``) so the editor can restore the good ones. ``talk``: the
    talk page as the warning levels' read brought it (:mod:`automod.onwiki.warnings`); without
    it the page is read here, once. Its sections are found in that text: no parse."""
    if not config.talk_notice_enabled:
        return TalkNoticeResult("skipped", "talk notices are off")
    if config.talk_notice_registered_only and (is_ip(user) or is_temporary(user)):
        return TalkNoticeResult("skipped", "registered_only: not a registered account")
    title_talk = f"User talk:{user}"
    if talk is None or not gateway.same_title(talk.title, title_talk):
        talk = read_talk_page(gateway, title_talk, exclusion_templates(gateway).titles)
    if talk_page_excludes_bot(gateway, user, config.warning_trusted_right, talk):  # by its owner or a trusted hand
        return TalkNoticeResult("excluded", "{{bots}}/{{nobots}} on the talk page")
    messages = messages_for(gateway)
    mark = ""  # levels 1 (the default): today's notice, unchanged
    if config.warning_levels > 1:
        mark = (level_comment(messages.text("automod-warning-template"), level)
                + messages.text(f"automod-warning-level-{level}") + " ")
    moment = time.gmtime(now if now is not None else time.time())
    month = gateway.month_names()[moment.tm_mon - 1]
    bot = gateway.bot_user
    heading = messages.format("automod-notice-heading", month, moment.tm_year, bot)
    url = report_link or fp_report_url(gateway.index_url, config.false_positive_page, reverted_rev, title)
    score = f"{probability:.3f}"
    summary = messages.format("automod-notice-summary", link(title))  # titles and pages: wikitext.link
    also = ""
    if earlier:
        also = messages.format("automod-notice-earlier", len(earlier),
                               ", ".join(f"[[Special:Diff/{int(rev)}|r{int(rev)}]]" for rev in sorted(earlier)))
    existing = section_index(gateway, talk.text, heading) if talk.exists else None
    if existing is not None:
        line = _before_signature(messages.format("automod-notice-followup", revert_rev, link(title), score, url,
                                                 reverted_rev), also)
        rev = gateway.edit(title_talk, section=str(existing), appendtext="\n\n" + mark + line, summary=summary)
        return TalkNoticeResult("follow-up", heading, rev)
    help_line = messages.format("automod-notice-help", config.help_page) if config.help_page else ""
    body = _before_signature(messages.format("automod-notice", bot, revert_rev, link(title), score, url, help_line,
                                             reverted_rev), also)
    rev = gateway.edit(title_talk, section="new", sectiontitle=heading, text=mark + body, summary=summary)
    return TalkNoticeResult("new-section", heading, rev)


def _before_signature(text: str, extra: str) -> str:
    """``extra`` placed before the message's closing signature (``~~~~``), else at its end."""
    if not extra:
        return text
    body = text.rstrip()
    if body.endswith("~~~~"):
        return body[:-4].rstrip() + extra + " ~~~~"
    return body + extra
