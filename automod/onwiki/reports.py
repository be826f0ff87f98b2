"""False-positive reports: the on-wiki log a community reads and the bot reads back.

A report is a section on the community's report page, normally opened with the one-click
link from the notice (its preload carries ``<!-- automod-report rev=N -->``). For each new
report the bot appends, under it, one line that people can read and programs can parse::

    : automod — revision 123 · [[Special:Diff/124|revert]] · score 0.9950 · model
      revertrisk-language-agnostic 3 · threshold 0.99 · config r17 · status: open ~~~~

Reviewers change ``status: open`` to ``confirmed`` or ``declined``; the bot stores that as
a label. The lines are written in the wiki's language (:mod:`automod.onwiki.i18n`), but what the bot
reads back is language-independent: a line starting ``automod — `` whose first number is the
revision, and the untranslated ``status: <code>`` (open, confirmed, declined, no-match), so a
reviewer's change is read on every wiki and whatever the language the line was written in. A human undoing the bot's revert is logged the same way (an implicit report).
The bot only ever appends (``appendtext``, new sections): human text is never rewritten.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from automod.errors import WikiError
from automod.onwiki.community_config import CommunityConfig
from automod.onwiki.gateway import SectionSpan, WikiGateway
from automod.onwiki.i18n import Messages, load_messages
from automod.onwiki.messages import messages_for
from automod.onwiki.report_trust import LineBudget, PageHistory, answered_sections, may_review, quote
from automod.store import Store

__all__ = ["PageSection", "ReportSection", "ensure_preload", "log_implicit_report", "page_sections",
           "parse_report_page", "preload_text", "process_report_page", "reinstate", "reinstate_refusal",
           "report_line"]

log = logging.getLogger("automod.onwiki.reports")

#: The reporter's signature: saved as two halves (MediaWiki's pre-save transform would sign
#: the preload page with the bot's name and the time it was created); a preload drops the
#: ``<includeonly>`` tags, so the edit box holds ``~~~~`` and the reporter's save signs it.
UNSIGNED_SIGNATURE = "~~<includeonly>~~</includeonly>"
STATUSES = ("open", "confirmed", "declined")  # "reinstated" is the bot's own, after "confirmed"
_HEADING = re.compile(r"^==(?!=)\s*(.*?)\s*==\s*$", re.M)
_MARKER = re.compile(r"<!--\s*automod-report rev=(\d+)\s*-->")
_DIFF = re.compile(r"Special:Diff/(\d+)")
_LINK = re.compile(r"\[\[\s*:?([^\[\]|#{}<>]+?)\s*(?:\|[^\]]*)?\]\]")
#: A free-form report names a page the bot reverted the reporter on within this period (the
#: talk notice's month).
REPORT_PERIOD = 31 * 86400.0
# "automod — <revision, in any language> N … status: <code>" (see automod-report-line in qqq.json).
_LINE = re.compile(r"automod — \D*?(\d+)\b.*?status:\s*([A-Za-z-]+)")

LabelHook = Callable[[Store, str, int, str], None]


@dataclass(frozen=True)
class ReportSection:
    heading: str
    rev_id: int | None
    logged_status: str | None  # the status in the bot's line under it, if there is one


def report_line(rev_id: int, *, revert_rev_id: int | None, probability: float | None, model: str | None,
                version: str | None, threshold: float | None, config_rev: int | None, status: str,
                messages: Messages | None = None) -> str:
    """The bot's line under a report, in ``messages``' language (English by default)."""
    messages = messages or load_messages()
    score = f"{probability:.4f}" if probability is not None else "?"
    revert = (messages.format("automod-report-revert-link", revert_rev_id) if revert_rev_id
              else messages.text("automod-report-no-revert"))
    line = messages.format("automod-report-line", rev_id, revert, score, f"{model or '?'} {version or ''}",
                           threshold if threshold is not None else "?", config_rev or "?", status)
    return f": {line} ~~~~"


def preload_text(messages: Messages) -> str:
    """What ``<report page>/Preload`` holds: marker, prompt, the reporter's signature to come."""
    return (f"<!-- automod-report rev=$1 -->\n{messages.text('automod-report-preload')}\n\n"
            f"{UNSIGNED_SIGNATURE}\n")


