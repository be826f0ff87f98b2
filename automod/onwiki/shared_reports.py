"""One false-positive page on the central wiki for the many small wikis it governs.

The central page may name ``shared_false_positive_page``: a page on the central wiki where
editors of every centrally governed wiki without its own ``false_positive_page`` report a
wrong revert. Revision numbers repeat across wikis, so everything on this page names the wiki
too: the preload's marker (``<!-- automod-report rev=N wiki=<dbname> -->``) and the bot's line
(``… status: open (wiki=<dbname>)``).

Threads: the page is read and written only by the central wiki's thread (its gateway);
reviewers' rights are read there, where the status was changed. Restoring an edit is an edit
on the wiki of the reverted edit, so it goes, as a :class:`ReinstateRequest`, to that wiki's
thread through the :class:`SharedHub`; the outcome comes back the same way and the central
thread writes its line. A human undoing a revert on such a wiki is reported there too (the
wiki's thread stores it, the central thread opens the section); every link the bot writes
there to the reverted wiki, and the reverted wiki's summary linking back, is a full URL (or
the interwiki prefix the wiki has for the central wiki): a local ``[[…]]`` would point at a
page of the same name on the wrong wiki. Nothing on the page is believed for what it says: a
report counts only for a revert the bot made under the central page on a wiki it governs, a
status only when the revision that changed it was saved by a trusted reviewer (history and
rights, as on a local page, :mod:`automod.onwiki.report_trust`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode

from automod.config import CommunityConfig
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.i18n import Messages
from automod.onwiki.messages import messages_for
from automod.onwiki.report_page import LINE, UNSIGNED_SIGNATURE, rev_number
from automod.onwiki.report_surfaces import repair_preload
from automod.onwiki.reports import append_to_section
from automod.onwiki.wikitext import link, one_line, plain, summary, summary_fragment

__all__ = ["ReinstateOutcome", "ReinstateRequest", "SHARED_MARKER", "SharedHub", "SharedPage", "append_line",
           "ensure_shared_preload", "external_diffs", "implicit_section", "interwiki_prefix", "page_url",
           "reinstate_summary", "review_config", "shared_hub", "shared_line", "shared_preload_text",
           "shared_report_url", "shared_status_count",
           "shared_status_counts", "WIKI_TAG"]

log = logging.getLogger("automod.onwiki.shared_reports")

_DBNAME = r"[A-Za-z0-9_-]{1,64}"
SHARED_MARKER = re.compile(rf"<!--\s*automod-report rev=(\d+) wiki=({_DBNAME})\s*-->")
WIKI_TAG = re.compile(rf"[ \t]*\(wiki=({_DBNAME})\)")
_DIFF_LINK = re.compile(r"\[\[Special:Diff/(\d+)(?:\|[^\]]*)?\]\]")
#: Stand-ins for a message's parameters whose ``[[…]]`` link is rewritten (see :func:`_unlink`).
_FIRST, _SECOND = "\ue000", "\ue001"


@dataclass(frozen=True)
class SharedPage:
    """The shared page as the honoured central revision names it, and the wikis it serves."""

    central_wiki: str
    title: str
    central_label: str  # the central config page's label: a report counts for reverts made under it
    index_urls: Mapping[str, str]  # governed wiki → its index.php (links to its diffs)
    central_index: str = ""  # the central wiki's index.php, as the settings know it

    @property
    def label(self) -> str:
        """How the store names the page of a report filed here (``reports.page``)."""
        return f"{self.central_wiki}:{self.title}"

    def url(self, heading: str | None = None) -> str:
        """The page's full URL (and a section's anchor): a link that works on every wiki."""
        return page_url(self.central_index, self.title, heading)


@dataclass(frozen=True)
class ReinstateRequest:
    """To the reverted edit's wiki: a trusted reviewer on the central wiki confirmed it."""

    wiki: str
    rev_id: int
    reviewer: str
    section_key: str
    shared: SharedPage
    #: The central wiki's article URL (``server`` + ``articlepath``, ``$1`` for the title), read
    #: there: the reverted wiki links to it by the interwiki prefix it has for that URL, if any.
    central_article: str = ""


@dataclass(frozen=True)
class ReinstateOutcome:
    """Back to the central wiki: what came of a request (``why`` None: reinstated as ``new_rev``)."""

    wiki: str
    rev_id: int
    section_key: str
    why: str | None
    new_rev: int | None
    shared: SharedPage


