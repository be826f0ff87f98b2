"""Reads of a page's history and structure, and of a user's rights, that only the report
page needs (who introduced a change, where each section starts, whether a user may review).

Kept beside :mod:`automod.onwiki.gateway` rather than in it: they are plain queries through
the gateway's ``query`` and ``parse``, so the gateway stays the small core every surface
shares (login, rollback, edit, the skip rules' reads).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway, is_ip
from automod.onwiki.provenance import PageRevision

__all__ = ["KEPT_REVISIONS", "PageRevision", "RevisionTexts", "SectionSpan", "current_text",
           "header_history", "history", "history_batches", "kept_texts", "lines_after", "section_spans", "text_sha1",
           "user_rights"]

#: How many revision texts a wiki's :class:`RevisionTexts` keeps: the report page's newest
#: fifty (what every pass reads back) and a few more; a flood's deeper reads pass through.
KEPT_REVISIONS = 64
#: How many revisions' section offsets it keeps (a pass parses the newest, its answers reuse it).
KEPT_SPANS = 8

#: At most this many bytes of revision text a request (by the sizes the history gives), and at
#: least one revision: a pass that reads the texts saved since the last one holds one such
#: answer at a time, not all of them — their sum grew with the page (issue 29: the worker's
#: transient peak, and with it the heap it keeps, rose as the report page grew).
TEXT_BYTES_PER_READ = 128 * 1024


class RevisionTexts:
    """Revision texts kept across report-page passes, newest used last out.

    A revision's text never changes, so a pass reads the texts only of revisions it has not
    seen, and the history's metadata for the rest: the bytes a pass reads grow with what was
    saved since the last pass, not with the page times fifty (issue 29). Each text is kept as
    its lines, one string per distinct line shared by all kept revisions, so what is kept is
    about one page of text plus a pointer per line per revision. A text is used only under the
    sha1 the API gives for that revision now: a revision hidden since (no sha1) is read as
    hidden, never from here."""

    def __init__(self, limit: int = KEPT_REVISIONS) -> None:
        self.limit = limit
        self._texts: OrderedDict[int, tuple[str, tuple[str, ...]]] = OrderedDict()  # rev_id → (sha1, lines)
        self._lines: dict[str, str] = {}
        self._dropped = 0
        self._spans: OrderedDict[int, tuple[SectionSpan, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._texts)

    def lines(self, rev_id: int, sha1: str) -> tuple[str, ...] | None:
        """The kept lines of ``rev_id`` if kept under ``sha1``, else None (read it)."""
        with self._lock:
            kept = self._texts.get(rev_id)
            if kept is None or kept[0] != sha1:
                return None
            self._texts.move_to_end(rev_id)
            return kept[1]

    def keep(self, rev_id: int, sha1: str, text: str, parent: int | None = None) -> tuple[str, ...]:
        """Keep ``text`` as ``rev_id``'s under ``sha1``; its lines (shared strings). With the
        ``parent`` revision's text kept, the lines the two share at their start and their end
        are the parent's own: only what the edit changed is split, so a report added to a long
        page makes a few new strings, not one per line of the page (issue 29)."""
        with self._lock:
            base = self._texts.get(parent) if parent is not None else None
            lines = lines_after(base[1], text, self._lines) if base is not None else None
            if lines is None:
                # a line at a time, each matched to its kept string at once: a split would hold every
                # line of the page as a new small object before the duplicates are let go, a burst
                # that grew with the page and left CPython's allocator more arenas (issue 29)
                lines = tuple(self._lines.setdefault(line, line) for line in _each_line(text))
            self._texts[rev_id] = (sha1, lines)
            self._texts.move_to_end(rev_id)
            while len(self._texts) > self.limit:
                self._texts.popitem(last=False)
                self._dropped += 1
            if self._dropped >= self.limit:  # forget lines no kept revision holds any more
                self._lines = {line: line for _, held in self._texts.values() for line in held}
                self._dropped = 0
            return lines

    def spans(self, rev_id: int) -> tuple[SectionSpan, ...] | None:
        """The kept sections of ``rev_id`` (:func:`section_spans`), or None."""
        with self._lock:
            return self._spans.get(rev_id)

    def keep_spans(self, rev_id: int, spans: Sequence[SectionSpan]) -> None:
        """Keep ``rev_id``'s sections (the few newest revisions only)."""
        with self._lock:
            self._spans[rev_id] = tuple(spans)
            while len(self._spans) > KEPT_SPANS:
                self._spans.popitem(last=False)

    def distinct_lines(self) -> int:
        """How many distinct lines are kept (their strings are shared)."""
        return len(self._lines)