def parse_report_page(text: str) -> list[ReportSection]:
    """The level-2 sections of the report page, with the revision each one is about."""
    sections = []
    matches = list(_HEADING.finditer(text))
    for i, match in enumerate(matches):
        body = text[match.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)]
        # The marker, else the bot's own line (never the revert link inside it), else a diff link.
        line = _LINE.search(body)
        found = _MARKER.search(body) or line or _DIFF.search(body) or _DIFF.search(match.group(1))
        rev = int(found.group(1)) if found else None
        sections.append(ReportSection(match.group(1), rev, line.group(2).lower() if line else None))
    return sections


def ensure_preload(gateway: WikiGateway, report_page: str) -> None:
    """Create ``<report page>/Preload`` (what the one-click link pre-fills) if it is missing.

    A version the bot saved itself and that differs from today's (signed with the bot's name
    by older releases, or another language) is replaced; once a human edited it, it is theirs.
    """
    title = f"{report_page}/Preload"
    messages = messages_for(gateway)
    wanted = preload_text(messages)
    summary = messages.text("automod-report-preload-summary")
    page = gateway.query(titles=title, prop="revisions", rvprop="ids|user|content",
                         rvslots="main")["query"]["pages"][0]
    revisions = page.get("revisions") or []
    if "missing" in page or not revisions:
        try:
            gateway.edit(title, text=wanted, summary=summary, create_only=True)
        except WikiError as exc:
            if "articleexists" not in str(exc):
                raise
        return
    current = revisions[0]
    if current.get("user") == gateway.bot_user and \
            current["slots"]["main"].get("content", "").strip() != wanted.strip():
        gateway.edit(title, text=wanted, summary=summary)


@dataclass(frozen=True)
class PageSection:
    """A level-2 section of the report page, found by its place (MediaWiki's section index
    and byte offset), never by its heading's text: a heading with a template, a link or a
    twin elsewhere on the page is located like any other."""

    index: int
    heading: str  # the heading's wikitext
    key: str  # heading and its ordinal among identical headings: how the store names it
    body: str  # the section's wikitext, heading line included


def page_sections(text: str, spans: list[SectionSpan]) -> list[PageSection]:
    """Split ``text`` at the offsets MediaWiki's parser gave (``WikiGateway.section_spans``)."""
    # MediaWiki 1.39 counts "byteoffset" in characters (mb_strlen); older releases in bytes.
    by_chars = all(text[s.byte_offset:s.byte_offset + 1] == "=" for s in spans)
    raw: str | bytes = text if by_chars else text.encode("utf-8")
    bounds = [s for s in spans if s.level <= 2]
    seen: dict[str, int] = {}
    sections = []
    for i, span in enumerate(bounds):
        stop = bounds[i + 1].byte_offset if i + 1 < len(bounds) else len(raw)
        chunk = raw[span.byte_offset:stop]
        body = chunk if isinstance(chunk, str) else chunk.decode("utf-8", errors="replace")
        if span.level != 2:
            continue
        heading = body.split("\n", 1)[0].strip().strip("=").strip()
        seen[heading] = seen.get(heading, 0) + 1
        sections.append(PageSection(span.index, heading, f"{heading}#{seen[heading]}", body))
    return sections


def _heading_count(heading: str) -> Callable[[str], int]:
    pattern = re.compile(r"^==\s*" + re.escape(heading) + r"\s*==\s*$", re.M)
    return lambda text: len(pattern.findall(text))


def _status_count(rev_id: int, status: str) -> Callable[[str], int]:
    def count(text: str) -> int:
        return sum(1 for m in _LINE.finditer(text) if int(m.group(1)) == rev_id and m.group(2).lower() == status)
    return count


def _append_to(gateway: WikiGateway, page: str, key: str, line: str) -> int:
    """Append ``line`` to the section named ``key``, located afresh in the current revision."""
    found = gateway.page_text(page)
    if found is None:
        raise WikiError(f"{page} is gone")
    section = next((s for s in page_sections(found[1], gateway.section_spans(found[0])) if s.key == key), None)
    if section is None:
        raise WikiError(f"section {key!r} not found on {page}")
    return gateway.edit(page, section=str(section.index), appendtext="\n" + line,
                        summary=messages_for(gateway).format("automod-report-details-summary", section.heading))


