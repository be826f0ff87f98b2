"""Reads of a page's history and structure, and of a user's rights, that only the report
page needs (who introduced a change, where each section starts, whether a user may review).

Kept beside :mod:`automod.onwiki.gateway` rather than in it: they are plain queries through
the gateway's ``query`` and ``parse``, so the gateway stays the small core every surface
shares (login, rollback, edit, the skip rules' reads).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway, is_ip
from automod.onwiki.provenance import PageRevision

__all__ = ["BATCH_SIZES", "PageRevision", "SectionSpan", "header_history", "history", "history_batches",
           "section_spans", "user_rights"]

#: Sizes of the history's first batches, then ``batch`` each: a question about the newest
#: revisions (one new report) reads a few, not 50; after these three the count read is 50 —
#: the old first batch — and from there the same multiples of 50 as before.
BATCH_SIZES = (5, 10, 35)


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
        revision = _revision(raw)
        sha1 = raw.get("sha1")
        if not isinstance(sha1, str) or raw.get("sha1hidden"):
            revision = replace(revision, text="", hidden=True)
        found.append(replace(revision, sha1=sha1 if isinstance(sha1, str) else None))
    return found


def _revision(raw: dict[str, Any]) -> PageRevision:
    main = (raw.get("slots") or {}).get("main", {})
    content = main.get("content")
    hidden = not isinstance(content, str) or "texthidden" in main
    return PageRevision(int(raw["revid"]), str(raw.get("user", "")), content if isinstance(content, str) else "",
                        parent=int(raw["parentid"]) if "parentid" in raw else None,
                        tags=frozenset(raw.get("tags") or ()), hidden=hidden, timestamp=_unix(raw.get("timestamp")))


def history_batches(gateway: WikiGateway, title: str, batch: int = 50,
                    sizes: Sequence[int] = BATCH_SIZES) -> Iterator[list[PageRevision]]:
    """All of ``title``'s revisions with their text, newest first: first ``sizes`` at a time,
    then ``batch`` at a time (the API's limit with content is 50) — the caller stops reading
    when it has what it needs, so a question about the newest revisions reads only a few."""
    params: dict[str, object] = {"titles": title, "prop": "revisions", "rvprop": "ids|user|timestamp|content|tags",
                                 "rvslots": "main"}
    for n in itertools.count():
        params["rvlimit"] = min(sizes[n], batch) if n < len(sizes) else batch
        data = gateway.query(**params)
        page = data["query"]["pages"][0]
        revisions = [_revision(r) for r in page.get("revisions", [])]
        if revisions:
            yield revisions
        more = (data.get("continue") or {}).get("rvcontinue")
        if not more or not revisions:
            return
        params["rvcontinue"] = more


def _unix(stamp: object) -> float:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def section_spans(gateway: WikiGateway, rev_id: int) -> list[SectionSpan]:
    """The sections of revision ``rev_id``'s own wikitext, as MediaWiki's parser finds them
    (headings from templates, in comments or ``<nowiki>`` are not among them)."""
    data = gateway.parse(oldid=rev_id, prop="sections")
    return [SectionSpan(int(s["index"]), int(s["level"]), int(s["byteoffset"]))
            for s in data["sections"]
            if str(s.get("index", "")).isdigit() and s.get("byteoffset") is not None]
