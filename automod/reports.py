"""False-positive reports: the on-wiki log a community reads and the bot reads back.

A report is a section on the community's report page, normally opened with the one-click
link from the notice (its preload carries ``<!-- automod-report rev=N -->``). For each new
report the bot appends, under it, one line that people can read and programs can parse::

    : automod — revision 123 · [[Special:Diff/124|revert]] · score 0.9950 · model
      revertrisk-language-agnostic 3 · threshold 0.99 · config r17 · status: open ~~~~

Reviewers change ``status: open`` to ``confirmed`` or ``declined``; the bot stores that as
a label. A human undoing the bot's revert is logged the same way (an implicit report).
The bot only ever appends (``appendtext``, new sections): human text is never rewritten.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from automod.errors import WikiError
from automod.store import Store
from automod.wiki import WikiGateway

__all__ = ["PRELOAD_TEXT", "ReportSection", "ensure_preload", "log_implicit_report", "parse_report_page",
           "process_report_page", "reinstate", "report_line"]

log = logging.getLogger("automod.reports")

PRELOAD_TEXT = ("<!-- automod-report rev=$1 -->\n"
                "Reverted edit: [[Special:Diff/$1]] on [[$2]].\n\n"
                "Why it was a good edit: \n\n~~~~\n")
STATUSES = ("open", "confirmed", "declined")  # "reinstated" is the bot's own, after "confirmed"
_HEADING = re.compile(r"^==(?!=)\s*(.*?)\s*==\s*$", re.M)
_MARKER = re.compile(r"<!--\s*automod-report rev=(\d+)\s*-->")
_DIFF = re.compile(r"Special:Diff/(\d+)")
_LINE = re.compile(r"automod — revision (\d+) .*?status:\s*([A-Za-z-]+)")

LabelHook = Callable[[Store, str, int, str], None]


@dataclass(frozen=True)
class ReportSection:
    heading: str
    rev_id: int | None
    logged_status: str | None  # the status in the bot's line under it, if there is one


def report_line(rev_id: int, *, revert_rev_id: int | None, probability: float | None, model: str | None,
                version: str | None, threshold: float | None, config_rev: int | None, status: str) -> str:
    score = f"{probability:.4f}" if probability is not None else "?"
    revert = f"[[Special:Diff/{revert_rev_id}|revert]]" if revert_rev_id else "no revert"
    return (f": automod — revision {rev_id} · {revert} · score {score} · model {model or '?'} {version or ''}"
            f" · threshold {threshold if threshold is not None else '?'} · config r{config_rev or '?'}"
            f" · status: {status} ~~~~")


def parse_report_page(text: str) -> list[ReportSection]:
    """The level-2 sections of the report page, with the revision each one is about."""
    sections = []
    matches = list(_HEADING.finditer(text))
    for i, match in enumerate(matches):
        body = text[match.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)]
        found = _MARKER.search(body) or _DIFF.search(body) or _DIFF.search(match.group(1))
        line = _LINE.search(body)
        rev = int(found.group(1)) if found else (int(line.group(1)) if line else None)
        sections.append(ReportSection(match.group(1), rev, line.group(2).lower() if line else None))
    return sections


def ensure_preload(gateway: WikiGateway, report_page: str) -> None:
    """Create ``<report page>/Preload`` (what the one-click link pre-fills) if it is missing."""
    title = f"{report_page}/Preload"
    if gateway.page_text(title) is None:
        try:
            gateway.edit(title, text=PRELOAD_TEXT, summary="automod: template for false-positive reports",
                         create_only=True)
        except WikiError as exc:
            if "articleexists" not in str(exc):
                raise


def _append_under(gateway: WikiGateway, page: str, heading: str, line: str) -> None:
    index = next((i for i, h in gateway.sections(page) if h.strip() == heading.strip()), None)
    if index is None:
        raise WikiError(f"section {heading!r} not found on {page}")
    gateway.edit(page, section=str(index), appendtext="\n" + line, summary=f"automod: details for /* {heading} */")


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
    decision = store.decision(wiki, section.rev_id)
    revert = store.rollback_of(wiki, section.rev_id)
    if decision is None or revert is None:
        store.upsert_report(wiki=wiki, rev_id=section.rev_id, kind="explicit", page=page, status="no-match",
                            reporter=reporter, heading=section.heading)
        line = (f": automod — revision {section.rev_id} · I find no revert of this revision by me, so there is "
                f"nothing for me to check; a human may still help here. status: no-match ~~~~")
    else:
        store.upsert_report(wiki=wiki, rev_id=section.rev_id, kind="explicit", page=page, status="open",
                            revert_rev_id=revert, reporter=reporter, heading=section.heading)
        line = report_line(section.rev_id, revert_rev_id=revert, probability=decision["probability"],
                           model=decision["model"], version=decision["model_version"],
                           threshold=decision["threshold"], config_rev=decision["config_rev"], status="open")
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
    top = gateway.query(titles=title, prop="revisions", rvprop="ids", rvlimit=1)["query"]["pages"][0]
    top_rev = int(top["revisions"][0]["revid"]) if top.get("revisions") else None
    if top_rev == revert:
        new_rev = gateway.edit(title, undo=revert, summary=(
            f"automod: restoring [[Special:Diff/{rev_id}|the edit]] I reverted by mistake "
            f"(confirmed false positive: [[{page}#{section.heading}]])"))
        store.record_action(wiki, rev_id, "reinstate", "done", new_rev, section.heading)
        for row in store.db.execute("SELECT kind FROM reports WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchall():
            store.set_report(wiki, rev_id, row["kind"], status="reinstated")
        line = (f": automod — revision {rev_id} reinstated: [[Special:Diff/{new_rev}]]. Thank you for the "
                f"report. ~~~~")
    else:
        store.record_action(wiki, rev_id, "reinstate", "page-changed", None, f"top r{top_rev}")
        line = (f": automod — revision {rev_id}: the page was edited after my revert, so I will not restore "
                f"the edit myself; a human should restore it by hand if it is still wanted. ~~~~")
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
    line = report_line(reverted_rev, revert_rev_id=revert_rev,
                       probability=decision["probability"] if decision else None,
                       model=decision["model"] if decision else None,
                       version=decision["model_version"] if decision else None,
                       threshold=decision["threshold"] if decision else None,
                       config_rev=decision["config_rev"] if decision else None, status="open")
    body = (f"<!-- automod-report rev={reverted_rev} -->\n[[User:{restorer}|{restorer}]] undid my revert "
            f"[[Special:Diff/{revert_rev}]] of [[Special:Diff/{reverted_rev}]] on [[{title}]]: probably a "
            f"false positive.\n{line}")
    gateway.edit(page, section="new", sectiontitle=f"Probable false positive: {title} (r{reverted_rev})",
                 text=body, summary=f"automod: probable false positive on [[{title}]]")
    store.set_report(wiki, reverted_rev, "implicit", logged=True)
    return True