@dataclass
class _Pass:
    """One reading of the report page: what every step of this pass shares."""

    gateway: WikiGateway
    store: Store
    wiki: str
    page: str
    config: CommunityConfig
    history: PageHistory
    budget: LineBudget
    on_label: LabelHook | None


def process_report_page(gateway: WikiGateway, store: Store, wiki: str, page: str, *, editor: str,
                        config: CommunityConfig, on_label: LabelHook | None = None) -> int:
    """Answer new reports and apply trusted reviewers' statuses; return how many lines were added.

    One bad section is logged and skipped; the others are still handled. ``editor`` (who
    saved the edit that triggered this pass) is only logged: who did what is read from history.
    """
    found = gateway.page_text(page)
    if found is None:
        return 0
    sections = page_sections(found[1], gateway.section_spans(found[0]))
    run = _Pass(gateway, store, wiki, page, config, PageHistory(gateway, page),
                LineBudget(store, wiki, page, config), on_label)
    log.info("%s: reading %s (r%d, edited by %s)", wiki, page, found[0], editor)
    added = _apply_statuses(run, found[1], sections)
    answered = answered_sections(store, wiki, page)
    for section in sections:
        if section.key in answered or _answered_before(store, wiki, section):
            continue
        try:
            added += _answer(run, section)
        except WikiError as exc:
            log.error("%s: cannot answer the report %r on %s: %s", wiki, section.key, page, exc)
    return added


def _report_rev(run: _Pass, section: PageSection, reporter: str | None) -> int | None:
    """The revision a report is about: the preload's marker, a diff link, a line quoted from
    the bot, or else a page it links that the bot reverted the reporter on (free-form)."""
    found = _MARKER.search(section.body) or _LINE.search(section.body) or _DIFF.search(section.body)
    if found:
        return int(found.group(1))
    if not reporter:
        return None
    since = time.time() - REPORT_PERIOD
    for link in _LINK.findall(section.body):
        try:
            title = run.gateway.normal_title(link)
        except WikiError:
            continue
        row = run.store.db.execute(
            "SELECT rev_id FROM decisions WHERE wiki = ? AND title = ? AND user = ? AND outcome = 'reverted'"
            " AND decided_at >= ? ORDER BY decided_at DESC LIMIT 1", (run.wiki, title, reporter, since)).fetchone()
        if row:
            return int(row["rev_id"])
    return None


def _answer(run: _Pass, section: PageSection) -> int:
    """One line under a new report, within the flood limits; a report we cannot place gets
    the polite no-match line (never silence)."""
    if run.budget.refusal(None, "report-answer") == "wiki-limit":
        run.budget.drop(0, None, section.key, "wiki-limit")
        return 0
    author = run.history.introduced_by(_heading_count(section.heading))
    reporter = author.user if author else None
    if reporter and reporter.replace("_", " ") == run.gateway.bot_user.replace("_", " "):
        return 0  # the bot's own section (an implicit report): answered when it was written
    rev_id = _report_rev(run, section, reporter)
    decision = run.store.decision(run.wiki, rev_id) if rev_id else None
    revert = run.store.rollback_of(run.wiki, rev_id) if rev_id else None
    kind = "report-answer" if decision is not None and revert is not None else "report-no-match"
    why = run.budget.refusal(reporter, kind)
    if why:
        run.budget.drop(rev_id or 0, reporter, section.key, why)
        return 0
    messages = messages_for(run.gateway)
    if rev_id is None or decision is None or revert is None:
        if rev_id is not None:
            run.store.upsert_report(wiki=run.wiki, rev_id=rev_id, kind="explicit", page=run.page, status="no-match",
                                    reporter=reporter, heading=section.key)
        line = f": {messages.format('automod-report-no-match', rev_id or 0)} ~~~~"
    else:
        run.store.upsert_report(wiki=run.wiki, rev_id=rev_id, kind="explicit", page=run.page, status="open",
                                revert_rev_id=revert, reporter=reporter, heading=section.key)
        status = run.store.db.execute("SELECT status FROM reports WHERE wiki = ? AND rev_id = ? AND kind = 'explicit'",
                                      (run.wiki, rev_id)).fetchone()["status"]
        line = report_line(rev_id, revert_rev_id=revert, probability=decision["probability"],
                           model=decision["model"], version=decision["model_version"],
                           threshold=decision["threshold"], config_rev=decision["config_rev"],
                           status=status if status in STATUSES else "open", messages=messages)
    bot_rev = _append_to(run.gateway, run.page, section.key, line)
    run.budget.spend(rev_id or 0, kind, reporter, section.key, bot_rev)
    if kind == "report-answer" and rev_id is not None:
        run.store.set_report(run.wiki, rev_id, "explicit", logged=True)
    log.info("%s: answered the report %r (r%s) by %s on %s", run.wiki, section.key, rev_id, reporter, run.page)
    return 1


