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
from collections.abc import Callable
from dataclasses import dataclass

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.i18n import Messages, load_messages
from automod.onwiki.messages import messages_for
from automod.store import Store

__all__ = ["ReportSection", "ensure_preload", "log_implicit_report", "parse_report_page", "preload_text",
           "process_report_page", "reinstate", "report_line"]

log = logging.getLogger("automod.onwiki.reports")

#: The reporter's signature: saved as two halves (MediaWiki's pre-save transform would sign
#: the preload page with the bot's name and the time it was created); a preload drops the
#: ``<includeonly>`` tags, so the edit box holds ``~~~~`` and the reporter's save signs it.
UNSIGNED_SIGNATURE = "~~<includeonly>~~</includeonly>"
STATUSES = ("open", "confirmed", "declined")  # "reinstated" is the bot's own, after "confirmed"
_HEADING = re.compile(r"^==(?!=)\s*(.*?)\s*==\s*$", re.M)
_MARKER = re.compile(r"<!--\s*automod-report rev=(\d+)\s*-->")
_DIFF = re.compile(r"Special:Diff/(\d+)")
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


def _append_under(gateway: WikiGateway, page: str, heading: str, line: str) -> None:
    index = next((i for i, h in gateway.sections(page) if h.strip() == heading.strip()), None)
    if index is None:
        raise WikiError(f"section {heading!r} not found on {page}")
    gateway.edit(page, section=str(index), appendtext="\n" + line,
                 summary=messages_for(gateway).format("automod-report-details-summary", heading))


def process_report_page(gateway: WikiGateway, store: Store, wiki: str, page: str, *, editor: str,
                        on_label: LabelHook | None = None) -> int:
    """Answer new reports and read reviewers' statuses back; return how many lines were added."""
    found = gateway.page_text(page)
    if found is None:
        return 0
    added = 0
    for section in parse_report_page(found[1]):
        if section.rev_id is None:
            continue
        if section.logged_status is None:
            added += _answer(gateway, store, wiki, page, section, reporter=editor)
        elif _sync_status(store, wiki, section, on_label) == "confirmed":
            added += reinstate(gateway, store, wiki, page, section)
    return added


def _answer(gateway: WikiGateway, store: Store, wiki: str, page: str, section: ReportSection, reporter: str) -> int:
    assert section.rev_id is not None
    messages = messages_for(gateway)
    decision = store.decision(wiki, section.rev_id)
    revert = store.rollback_of(wiki, section.rev_id)
    if decision is None or revert is None:
        store.upsert_report(wiki=wiki, rev_id=section.rev_id, kind="explicit", page=page, status="no-match",
                            reporter=reporter, heading=section.heading)
        line = f": {messages.format('automod-report-no-match', section.rev_id)} ~~~~"
    else:
        store.upsert_report(wiki=wiki, rev_id=section.rev_id, kind="explicit", page=page, status="open",
                            revert_rev_id=revert, reporter=reporter, heading=section.heading)
        line = report_line(section.rev_id, revert_rev_id=revert, probability=decision["probability"],
                           model=decision["model"], version=decision["model_version"],
                           threshold=decision["threshold"], config_rev=decision["config_rev"], status="open",
                           messages=messages)
    _append_under(gateway, page, section.heading, line)
    store.set_report(wiki, section.rev_id, "explicit", logged=True)
    log.info("%s: answered the report on r%d on %s", wiki, section.rev_id, page)
    return 1


def _sync_status(store: Store, wiki: str, section: ReportSection, on_label: LabelHook | None) -> str | None:
    """Store the reviewers' status; return it if it changed."""
    assert section.rev_id is not None and section.logged_status is not None
    status = section.logged_status
    if status not in STATUSES:
        return None
    changed = None
    for row in store.db.execute("SELECT kind, status FROM reports WHERE wiki = ? AND rev_id = ?",
                                (wiki, section.rev_id)).fetchall():
        if row["status"] != status and row["status"] != "reinstated":
            store.set_report(wiki, section.rev_id, row["kind"], status=status)
            log.info("%s: report on r%d is now %s", wiki, section.rev_id, status)
            if on_label is not None and status in ("confirmed", "declined"):
                on_label(store, wiki, section.rev_id, status)
            changed = status
    return changed


def reinstate(gateway: WikiGateway, store: Store, wiki: str, page: str, section: ReportSection) -> int:
    """Give a confirmed false positive its edit back, if nobody edited the page since; once."""
    assert section.rev_id is not None
    rev_id = section.rev_id
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
    if top_rev == revert:
        new_rev = gateway.edit(title, undo=revert, summary=messages.format(
            "automod-reinstate-summary", rev_id, page, section.heading))
        store.record_action(wiki, rev_id, "reinstate", "done", new_rev, section.heading)
        for row in store.db.execute("SELECT kind FROM reports WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchall():
            store.set_report(wiki, rev_id, row["kind"], status="reinstated")
        line = f": {messages.format('automod-report-reinstated', rev_id, new_rev)} ~~~~"
    else:
        store.record_action(wiki, rev_id, "reinstate", "page-changed", None, f"top r{top_rev}")
        line = f": {messages.format('automod-report-page-changed', rev_id)} ~~~~"
    _append_under(gateway, page, section.heading, line)
    log.info("%s: confirmed report on r%d: %s", wiki, rev_id, "reinstated" if top_rev == revert else "page changed")
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
    gateway.edit(page, section="new", sectiontitle=messages.format("automod-implicit-report-heading", title, reverted_rev),
                 text=body, summary=messages.format("automod-implicit-report-summary", title))
    store.set_report(wiki, reverted_rev, "implicit", logged=True)
    return True
