"""A user talk page as the aftermath of a revert reads it, once: its current text and which
exclusion templates its links table shows (issue 27: the notice path read the talk page three
times and parsed it for its sections).

:mod:`automod.onwiki.warnings` reads the current text in the same request as the texts of the
warnings it weighs and hands a :class:`TalkPage` on; :func:`read_talk_page` is the one-query
read when no warning levels are read. Sections are found in the text already read
(:func:`section_index`), the way MediaWiki numbers a page's own headings (pywikibot's heading
rule: not in comments, ``<nowiki>``, ``<pre>`` …), never by ``action=parse``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from automod.onwiki.gateway import WikiGateway

__all__ = ["TalkPage", "read_talk_page", "section_index", "templates_used"]


@dataclass(frozen=True)
class TalkPage:
    """``title``'s current revision (``rev_id`` None: the page is missing), its text ("" if
    hidden) and the exclusion templates (names without namespace) its links table shows."""

    title: str
    rev_id: int | None
    text: str
    templates: frozenset[str]

    @property
    def exists(self) -> bool:
        return self.rev_id is not None


def templates_used(page: dict[str, Any]) -> frozenset[str]:
    """The template names (without namespace) of a ``prop=templates`` answer's page."""
    return frozenset(str(t["title"]).partition(":")[2] for t in page.get("templates", []))


def read_talk_page(gateway: WikiGateway, title: str, templates: Sequence[str]) -> TalkPage:
    """``title``'s current text and which of ``templates`` (titles with namespace) it uses: one query."""
    page = gateway.query(titles=title, prop="revisions|templates", rvprop="ids|content", rvslots="main",
                         tltemplates="|".join(templates), tllimit="max")["query"]["pages"][0]
    if "missing" in page or not page.get("revisions"):
        return TalkPage(title, None, "", frozenset())
    rev = page["revisions"][0]
    content = (rev.get("slots") or {}).get("main", {}).get("content")
    return TalkPage(title, int(rev["revid"]), content if isinstance(content, str) else "", templates_used(page))


def section_index(gateway: WikiGateway, text: str, heading: str) -> int | None:
    """The index (1-based, as ``action=edit&section=`` takes it) of the first section of
    ``text``'s own headings whose title is ``heading``; None if there is none."""
    textlib = gateway.pywikibot.textlib
    pattern = textlib.get_regexes("header")[0]
    index = 0
    for match in pattern.finditer(text):
        if textlib.isDisabled(text, match.start(1)) or textlib.isDisabled(text, match.end(1) - 1):
            continue
        index += 1
        line = match[1]
        depth = min(len(line) - len(line.lstrip("=")), len(line) - len(line.rstrip("=")))
        if line[depth:len(line) - depth].strip() == heading.strip():
            return index
    return None