class SharedHub:
    """Per-wiki inboxes between wiki threads: each wiki's worker takes only its own items and
    acts on them with its own gateway (a gateway is never used from another thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, list[ReinstateRequest | ReinstateOutcome]] = {}

    def post(self, wiki: str, item: ReinstateRequest | ReinstateOutcome) -> None:
        with self._lock:
            self._items.setdefault(wiki, []).append(item)

    def take(self, wiki: str) -> list[ReinstateRequest | ReinstateOutcome]:
        with self._lock:
            return self._items.pop(wiki, [])


_HUBS: dict[object, SharedHub] = {}
_HUBS_LOCK = threading.Lock()


def shared_hub(key: object) -> SharedHub:
    """The one hub for a run (keyed by its settings, as every wiki thread of it shares them)."""
    with _HUBS_LOCK:
        return _HUBS.setdefault(key, SharedHub())


def shared_preload_text(messages: Messages) -> str:
    """``<shared page>/Preload``: the marker names the wiki; the diff and page are the reverted
    wiki's (``$4`` its diff URL, ``$2`` the title shown as text), never the central wiki's."""
    prompt = re.sub(r"\[\[Special:Diff/\$1(?:\|[^\]]*)?\]\]", "[$4 $3 r$1]",
                    messages.text("automod-report-preload")).replace("[[$2]]", "$2")
    return f"<!-- automod-report rev=$1 wiki=$3 -->\n{prompt}\n\n{UNSIGNED_SIGNATURE}\n"


def shared_report_url(central_index: str, page: str, *, rev_id: int, title: str, wiki: str, wiki_index: str) -> str:
    """The notice's one-click link: a new, pre-filled section on the shared page."""
    return central_index + "?" + urlencode([
        ("title", page), ("action", "edit"), ("section", "new"),
        ("preloadtitle", f"{wiki}: {title} (r{rev_id})"), ("preload", f"{page}/Preload"),
        ("preloadparams[]", str(rev_id)), ("preloadparams[]", plain(title)), ("preloadparams[]", wiki),
        ("preloadparams[]", f"{wiki_index}?diff={rev_id}")])


def ensure_shared_preload(gateway: WikiGateway, page: str, config: CommunityConfig | None = None) -> bool:
    """Create the shared preload page, or repair it like the local one
    (:func:`.report_surfaces.repair_preload`): its value as the bot or a reviewer of the shared
    page (``config``'s rights) last set it stays, any other change is undone, a marker naming a
    revision or a wiki of its own is replaced whoever saved it. True if saved."""
    messages = messages_for(gateway)
    return repair_preload(gateway, f"{page}/Preload", shared_preload_text(messages),
                          messages.text("automod-report-preload-summary"), config)


def external_diffs(text: str, wiki: str, index_url: str) -> str:
    """``[[Special:Diff/N]]`` in a message, made a link to the reverted wiki's diff (on the
    central wiki the internal link would show the central wiki's revision N)."""
    return _DIFF_LINK.sub(lambda m: f"[{index_url}?diff={m.group(1)} {wiki} r{m.group(1)}]", text)


def shared_line(messages: Messages, *, wiki: str, index_url: str, rev_id: int, revert_rev_id: int,
                probability: float | None, model: str | None, version: str | None, threshold: float | None,
                config_rev: int | None, status: str) -> str:
    """The bot's line under a report on the shared page: the local grammar (``automod — ``,
    the revision first, ``status: <code>``), then ``(wiki=<dbname>)``."""
    score = f"{probability:.4f}" if probability is not None else "?"
    revert = f"[{index_url}?diff={revert_rev_id} r{revert_rev_id}]"
    line = messages.format("automod-report-line", rev_id, revert, score, f"{model or '?'} {version or ''}",
                           threshold if threshold is not None else "?", config_rev or "?", status)
    return f": {line} (wiki={wiki}) ~~~~"


def shared_status_count(wiki: str, rev_id: int, status: str) -> Callable[[str], int]:
    """How many of the bot's lines about ``rev_id`` on ``wiki`` a text holds with ``status``."""
    def count(text: str) -> int:
        total = 0
        for m in LINE.finditer(text):
            tag = WIKI_TAG.match(text, m.end())
            if rev_number(m.group(1)) == rev_id and m.group(2).lower() == status and tag and tag.group(1) == wiki:
                total += 1
        return total
    return count


def shared_status_counts(text: str) -> Counter[tuple[str, int, str]]:
    """:func:`shared_status_count` of every wiki, revision and status at once —
    ``(wiki, rev_id, status)`` → count — in one reading of ``text`` (one scan a pass, not one
    per open report)."""
    found: Counter[tuple[str, int, str]] = Counter()
    for m in LINE.finditer(text):
        tag = WIKI_TAG.match(text, m.end())
        rev_id = rev_number(m.group(1))
        if rev_id is not None and tag:
            found[(tag.group(1), rev_id, m.group(2).lower())] += 1
    return found


def append_line(gateway: WikiGateway, page: str, key: str, line: str, read: str | None = None) -> int:
    """Append ``line`` to the section named ``key``, as on a local page (``read``: the section's
    text as the pass read it; refused if the key now names another section)."""
    return append_to_section(gateway, page, key, line, read)