def lines_after(base: tuple[str, ...], text: str, shared: dict[str, str]) -> tuple[str, ...] | None:
    """``text``'s lines, those it shares with ``base`` (its parent's lines) at its start and at
    its end taken from ``base``, the rest split and shared through ``shared``; None if the
    result would not give ``text`` back (never expected: then the caller splits it whole)."""
    head, pos = 0, 0
    while head < len(base) and text.startswith(base[head], pos) and text.startswith("\n", pos + len(base[head])):
        pos += len(base[head]) + 1
        head += 1
    tail, end, start = 0, len(text), len(text) + 1  # start: where the first line of the tail begins
    while len(base) - 1 - tail >= head:
        line = base[len(base) - 1 - tail]
        begin = end - len(line)
        if begin < pos or not text.startswith(line, begin) or (begin > 0 and text[begin - 1] != "\n"):
            break
        tail, start = tail + 1, begin
        if begin == 0:
            break
        end = begin - 1
    if start == pos:
        middle: list[str] = []
    else:
        middle = text[pos:start - 1 if start <= len(text) else len(text)].split("\n")
    lines = base[:head] + tuple(shared.setdefault(line, line) for line in middle) + base[len(base) - tail:]
    return lines if "\n".join(lines) == text else None


def _each_line(text: str) -> Iterator[str]:
    """``text.split("\\n")``, one line at a time."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


_KEPT: weakref.WeakKeyDictionary[WikiGateway, RevisionTexts] = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def kept_texts(gateway: WikiGateway) -> RevisionTexts:
    """The revision texts kept for ``gateway``'s wiki (one per gateway: revision ids are a
    wiki's own; gone with the gateway)."""
    with _KEPT_LOCK:
        found = _KEPT.get(gateway)
        if found is None:
            found = _KEPT[gateway] = RevisionTexts()
        return found


