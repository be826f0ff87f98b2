"""What one revision added and removed, read as MediaWiki's diff (``action=compare``), not as
the two whole texts: the bytes read grow with the change, not with the page (issue 29: a
warning level read two whole texts of a 200 KB talk page per trusted revision).

The table diff of MediaWiki (1.39; wikidiff2 alike) holds each added line whole in a cell of
class ``diff-addedline``, each removed line in ``diff-deletedline`` (a changed line is both:
its word changes are ``<ins>``/``<del>`` spans inside the whole line), unchanged context in
``diff-context``. Every character of the text is escaped in the HTML (``&lt;``, ``&amp;``), so
no text can forge a cell; tags are stripped, then entities unescaped.

The lines added minus the lines removed is what the whole texts say the revision added: the
lines common to both texts are the context (shown or not), present on both sides.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway

__all__ = ["RevisionDiff", "diff_sides", "revision_diff"]

#: The compare errors that mean "this text may not be read" (hidden, deleted): unknown, not a failure.
UNREADABLE = ("missingcontent", "nosuchrevid", "permissiondenied")

_CELL = re.compile(r"<td\b(?P<attrs>[^>]*)>(?P<body>.*?)</td>", re.S)
_CLASS = re.compile(r'\bclass="(?P<cls>[^"]*)"')
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class RevisionDiff:
    """The lines a revision added and removed (each side's lines joined by newlines, in order)
    and the size of the diff read (characters of its HTML)."""

    added: str
    deleted: str
    size: int


def diff_sides(body: str) -> tuple[str, str]:
    """The added and the deleted lines of a table diff's HTML, each side joined by newlines."""
    added: list[str] = []
    deleted: list[str] = []
    for cell in _CELL.finditer(body):
        found = _CLASS.search(cell["attrs"])
        classes = found["cls"].split() if found else []
        side = added if "diff-addedline" in classes else deleted if "diff-deletedline" in classes else None
        if side is not None:
            side.append(html.unescape(_TAG.sub("", cell["body"])))
    return "\n".join(added), "\n".join(deleted)


def revision_diff(gateway: WikiGateway, parent: int, rev_id: int) -> RevisionDiff | None:
    """What revision ``rev_id`` changed against ``parent`` (0: the page's first revision,
    compared with an empty text); None when either text may not be read (hidden, deleted)."""
    params: dict[str, object] = {"torev": rev_id, "prop": "diff|ids"}
    if parent:
        params["fromrev"] = parent
    else:
        params.update({"fromslots": "main", "fromtext-main": ""})
    try:
        answer = gateway.compare(**params)
    except WikiError as exc:
        if any(f": {code}:" in str(exc) for code in UNREADABLE):
            return None
        raise
    if int(answer.get("torevid") or 0) != rev_id or (parent and int(answer.get("fromrevid") or 0) != parent):
        return None  # not the pair asked (never seen): what it added is unknown
    body = answer.get("body")
    if not isinstance(body, str):
        return None  # a diff the wiki would not render (hidden): unknown
    added, deleted = diff_sides(body)
    return RevisionDiff(added, deleted, len(body))
