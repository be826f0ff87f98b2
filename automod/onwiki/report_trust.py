"""Who may steer the bot through its report page, and how fast anyone may make it write.

The report page is editable by everyone, so nothing on it is believed for what it says:
who changed a status, who opened a section, is read from the page history (the user who
saved the revision that introduced it), and whether that user may decide is read from
their rights through the API. The bot's lines on the page are counted in the store, so a
flood of reports can make the page grow no faster than the community's limits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Generator, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from automod.config import CommunityConfig
from automod.errors import WikiError, WikiUnavailable
from automod.onwiki.gateway import WikiGateway, is_ip
from automod.onwiki.page_reads import PageRevision, history_batches, kept_texts, user_rights
from automod.onwiki.provenance import REVERT_TAGS, Author, authors_of
from automod.onwiki.report_page import heading_texts
from automod.store import Store

__all__ = ["FLOOD_LINE_KIND", "HISTORY_DEPTH", "HISTORY_PERIOD", "HOUR", "LineBudget", "PageHistory", "ReportPlan",
           "answer_planned", "answered_sections", "forget_waiting", "mark_unfinished", "may_review", "passed",
           "record_pass", "same_user", "section_lines", "status_author", "unfinished", "waiting_sections"]

log = logging.getLogger("automod.onwiki.report_trust")

#: How far back the history is read to attribute a change (older: unknown, so not trusted):
#: bounded by time, not by a number of revisions, so a flood cannot push a report out of reach.
HISTORY_PERIOD = 31 * 86400.0
#: Revisions read to find who last set the page's header and preload (one batch).
HISTORY_DEPTH = 50
HOUR = 3600.0
#: Kinds of actions that are bot lines on a report page (``detail`` holds page, section, reporter).
#: The one line that answers a pass's flood reports together.
FLOOD_LINE_KIND = "report-flood-answer"
LINE_KINDS = ("report-answer", "report-no-match", "report-status-ignored", FLOOD_LINE_KIND)


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
    """The report page's revisions, newest first, read only as far back as a question needs
    and never past :data:`HISTORY_PERIOD` (older: unknown, so not trusted) — a flood of
    hundreds of reports is still credited to each reporter, not to nobody."""

    gateway: WikiGateway
    page: str
    #: Authorship of this revision's text (the one a pass read), not of edits saved since.
    upto: int | None = None
    period: float = HISTORY_PERIOD
    _revisions: list[PageRevision] = field(default_factory=list, repr=False)
    _batches: Iterator[list[PageRevision]] | None = field(default=None, repr=False)
    _complete: bool = field(default=False, repr=False)  # the page's first revision is read
    _bounded: bool = field(default=False, repr=False)  # reading stopped at the time bound
    _headings: dict[str, PageRevision] = field(default_factory=dict, repr=False)
    _heading_walk: Iterator[tuple[PageRevision, PageRevision | None]] | None = field(default=None, repr=False)

    def _more(self) -> bool:
        """Read one more batch of older revisions; False when there is nothing more to read."""
        if self._complete or self._bounded:
            return False
        if self._batches is None:
            self._batches = history_batches(self.gateway, self.page, kept_texts(self.gateway))
        batch = next(self._batches, None)
        if batch is None:
            self._complete = True
            return False
        since = time.time() - self.period
        kept = [r for r in batch if not r.timestamp or r.timestamp >= since]
        # The first revision past the bound is kept as the base of the last comparison only.
        self._revisions.extend(batch[:len(kept) + 1])
        if len(kept) < len(batch):
            self._bounded = True
        return True

    def _at_least(self, depth: int) -> None:
        """Read on until ``depth`` revisions are read (or none more within the bound)."""
        while len(self._revisions) < depth and self._more():
            pass

    def recent(self) -> list[PageRevision]:
        """The newest revisions (at least :data:`HISTORY_DEPTH` when there are as many, or all read so far)."""
        self._at_least(HISTORY_DEPTH)
        return self._revisions

    def revisions(self) -> list[PageRevision]:
        """Every revision within the time bound (reads them all: prefer :meth:`introduced_by`)."""
        while self._more():
            pass
        return self._revisions

    def authors(self, count: Callable[[str], int]) -> list[Author]:
        """Who really wrote each line of the current text in which ``count`` finds something
        (e.g. a "status: confirmed" line for a revision), newest first, through reverts and
        moves (:mod:`automod.onwiki.provenance`): a rollback of a blanking signs nothing. The
        history is read on only while a line's author lies beyond what was read. Never fewer than
        :data:`HISTORY_DEPTH` revisions (as many as a revert's earlier text is looked for in)."""
        self._at_least(HISTORY_DEPTH)
        while True:
            revisions = [r for r in self._revisions if self.upto is None or r.rev_id <= self.upto]
            per_line = counted_lines(revisions[0].text, count) if revisions else frozenset()
            found = authors_of(revisions, lambda line: int(line in per_line)) if revisions else []
            if all(a.author is not None for a in found) or not self._more():
                return [a.author for a in found if a.author is not None]

    def introduced_by(self, count: Callable[[str], int]) -> Author | None:
        """The newest real author of a line ``count`` finds; None when nobody can be credited
        (the line is older than the history read, or came back through a revert of unknown text)."""
        found = self.authors(count)
        return found[0] if found else None

    def setter(self, author: Author, count: Callable[[str], int]) -> Author | None:
        """Who really set what ``count`` finds in a line ``author`` wrote: ``author`` if its
        revision raised the count; if it only rewrote the line (a copyedit, a whitespace fix:
        the count stayed), the newest earlier revision that raised it and restored nothing.
        None: nobody within the history read (two-step attack: an administrator's copyedit
        of a forged ``status: confirmed`` line sets no status)."""
        for newer, older in self._pairs():
            if newer.rev_id > author.rev_id or newer.hidden or (older is not None and older.hidden):
                continue
            if count(newer.text) <= (count(older.text) if older is not None else 0):
                continue
            if newer.rev_id == author.rev_id:
                return author
            if REVERT_TAGS & newer.tags or any(r.digest == newer.digest for r in self._revisions
                                               if r.rev_id < newer.rev_id):
                continue  # a revert raised it: it restores a status, it sets none
            return Author(newer.rev_id, newer.user)
        return None

    def _pairs(self) -> Iterator[tuple[PageRevision, PageRevision | None]]:
        """(newer, older) pairs, newest first, reading on as needed; the last pair's older is
        None when newer is the page's first revision (nothing older within the bound is known)."""
        i = 0
        while True:
            while i + 1 >= len(self._revisions) and self._more():
                pass
            if i + 1 < len(self._revisions):
                yield self._revisions[i], self._revisions[i + 1]
            elif i < len(self._revisions) and self._complete:
                yield self._revisions[i], None
                return
            else:
                return
            i += 1


    def heading_author(self, key: str) -> PageRevision | None:
        """The revision that added the section keyed ``key`` (its heading and ordinal among
        identical headings): the newest one that raised that heading's count to the ordinal.
        The history is walked once per pass, newest first, only as far as the sections asked
        about need (recent reports: a few revisions; a flood's: as deep as it goes)."""
        if self._heading_walk is None:
            self._heading_walk = self._pairs()
        while key not in self._headings:
            pair = next(self._heading_walk, None)
            if pair is None:
                return None
            newer, older = pair
            if REVERT_TAGS & newer.tags:
                continue  # a revert restores sections, it opens none: their reporter is further back
            now = Counter(heading_texts(newer.text))
            before = Counter(heading_texts(older.text)) if older is not None else Counter[str]()
            for heading, n in now.items():
                for ordinal in range(before.get(heading, 0) + 1, n + 1):
                    self._headings.setdefault(f"{heading}#{ordinal}", newer)
        return self._headings[key]


def counted_lines(text: str, count: Callable[[str], int]) -> frozenset[str]:
    """The lines of ``text`` that ``count`` (a whole-text count, which may need a line's
    section, as a reviewer's ``: status: …`` line does) counts: those whose removal lowers it.
    Only lines the count finds something in alone, or naming a ``status:``, are tried, so a
    long page costs a few counts."""
    total = count(text)
    if not total:
        return frozenset()
    lines = text.split("\n")
    found = set()
    for i, line in enumerate(lines):
        if not (count(line) or "status:" in line.lower()):
            continue
        if count("\n".join(lines[:i] + lines[i + 1:])) < total:
            found.add(line)
    return frozenset(found)


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
    revert — say, an admin rolling back a blanking — wrote none of the lines it brought back,
    and an edit that rewrote a line without raising the count (a copyedit) set no status
    (:meth:`PageHistory.setter`)."""
    authors = [found for a in history.authors(count) if (found := history.setter(a, count)) is not None]
    for author in authors:
        if may_review(gateway, author.user, config):
            return author, True
    return (authors[0] if authors else None), False


#: A report past the flood limits waits (``detail`` holds page, section, reporter): it is
#: answered when the limits let the bot write again — a flood is a queue, never a loss.
WAITING_KIND = "report-waiting"
#: Sections answered together with another's line (a flood collapsed into one answer).
COLLAPSED_KIND = "report-collapsed"


#: A waiting section no longer on the page under its key (withdrawn, or renumbered by a twin
#: heading removed above it): the section, if still there, is read again under its new key.
WAITING_GONE_KIND = "report-waiting-gone"


def _line_digest(line: str) -> str:
    return hashlib.sha1(line.encode("utf-8")).hexdigest()[:12]


def section_lines(body: str) -> list[str]:
    """What the bot remembers of a section it answers: its own lines (heading excluded) as read
    then. A key (heading and ordinal among identical headings) names a section by position, so
    the key alone would let a vandal's twin of a victim's (predictable, ``Title (rN)``) heading,
    answered and then withdrawn, hand its "answered" to the victim's report below it."""
    return [_line_digest(line.strip()) for line in body.split("\n")[1:] if line.strip()]


def _still_there(recorded: object, body: str) -> bool:
    """Whether ``body`` is the section answered with ``recorded`` (:func:`section_lines`): it
    starts with those lines, and what follows them, if anything, is indented (the bot's line,
    replies) — a victim's own text after a twin's predictable first lines is not. No record (an
    earlier release's answer): the key alone."""
    if not isinstance(recorded, list):
        return True
    now = [line.strip() for line in body.split("\n")[1:] if line.strip()]
    if [_line_digest(line) for line in now[:len(recorded)]] != recorded:
        return False
    return len(now) == len(recorded) or now[len(recorded)].startswith(":")


def answered_sections(store: Store, wiki: str, page: str, bodies: Mapping[str, str] | None = None) -> set[str]:
    """Keys of the report page's sections the bot has answered (with a line of their own or
    collapsed into another's; ``report-dropped``: left unanswered by an earlier release). With
    ``bodies`` (key → the section's text now), the keys among them whose section is one that
    was answered (:func:`_still_there`): twins of one heading are told apart by their text, not
    by their order, which anyone may change by adding, removing or moving a twin."""
    keys: set[str] = set()
    remembered: dict[str, list[object]] = {}  # a heading → the sections answered under it, as read then
    for action in store.actions_of_kinds(wiki, (*LINE_KINDS, COLLAPSED_KIND, "report-dropped", "report-implicit"),
                                         page=page):
        detail = _detail(action.detail)
        if detail.get("page") == page and detail.get("section"):
            key = str(detail["section"])
            if bodies is None or not isinstance(detail.get("lines"), list):
                keys.add(key)
            else:
                remembered.setdefault(key.rsplit("#", 1)[0], []).append(detail["lines"])
    if bodies is None:
        return keys
    # A section is answered if one answered under its heading is still there (wherever it now
    # stands among its twins); an answer remembered by key alone (an earlier release's) by key.
    return {key for key, body in bodies.items()
            if key in keys or any(_still_there(lines, body) for lines in remembered.get(key.rsplit("#", 1)[0], ()))}


def waiting_sections(store: Store, wiki: str, page: str) -> set[str]:
    """Keys of the sections waiting for the flood limits to let the bot answer them."""
    keys: set[str] = set()
    kinds = (WAITING_KIND, WAITING_GONE_KIND)
    for action in sorted(store.actions_of_kinds(wiki, kinds, page=page), key=lambda a: a.id):
        detail = _detail(action.detail)
        if detail.get("page") == page and detail.get("section"):
            (keys.add if action.kind == WAITING_KIND else keys.discard)(str(detail["section"]))
    return keys - answered_sections(store, wiki, page) if keys else keys


def forget_waiting(store: Store, wiki: str, page: str, keys: set[str]) -> None:
    """The sections keyed ``keys`` wait no more: a full pass found no section under those keys."""
    for key in sorted(keys):
        store.record_action(wiki, 0, WAITING_GONE_KIND, "done", None, json.dumps({"page": page, "section": key}))


def _detail(raw: str | None) -> dict[str, object]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class LineBudget:
    """The flood limits: bot lines per window (an hour) on the wiki's report page, per
    reporter, and one "no match" line per reporter a window. Read from the store, so restarts
    do not reset it."""

    store: Store
    wiki: str
    page: str
    config: CommunityConfig
    window: float = HOUR

    def refusal(self, reporter: str | None, kind: str) -> str | None:
        """Why no line may be written for ``reporter`` now (a reason code), or None."""
        lines = self._recent(time.time() - self.window)
        if len(lines) >= self.config.report_answers_per_hour:
            return "wiki-limit"
        if kind == "wiki":
            return None  # the wiki's budget alone (asked before anything is read)
        who = reporter or "?"
        mine = [d for d in lines if d.get("reporter") == who]
        if len(mine) >= self.config.report_answers_per_reporter_per_hour:
            return "reporter-limit"
        if kind == "report-no-match" and any(d.get("kind") == "report-no-match" for d in mine):
            return "no-match-limit"
        return None

    def spend(self, rev_id: int, kind: str, reporter: str | None, section: str, bot_rev: int | None,
              body: str | None = None) -> None:
        """A bot line written under ``section`` (``body``: the section's text as the pass read it)."""
        detail: dict[str, object] = {"page": self.page, "section": section, "reporter": reporter or "?",
                                     "kind": kind}
        if body is not None:
            detail["lines"] = section_lines(body)
        self.store.record_action(self.wiki, rev_id, kind, "done", bot_rev, json.dumps(detail))

    def collapsed(self, rev_id: int, reporter: str | None, section: str, answered_in: str,
                  body: str | None = None) -> None:
        """``section`` is answered by the line under ``answered_in`` (no line of its own)."""
        detail: dict[str, object] = {"page": self.page, "section": section, "reporter": reporter or "?",
                                     "kind": COLLAPSED_KIND, "answered_in": answered_in}
        if body is not None:
            detail["lines"] = section_lines(body)
        self.store.record_action(self.wiki, rev_id, COLLAPSED_KIND, "done", None, json.dumps(detail))

    def drop(self, rev_id: int, reporter: str | None, section: str, why: str) -> None:
        """Leave something unanswered for good: an untrusted status change past the limits
        (and, still, a report on the central shared page). Logged once a window."""
        detail = {"page": self.page, "section": section, "reporter": reporter or "?", "kind": "report-dropped"}
        self.store.record_action(self.wiki, rev_id, "report-dropped", why, None, json.dumps(detail))
        self._log_flood(why)

    def wait(self, rev_id: int, reporter: str | None, section: str, why: str, waiting: set[str]) -> None:
        """Keep a section for later: it is answered when the limits allow (recorded once; the
        store keeps it across restarts). A flood is logged once a window."""
        if section not in waiting:
            detail = {"page": self.page, "section": section, "reporter": reporter or "?", "kind": WAITING_KIND}
            self.store.record_action(self.wiki, rev_id, WAITING_KIND, why, None, json.dumps(detail))
            waiting.add(section)
        self._log_flood(why)

    def _log_flood(self, why: str) -> None:
        if not self.store.acted_since(self.wiki, "report-flood", time.time() - self.window):
            self.store.record_action(self.wiki, 0, "report-flood", why, None, self.page)
            log.warning("%s: report flood on %s (%s): further reports wait until the limits allow an answer",
                        self.wiki, self.page, why)

    def _recent(self, since: float) -> list[dict[str, object]]:
        found = []
        for action in self.store.actions_of_kinds(self.wiki, LINE_KINDS, since):
            detail = _detail(action.detail)
            if detail.get("page") == self.page:
                found.append({**detail, "kind": action.kind})
        return found


T = TypeVar("T")


@dataclass
class ReportPlan(Generic[T]):
    """The order in which a pass answers its new reports, the same on a local and the shared page:
    one by one, reports about the reporter's own reverted edit first; together, with one line (the
    flood), reports by editors the bot never reverted that match no revert, and repeats (a
    revision already reported in this pass, a reporter's further reports)."""

    #: A reporter's report about a further revert (not their own) joins the flood (a local page);
    #: False: each revert's report gets its own line (the shared page: its status line).
    one_per_reporter: bool = True
    individual: list[T] = field(default_factory=list)
    flood: list[T] = field(default_factory=list)
    _targets: set[Hashable] = field(default_factory=set)
    _reporters: set[str] = field(default_factory=set)

    def add(self, item: T, reporter: str | None, target: Hashable, *, answerable: bool, own: bool,
            was_reverted: Callable[[str], bool]) -> None:
        """Place ``item``: about ``target`` (a revision the bot reverted, if ``answerable``; the
        reporter's own edit, if ``own``), filed by ``reporter`` (None: unknown)."""
        if answerable and target not in self._targets and \
                (own or reporter is None or not self.one_per_reporter or reporter not in self._reporters):
            self.individual.append(item)
            self._targets.add(target)
        elif not answerable and reporter and reporter not in self._reporters and was_reverted(reporter):
            self.individual.append(item)
        else:
            self.flood.append(item)
            return
        if reporter and not own:
            self._reporters.add(reporter)

    def split(self, own: Callable[[T], bool]) -> tuple[list[T], list[T]]:
        """(those answered one by one, the reporter's own first, else in page order; the flood)."""
        return sorted(self.individual, key=lambda item: not own(item)), self.flood


def answer_planned(store: Store, wiki: str, page: str, bodies: Mapping[str, str], individual: list[T],
                   flood: list[T], *, key: Callable[[T], str], answer: Callable[[T, list[T]], int],
                   answer_flood: Callable[[list[T]], int], added: int, limit: int, retry: bool,
                   what: str) -> Generator[None, None, tuple[int, bool, bool]]:
    """Answer a pass's planned reports (:class:`ReportPlan`), the same on a local and the shared
    page: each of ``individual`` by ``answer`` (which may send a report on to ``flood``), a step
    each, then the flood's one line; a section answered while the pass was paused gets no second
    line; past ``limit`` lines the rest wait for the next pass. Returns (lines added, cut short,
    a passing fault: read again)."""
    cut = False
    for item in individual:
        if added >= limit:
            cut = True  # the edits queued behind this pass wait no longer; the bot's line goes on
            break
        if key(item) in answered_sections(store, wiki, page, {key(item): bodies[key(item)]}):
            continue  # answered while this pass was paused (by another pass, or an earlier run)
        try:
            added += answer(item, flood)
        except WikiError as exc:
            retry = retry or isinstance(exc, WikiUnavailable)
            log.error("%s: cannot answer the %s %r on %s: %s", wiki, what, key(item), page, exc)
        yield
    if flood:
        done = answered_sections(store, wiki, page, bodies)
        flood = [item for item in flood if key(item) not in done]
    if flood and not cut:
        alone: list[T] = []
        if added >= limit:
            cut = True
        else:
            try:
                if len(flood) == 1 and answer(flood[0], alone):
                    added += 1  # one report is no flood: its own line, as any other
                elif alone or len(flood) > 1:  # (alone: past its reporter's one no-match line)
                    added += answer_flood(flood)
            except WikiError as exc:
                retry = retry or isinstance(exc, WikiUnavailable)
                log.error("%s: cannot answer %d flood reports on %s: %s", wiki, len(flood), page, exc)
    return added, cut, retry