def page_url(index: str, title: str, heading: str | None = None) -> str:
    """A page's full URL on a wiki (its ``index.php``), with a section's anchor when it fits:
    percent-encoded, so it holds no wikitext or summary markup whatever the title says."""
    url = f"{index}?title={_quoted(title)}"
    anchor = _quoted(heading) if heading else ""
    return f"{url}#{anchor}" if anchor and len(url) + len(anchor) < 400 else url


def _quoted(text: str) -> str:
    return quote(one_line(text).replace(" ", "_"), safe=":/(),").replace("~", "%7E")


def _unlink(text: str, stand_in: str, replacement: str) -> str:
    """The ``[[…]]`` holding ``stand_in`` in a formatted message (with its anchor or label)
    made ``replacement``; a wording that uses the parameter elsewhere gets it there too."""
    text = re.sub(r"\[\[[^\[\]]*?" + stand_in + r"[^\[\]]*\]\]", lambda _: replacement, text)
    return text.replace(stand_in, replacement)


def _schemeless(url: str) -> str:
    return re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*:(?=//)", "", url.strip())


def interwiki_prefix(interwikimap: Iterable[Mapping[str, object]], central_article: str,
                     central_index: str) -> str | None:
    """The prefix the reverted wiki's interwiki map (``siprop=interwikimap``) has for the
    central wiki's pages (by its article URL or ``index.php?title=$1``), or None."""
    wanted = {_schemeless(f"{central_index}?title=$1")} if central_index else set()
    if central_article:
        wanted.add(_schemeless(central_article))
    found = [str(e["prefix"]) for e in interwikimap
             if e.get("prefix") and _schemeless(str(e.get("url", ""))) in wanted]
    return min(found, key=lambda p: (len(p), p)) if found else None


def reinstate_summary(messages: Messages, rev_id: int, shared: SharedPage, heading: str, prefix: str | None) -> str:
    """The restoring edit's summary on the reverted wiki. A local ``[[…]]`` to the shared page
    would be a red link there: by the wiki's interwiki prefix for the central wiki when it has
    one, else the page's full URL (as text: MediaWiki links no URL in a summary)."""
    if prefix:
        return messages.format("automod-reinstate-summary", rev_id, link(f"{prefix}:{shared.title}"),
                               summary_fragment(heading))
    text = messages.format("automod-reinstate-summary", rev_id, _FIRST, _SECOND)
    return _unlink(text, _FIRST, shared.url(heading)).replace(_SECOND, "")


def implicit_section(messages: Messages, *, wiki: str, index_url: str, title: str, restorer: str, reverted_rev: int,
                     revert_rev: int, decision: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """Heading, body and edit summary of the section the bot opens on the shared page when a
    trusted human undid its revert on ``wiki``: they name the wiki, and every link goes to
    that wiki (the central wiki's page or user of the same name is someone else's)."""
    text = messages.format("automod-implicit-report", _FIRST, revert_rev, reverted_rev, _SECOND)
    text = _unlink(text, _FIRST, f"[{page_url(index_url, 'User:' + restorer)} {plain(restorer)}]")
    text = external_diffs(_unlink(text, _SECOND, f"[{page_url(index_url, title)} {plain(title)}]"), wiki, index_url)
    facts = decision or {}
    line = shared_line(messages, wiki=wiki, index_url=index_url, rev_id=reverted_rev, revert_rev_id=revert_rev,
                       probability=facts.get("probability"), model=facts.get("model"),
                       version=facts.get("model_version"), threshold=facts.get("threshold"),
                       config_rev=facts.get("config_rev"), status="open")
    heading = f"{wiki}: {messages.format('automod-implicit-report-heading', plain(title), reverted_rev)}"
    body = f"<!-- automod-report rev={reverted_rev} wiki={wiki} -->\n{text}\n{line}"
    edit_summary = _unlink(messages.format("automod-implicit-report-summary", _FIRST), _FIRST,
                           summary(f"{wiki}: {title}"))
    return heading, body, edit_summary


def review_config(defaults: Mapping[str, object], base: CommunityConfig) -> CommunityConfig:
    """Who may confirm on the shared page and the flood limits: the central defaults' keys."""
    rights = defaults.get("report_reviewer_rights")
    per_hour = defaults.get("report_answers_per_hour")
    per_reporter = defaults.get("report_answers_per_reporter_per_hour")
    return replace(base, enabled=True,
                   report_reviewer_rights=frozenset(map(str, rights)) if isinstance(rights, list)
                   else base.report_reviewer_rights,
                   report_answers_per_hour=per_hour if isinstance(per_hour, int) else base.report_answers_per_hour,
                   report_answers_per_reporter_per_hour=per_reporter if isinstance(per_reporter, int)
                   else base.report_answers_per_reporter_per_hour)
