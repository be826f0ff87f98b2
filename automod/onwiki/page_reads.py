"""Reads of a page's history and structure, and of a user's rights, that only the report
page needs (who introduced a change, where each section starts, whether a user may review).

Kept beside :mod:`automod.onwiki.gateway` rather than in it: they are plain queries through
the gateway's ``query`` and ``parse``, so the gateway stays the small core every surface
shares (login, rollback, edit, the skip rules' reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automod.onwiki.gateway import WikiGateway, is_ip
from automod.onwiki.provenance import PageRevision

__all__ = ["PageRevision", "SectionSpan", "history", "history_batches", "section_spans", "user_rights"]


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


def _revision(raw: dict[str, Any]) -> PageRevision:
    main = (raw.get("slots") or {}).get("main", {})
    content = main.get("content")
    hidden = not isinstance(content, str) or "texthidden" in main
    return PageRevision(int(raw["revid"]), str(raw.get("user", "")), content if isinstance(content, str) else "",
                        parent=int(raw["parentid"]) if "parentid" in raw else None,
                        tags=frozenset(raw.get("tags") or ()), hidden=hidden, timestamp=_unix(raw.get("timestamp")))


def history_batches(gateway: WikiGateway, title: str, batch: int = 50) -> Iterator[list[PageRevision]]:
    """All of ``title``'s revisions with their text, newest first, ``batch`` at a time (the
    API's limit with content is 50): the caller stops reading when it has what it needs."""
    params: dict[str, object] = {"titles": title, "prop": "revisions", "rvprop": "ids|user|timestamp|content|tags",
                                 "rvslots": "main", "rvlimit": batch}
    while True:
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
