"""Which wiki and which revision a report on the shared false-positive page is about.

Revision numbers repeat across wikis, so a number alone names nothing here. In order: the
preload's marker (``rev=N wiki=<dbname>``); a line of the bot's quoted with its
``(wiki=<dbname>)``; a diff URL of a governed wiki (its ``index.php?…diff=N`` or ``oldid=N``);
else, as on a local report page, a page the report links (``[[Page]]``) on which the bot
reverted the reporter within the talk notice's month — under the central page, on the wikis
the report names (a governed wiki's dbname or host, or ``[[<dbname>:Page]]``), or on any
governed wiki when it names none. Found on several wikis: the bot asks which one (never guesses).

Nothing here is believed beyond what the store knows: the answer is only a revision the bot
reverted; whether it is acted on is for trusted reviewers (:mod:`automod.onwiki.report_trust`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from automod.onwiki.report_page import LINE, LINK, rev_number
from automod.onwiki.reports import REPORT_PERIOD
from automod.onwiki.shared_reports import SHARED_MARKER, WIKI_TAG, SharedPage
from automod.store import Store

__all__ = ["ReportTarget", "report_target"]

#: At most this many linked pages are looked up per report (each is one store query).
MAX_LINKS = 20


@dataclass(frozen=True)
class ReportTarget:
    """What a report is about: ``wiki`` and ``rev_id`` (``""``/None: unknown), or, when the
    page it names was reverted on several wikis, those wikis (``candidates``) and the page."""

    wiki: str = ""
    rev_id: int | None = None
    candidates: tuple[str, ...] = ()
    title: str = ""


def report_target(store: Store, shared: SharedPage, text: str, reporter: str | None,
                  now: float | None = None) -> ReportTarget:
    """The wiki and revision the report section ``text`` (heading included) is about."""
    marker = SHARED_MARKER.search(text)
    if marker:
        return ReportTarget(marker.group(2), rev_number(marker.group(1)))
    for line in LINE.finditer(text):
        tag = WIKI_TAG.match(text, line.end())
        if tag:
            return ReportTarget(tag.group(1), rev_number(line.group(1)))
    for wiki, index in shared.index_urls.items():
        diff = re.search(re.escape(index) + r"\?[^\s\[\]<>|]*?\b(?:diff|oldid)=(\d+)", text)
        if diff:
            return ReportTarget(wiki, rev_number(diff.group(1)))
    if not reporter:
        return ReportTarget()
    return _free_form(store, shared, text, reporter, time.time() if now is None else now)


def _named_wikis(text: str, shared: SharedPage) -> set[str]:
    """The governed wikis a report names: by dbname, or by a host only one of them has."""
    hosts: dict[str, list[str]] = {}
    for wiki, index in shared.index_urls.items():
        hosts.setdefault(urlsplit(index).netloc.lower(), []).append(wiki)
    lowered = text.lower()
    named = {w for w in shared.index_urls if re.search(rf"(?<![\w-]){re.escape(w.lower())}(?![\w-])", lowered)}
    named |= {found[0] for host, found in hosts.items() if host and len(found) == 1 and host in lowered}
    return named


def _free_form(store: Store, shared: SharedPage, text: str, reporter: str, now: float) -> ReportTarget:
    """A page the report links, reverted under the central page, the reporter's edit."""
    named = _named_wikis(text, shared)
    for target in LINK.findall(text)[:MAX_LINKS]:
        prefix, _, rest = target.partition(":")
        wikis = named or set(shared.index_urls)
        if rest and prefix.strip() in shared.index_urls:
            wikis, target = {prefix.strip()}, rest  # [[<dbname>:Page]]
        title = " ".join(target.replace("_", " ").split())
        if not title:
            continue
        rows = store.reverted_under(tuple(sorted(wikis)), (title, title[:1].upper() + title[1:]), reporter,
                                    shared.central_label, now - REPORT_PERIOD)
        latest: dict[str, int] = {}
        for row in rows:
            latest.setdefault(str(row.wiki), int(row.rev_id))
        if len(latest) == 1:
            wiki, rev_id = next(iter(latest.items()))
            return ReportTarget(wiki, rev_id, title=str(rows[0].title))
        if latest:  # the title as the wikis spell it
            return ReportTarget(candidates=tuple(sorted(latest)), title=str(rows[0].title))
    return ReportTarget()