def _apply_statuses(run: _Pass, text: str, sections: list[PageSection]) -> int:
    """Apply a status change made by a trusted reviewer; answer an untrusted one once."""
    added = 0
    rows = run.store.db.execute("SELECT DISTINCT rev_id, status FROM reports WHERE wiki = ? AND page = ? AND logged = 1"
                                " AND status IN ('open', 'confirmed', 'declined')", (run.wiki, run.page)).fetchall()
    for row in rows:
        rev_id, stored = int(row["rev_id"]), row["status"]
        for status in ("confirmed", "declined"):
            count = _status_count(rev_id, status)
            if status == stored or count(text) == 0:
                continue
            try:
                added += _status_change(run, rev_id, status, count, sections)
            except WikiError as exc:
                log.error("%s: cannot apply the status of the report on r%d: %s", run.wiki, rev_id, exc)
            break
    return added


def _status_change(run: _Pass, rev_id: int, status: str, count: Callable[[str], int],
                   sections: list[PageSection]) -> int:
    changed = run.history.introduced_by(count)
    where = next((s for s in sections if count(s.body)), None)
    if changed is not None and may_review(run.gateway, changed.user, run.config):
        _sync_status(run.store, run.wiki, rev_id, status, run.on_label)
        log.info("%s: %s set the report on r%d to %s (r%d)", run.wiki, changed.user, rev_id, status, changed.rev_id)
        if status == "confirmed" and where is not None:
            return reinstate(run.gateway, run.store, run.wiki, run.page, where.key, rev_id,
                             config=run.config, reviewer=changed.user)
        return 0
    changer = changed.user if changed else "?"
    marker = f"r{changed.rev_id}" if changed else "unknown"
    if where is None or _ignored_before(run, rev_id, marker):
        return 0
    log.warning("%s: ignored %s's change of the report on r%d to %s (not a reviewer)", run.wiki, changer, rev_id, status)
    if run.budget.refusal(changer, "report-status-ignored"):
        run.budget.drop(rev_id, changer, f"ignored:{marker}", "limit")
        return 0
    messages = messages_for(run.gateway)
    line = f": {messages.format('automod-report-status-ignored', rev_id, quote(changer), ', '.join(sorted(run.config.report_reviewer_rights)))} ~~~~"
    bot_rev = _append_to(run.gateway, run.page, where.key, line)
    run.budget.spend(rev_id, "report-status-ignored", changer, f"ignored:{marker}", bot_rev)
    return 1


def _ignored_before(run: _Pass, rev_id: int, marker: str) -> bool:
    """Whether this very change (the revision that made it) was answered or dropped already."""
    return run.store.db.execute("SELECT 1 FROM actions WHERE wiki = ? AND rev_id = ? AND detail LIKE ?",
                                (run.wiki, rev_id, f'%"ignored:{marker}"%')).fetchone() is not None


def _answered_before(store: Store, wiki: str, section: PageSection) -> bool:
    """A section answered by an earlier release (its report row names the heading itself)."""
    return store.db.execute("SELECT 1 FROM reports WHERE wiki = ? AND heading = ? AND logged = 1",
                            (wiki, section.heading)).fetchone() is not None


