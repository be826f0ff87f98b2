"""Who may steer the bot through its report page, and how fast anyone may make it write.

The report page is editable by everyone, so nothing on it is believed for what it says:
who changed a status, who opened a section, is read from the page history (the user who
saved the revision that introduced it), and whether that user may decide is read from
their rights through the API. The bot's lines on the page are counted in the store, so a
flood of reports can make the page grow no faster than the community's limits.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from automod.config import CommunityConfig
from automod.onwiki.gateway import WikiGateway, is_ip
from automod.onwiki.page_reads import PageRevision, history, user_rights
from automod.onwiki.provenance import Author, authors_of
from automod.store import Store

__all__ = ["HISTORY_DEPTH", "LineBudget", "PageHistory", "answered_sections", "mark_unfinished", "may_review", "passed",
           "record_pass", "same_user", "status_author", "unfinished"]

log = logging.getLogger("automod.onwiki.report_trust")

#: How far back the history is read to attribute a change (older: unknown, so not trusted).
HISTORY_DEPTH = 50
HOUR = 3600.0
#: Kinds of actions that are bot lines on a report page (``detail`` holds page, section, reporter).
LINE_KINDS = ("report-answer", "report-no-match", "report-status-ignored")


#: The action kind that remembers which report-page revision a pass read (``rev_id``).
PASS_KIND = "report-pass"


def passed(store: Store, wiki: str, page: str, rev_id: int) -> bool:
    """Whether a pass already read revision ``rev_id`` of ``page`` or a later one (so its
    edit is handled). Revision ids only grow, so a range on the ``(wiki, rev_id)`` index."""
    return store.done_at_or_after(wiki, PASS_KIND, page, rev_id)


def record_pass(store: Store, wiki: str, page: str, rev_id: int) -> None:
    """Remember that a pass read revision ``rev_id`` of ``page`` (kept in the store, so a
    restart does not answer again what an earlier run read)."""
    store.record_action(wiki, rev_id, PASS_KIND, "done", None, page)


def mark_unfinished(store: Store, wiki: str, page: str, rev_id: int) -> None:
    """A pass over revision ``rev_id`` stopped before every new report was handled."""
    store.record_action(wiki, rev_id, PASS_KIND, "unfinished", None, page)


def unfinished(store: Store, wiki: str, page: str) -> bool:
    """Whether the latest pass over ``page`` stopped early (the next one goes on from there)."""
    latest = store.latest_action(wiki, PASS_KIND, page)
    return latest is not None and latest.result == "unfinished"


def same_user(a: str, b: str) -> bool:
    return a.replace("_", " ") == b.replace("_", " ")


@dataclass
class PageHistory:
    """The report page's recent revisions, read once per pass and only if needed."""

    gateway: WikiGateway
    page: str
    _revisions: list[PageRevision] | None = field(default=None, repr=False)
    #: Authorship of this revision's text (the one a pass read), not of edits saved since.
    upto: int | None = None

    def revisions(self) -> list[PageRevision]:
        if self._revisions is None:
            self._revisions = history(self.gateway, self.page, HISTORY_DEPTH)
        return self._revisions

    def authors(self, count: Callable[[str], int]) -> list[Author]:
        """Who really wrote each line of the current text in which ``count`` finds something
        (e.g. a "status: confirmed" line for a revision), newest first, through reverts and
        moves (:mod:`automod.onwiki.provenance`): a rollback of a blanking signs nothing."""
        revisions = [r for r in self.revisions() if self.upto is None or r.rev_id <= self.upto]
        return [a.author for a in authors_of(revisions, count) if a.author is not None]

    def introduced_by(self, count: Callable[[str], int]) -> Author | None:
        """The newest real author of a line ``count`` finds; None when nobody can be credited
        (the line is older than the history read, or came back through a revert of unknown text)."""
        found = self.authors(count)
        return found[0] if found else None


def may_review(gateway: WikiGateway, user: str, config: CommunityConfig) -> bool:
    """Whether ``user`` may confirm or decline reports: logged in, not the bot, holding one
    of the community's reviewer rights — a right logged-out users have never counts."""
    if not user or is_ip(user) or user.replace("_", " ") == gateway.bot_user.replace("_", " "):
        return False
    rights = user_rights(gateway, user) - gateway.anonymous_rights()
    return bool(rights & config.report_reviewer_rights)


def status_author(history: PageHistory, count: Callable[[str], int], gateway: WikiGateway,
                  config: CommunityConfig) -> tuple[Author | None, bool]:
    """Who set a status: a reviewer who really wrote one of the lines ``count`` finds, and
    True; else the newest real author of one (None: nobody can be credited), and False. A
    revert — say, an admin rolling back a blanking — wrote none of the lines it brought back."""
    authors = history.authors(count)
    for author in authors:
        if may_review(gateway, author.user, config):
            return author, True
    return (authors[0] if authors else None), False


def answered_sections(store: Store, wiki: str, page: str) -> set[str]:
    """Keys of the report page's sections the bot has answered (or refused for a flood)."""
    keys = set()
    for action in store.actions_of_kinds(wiki, (*LINE_KINDS, "report-dropped", "report-implicit")):
        detail = _detail(action.detail)
        if detail.get("page") == page and detail.get("section"):
            keys.add(str(detail["section"]))
    return keys


def _detail(raw: str | None) -> dict[str, object]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class LineBudget:
    """The flood limits: bot lines per hour on the wiki's report page, per reporter, and one
    "no match" line per reporter an hour. Read from the store, so restarts do not reset it."""

    store: Store
    wiki: str
    page: str
    config: CommunityConfig

    def refusal(self, reporter: str | None, kind: str) -> str | None:
        """Why no line may be written for ``reporter`` now (a reason code), or None."""
        since = time.time() - HOUR
        lines = self._recent(since)
        if len(lines) >= self.config.report_answers_per_hour:
            return "wiki-limit"
        who = reporter or "?"
        mine = [d for d in lines if d.get("reporter") == who]
        if len(mine) >= self.config.report_answers_per_reporter_per_hour:
            return "reporter-limit"
        if kind == "report-no-match" and any(d.get("kind") == "report-no-match" for d in mine):
            return "no-match-limit"
        return None

    def spend(self, rev_id: int, kind: str, reporter: str | None, section: str, bot_rev: int | None) -> None:
        detail = {"page": self.page, "section": section, "reporter": reporter or "?", "kind": kind}
        self.store.record_action(self.wiki, rev_id, kind, "done", bot_rev, json.dumps(detail))

    def drop(self, rev_id: int, reporter: str | None, section: str, why: str) -> None:
        """Leave a section unanswered for good (a flood is not a queue); log once an hour."""
        detail = {"page": self.page, "section": section, "reporter": reporter or "?", "kind": "report-dropped"}
        self.store.record_action(self.wiki, rev_id, "report-dropped", why, None, json.dumps(detail))
        if not self.store.acted_since(self.wiki, "report-flood", time.time() - HOUR):
            self.store.record_action(self.wiki, 0, "report-flood", why, None, self.page)
            log.warning("%s: report flood on %s (%s): further reports this hour are not answered",
                        self.wiki, self.page, why)

    def _recent(self, since: float) -> list[dict[str, object]]:
        found = []
        for action in self.store.actions_of_kinds(self.wiki, LINE_KINDS, since):
            detail = _detail(action.detail)
            if detail.get("page") == self.page:
                found.append({**detail, "kind": action.kind})
        return found