def text_sha1(text: str) -> str:
    """A text's sha1 in hex, as the API gives a revision's (``rvprop=sha1``)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def current_text(gateway: WikiGateway, title: str) -> tuple[int, str] | None:
    """(revision id, wikitext) of ``title``'s latest revision, or None if missing. Its id and
    sha1 are read first and a kept text (:func:`kept_texts`) is used; else the text is read and
    kept, so neither the history read after it nor the next reading of the same revision (an
    answer's edit locates its section afresh) reads it again."""
    page = gateway.query(titles=title, prop="revisions", rvprop="ids|sha1")["query"]["pages"][0]
    if "missing" in page or not page.get("revisions"):
        return None
    top = page["revisions"][0]
    rev_id, sha1 = int(top["revid"]), _visible_sha1(top)
    texts = kept_texts(gateway)
    if sha1 is not None:
        lines = texts.lines(rev_id, sha1)
        if lines is not None:
            return rev_id, "\n".join(lines)
    found = gateway.page_text(title)
    if found is not None:  # its parent's lines, if kept, give most of it (unless a newer edit came meanwhile)
        parent = int(top.get("parentid") or 0) if found[0] == rev_id else 0
        texts.keep(found[0], text_sha1(found[1]), found[1], parent=parent or None)
    return found


@dataclass(frozen=True)
class SectionSpan:
    """A section of a page's own wikitext (not from a template): its index and where it starts."""

    index: int
    level: int
    byte_offset: int


def user_rights(gateway: WikiGateway, user: str) -> frozenset[str]:
    """The rights ``user`` holds now (an IP: those of logged-out editors), from the API."""
    if not user or is_ip(user):
        return gateway.anonymous_rights()
    users = gateway.query(list="users", ususers=user, usprop="rights")["query"].get("users", [])
    return frozenset(users[0].get("rights", [])) if users and "missing" not in users[0] else frozenset()


def history(gateway: WikiGateway, title: str, limit: int = 50) -> list[PageRevision]:
    """The latest ``limit`` revisions of ``title`` with their text, parent and tags,
    newest first (what :mod:`automod.onwiki.provenance` needs to tell who wrote what)."""
    page = gateway.query(titles=title, prop="revisions", rvprop="ids|user|timestamp|content|tags", rvslots="main",
                         rvlimit=limit)["query"]["pages"][0]
    return [_revision(r) for r in page.get("revisions", [])]


def header_history(gateway: WikiGateway, title: str, limit: int = 50) -> list[PageRevision]:
    """The latest ``limit`` revisions of ``title``, newest first, each with only its section 0
    (the text above the first heading) as ``text`` and the WHOLE revision's sha1 as its digest:
    what a header check needs, read in bytes that grow with the header, not with the page.
    A revision whose sha1 the API does not give (hidden) is hidden."""
    try:
        page = gateway.query(titles=title, prop="revisions", rvprop="ids|user|timestamp|content|tags|sha1",
                             rvslots="main", rvsection="0", rvlimit=limit)["query"]["pages"][0]
    except WikiError as exc:  # a revision without a section 0 (never seen): read the whole texts
        if "nosuchsection" not in str(exc):
            raise
        return history(gateway, title, limit)
    found = []
    for raw in page.get("revisions", []):
        revision, sha1 = _revision(raw), raw.get("sha1")
        if _visible_sha1(raw) is None:
            revision = revision.but(text="", hidden=True)
        found.append(revision.but(sha1=sha1 if isinstance(sha1, str) else None))
    return found


def _revision(raw: dict[str, Any]) -> PageRevision:
    main = (raw.get("slots") or {}).get("main", {})
    content = main.get("content")
    hidden = not isinstance(content, str) or "texthidden" in main
    return PageRevision(int(raw["revid"]), str(raw.get("user", "")), content if isinstance(content, str) else "",
                        parent=int(raw["parentid"]) if "parentid" in raw else None,
                        tags=frozenset(raw.get("tags") or ()), hidden=hidden, timestamp=_unix(raw.get("timestamp")))


def history_batches(gateway: WikiGateway, title: str, texts: RevisionTexts,
                    batch: int = 50) -> Iterator[list[PageRevision]]:
    """All of ``title``'s revisions with their text, newest first, ``batch`` at a time — the
    caller stops reading when it has what it needs. Each batch is read without content (ids,
    user, time, tags, sha1: a few hundred bytes a revision) and only the texts ``texts`` does not
    keep are read, by revision id: a history read again and again reads each text once."""
    params: dict[str, object] = {"titles": title, "prop": "revisions", "rvprop": "ids|user|timestamp|tags|sha1|size",
                                 "rvlimit": batch}
    while True:
        data = gateway.query(**params)
        raws = data["query"]["pages"][0].get("revisions", [])
        if raws:
            yield _kept_revisions(gateway, texts, raws)
        more = (data.get("continue") or {}).get("rvcontinue")
        if not more or not raws:
            return
        params["rvcontinue"] = more


def _kept_revisions(gateway: WikiGateway, texts: RevisionTexts, raws: list[dict[str, Any]]) -> list[PageRevision]:
    """One history batch's revisions, their texts from ``texts`` or read (and kept) now."""
    sha1s = {int(r["revid"]): sha1 for r in raws if (sha1 := _visible_sha1(r)) is not None}
    sizes = {int(r["revid"]): int(r.get("size") or 0) for r in raws}
    lines = {rev_id: texts.lines(rev_id, sha1) for rev_id, sha1 in sha1s.items()}
    parents = {int(r["revid"]): int(r.get("parentid") or 0) for r in raws}
    missing = sorted(rev_id for rev_id, found in lines.items() if found is None)  # oldest first:
    for rev_id, text in _texts_by_id(gateway, missing, sizes):  # each kept beside its parent's lines
        lines[rev_id] = texts.keep(rev_id, sha1s[rev_id], text, parent=parents.get(rev_id) or None)
    revisions = []
    for raw in raws:
        rev_id = int(raw["revid"])
        kept = lines.get(rev_id)
        revisions.append(PageRevision(rev_id, str(raw.get("user", "")), "",
                                      parent=int(raw["parentid"]) if "parentid" in raw else None,
                                      tags=frozenset(raw.get("tags") or ()), hidden=kept is None,
                                      timestamp=_unix(raw.get("timestamp")), sha1=sha1s.get(rev_id),
                                      lines=kept if kept is not None else ("",)))
    return revisions


def _visible_sha1(raw: dict[str, Any]) -> str | None:
    """A revision's sha1 as the API gives it, or None when its text is hidden (no sha1, or
    ``sha1hidden``): such a text is never taken from what was kept."""
    sha1 = raw.get("sha1")
    return sha1 if isinstance(sha1, str) and not raw.get("sha1hidden") else None


def _text_chunks(rev_ids: Sequence[int], sizes: Mapping[int, int], budget: int) -> Iterator[list[int]]:
    """``rev_ids`` in requests of at most 50 (the API's limit with content) and at most ``budget``
    bytes of text by ``sizes`` (a larger text alone)."""
    chunk: list[int] = []
    held = 0
    for rev_id in rev_ids:
        size = sizes.get(rev_id, 0)
        if chunk and (len(chunk) >= 50 or held + size > budget):
            yield chunk
            chunk, held = [], 0
        chunk.append(rev_id)
        held += size
    if chunk:
        yield chunk


def _texts_by_id(gateway: WikiGateway, rev_ids: Sequence[int], sizes: Mapping[int, int] | None = None,
                 budget: int = TEXT_BYTES_PER_READ) -> Iterator[tuple[int, str]]:
    """The visible texts of ``rev_ids``, a request at a time (:func:`_text_chunks`: at most
    ``budget`` bytes each by ``sizes``), each request's texts given before the next is read; a
    text hidden or gone meanwhile is left out (read as hidden)."""
    for chunk in _text_chunks(rev_ids, sizes or {}, budget):
        data = gateway.query(revids="|".join(map(str, chunk)), prop="revisions", rvprop="ids|content",
                             rvslots="main")
        found = [(int(raw["revid"]), text) for page in data["query"].get("pages", [])
                 for raw in page.get("revisions", []) if (text := _visible_content(raw)) is not None]
        del data  # this answer is let go before the next is read
        yield from sorted(found)
        del found


def _visible_content(raw: dict[str, Any]) -> str | None:
    main = (raw.get("slots") or {}).get("main", {})
    content = main.get("content")
    return content if isinstance(content, str) and "texthidden" not in main else None


def _unix(stamp: object) -> float:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def section_spans(gateway: WikiGateway, rev_id: int) -> list[SectionSpan]:
    """The sections of revision ``rev_id``'s own wikitext, as MediaWiki's parser finds them
    (headings from templates, in comments or ``<nowiki>`` are not among them). Kept for the
    revision's next reading (:class:`RevisionTexts`): an answer's edit locates its section in
    the revision the pass just parsed, and a revision's own sections never change."""
    texts = kept_texts(gateway)
    kept = texts.spans(rev_id)
    if kept is not None:
        return list(kept)
    data = gateway.parse(oldid=rev_id, prop="sections")
    found = [SectionSpan(int(s["index"]), int(s["level"]), int(s["byteoffset"]))
             for s in data["sections"]
             if str(s.get("index", "")).isdigit() and s.get("byteoffset") is not None]
    texts.keep_spans(rev_id, found)
    return found