def _sync_status(store: Store, wiki: str, rev_id: int, status: str, on_label: LabelHook | None) -> None:
    """Store a trusted reviewer's status (every report on that revision) and label it."""
    for row in store.db.execute("SELECT kind, status FROM reports WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchall():
        if row["status"] != status and row["status"] != "reinstated":
            store.set_report(wiki, rev_id, row["kind"], status=status)
            if on_label is not None:
                on_label(store, wiki, rev_id, status)


def reinstate_refusal(gateway: WikiGateway, config: CommunityConfig, reviewer: str, user: str,
                      top_rev: int | None, revert: int) -> str | None:
    """Why the bot must not restore the edit itself (a reason code), or None: reinstating is
    an edit in the bot's name, so it is held to what reverting is held to."""
    if not config.enabled:
        return "wiki-disabled"
    if not may_review(gateway, reviewer, config):
        return "reviewer-not-trusted"
    if top_rev != revert:
        return "page-changed"
    if gateway.is_blocked(user):
        return "editor-blocked"
    return None


def reinstate(gateway: WikiGateway, store: Store, wiki: str, page: str, section_key: str, rev_id: int, *,
              config: CommunityConfig, reviewer: str) -> int:
    """Give a confirmed false positive its edit back, if it is still safe to; at most once."""
    if store.db.execute("SELECT 1 FROM actions WHERE wiki = ? AND rev_id = ? AND kind = 'reinstate'",
                        (wiki, rev_id)).fetchone():
        return 0  # never twice
    decision, revert = store.decision(wiki, rev_id), store.rollback_of(wiki, rev_id)
    if decision is None or revert is None:
        return 0
    title = decision["title"]
    messages = messages_for(gateway)
    top = gateway.query(titles=title, prop="revisions", rvprop="ids", rvlimit=1)["query"]["pages"][0]
    top_rev = int(top["revisions"][0]["revid"]) if top.get("revisions") else None
    why = reinstate_refusal(gateway, config, reviewer, decision["user"], top_rev, revert)
    if why is None:
        new_rev = gateway.edit(title, undo=revert, summary=messages.format(
            "automod-reinstate-summary", rev_id, page, section_key.rsplit("#", 1)[0]))
        store.record_action(wiki, rev_id, "reinstate", "done", new_rev, f"confirmed by {reviewer}")
        for row in store.db.execute("SELECT kind FROM reports WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchall():
            store.set_report(wiki, rev_id, row["kind"], status="reinstated")
        line = f": {messages.format('automod-report-reinstated', rev_id, new_rev)} ~~~~"
    else:
        store.record_action(wiki, rev_id, "reinstate", why, None, f"top r{top_rev}; confirmed by {reviewer}")
        line = (f": {messages.format('automod-report-page-changed', rev_id)} ~~~~" if why == "page-changed" else
                f": {messages.format('automod-reinstate-refused', rev_id, why)} ~~~~")
    _append_to(gateway, page, section_key, line)
    log.info("%s: confirmed report on r%d: %s", wiki, rev_id, why or "reinstated")
    return 1


def log_implicit_report(gateway: WikiGateway, store: Store, wiki: str, page: str, *, reverted_rev: int,
                        revert_rev: int, restorer: str, title: str) -> bool:
    """Log "a human undid my revert" as a probable false positive; False if already logged."""
    decision = store.decision(wiki, reverted_rev)
    if not store.upsert_report(wiki=wiki, rev_id=reverted_rev, kind="implicit", page=page, status="open",
                               revert_rev_id=revert_rev, reporter=restorer):
        return False
    messages = messages_for(gateway)
    line = report_line(reverted_rev, revert_rev_id=revert_rev,
                       probability=decision["probability"] if decision else None,
                       model=decision["model"] if decision else None,
                       version=decision["model_version"] if decision else None,
                       threshold=decision["threshold"] if decision else None,
                       config_rev=decision["config_rev"] if decision else None, status="open",
                       messages=messages)
    explanation = messages.format("automod-implicit-report", restorer, revert_rev, reverted_rev, title)
    body = f"<!-- automod-report rev={reverted_rev} -->\n{explanation}\n{line}"
    heading = messages.format("automod-implicit-report-heading", title, reverted_rev)
    bot_rev = gateway.edit(page, section="new", sectiontitle=heading, text=body,
                           summary=messages.format("automod-implicit-report-summary", title))
    store.set_report(wiki, reverted_rev, "implicit", logged=True)
    found = gateway.page_text(page)
    ordinal = _heading_count(heading)(found[1]) if found else 1
    LineBudget(store, wiki, page, CommunityConfig()).spend(reverted_rev, "report-implicit", restorer,
                                                           f"{heading}#{ordinal}", bot_rev)
    return True
