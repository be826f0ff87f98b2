"""Who really authored what a page says now: provenance over a page's history, pure.

A wiki page is editable by everyone, so a line counts for what it says only if the right hand
wrote it — and the hand that saved a revision is not always the hand that wrote its text:

- A revision that **restores** earlier text authors nothing. MediaWiki tags rollbacks, undos
  and manual reverts (``mw-rollback``, ``mw-undo``, ``mw-manual-revert``); a revision whose
  text (sha1) equals an earlier revision's is one too, tagged or not. What it brings back keeps
  the author it had: an admin rolling back a vandal's blanking does not sign the forged
  lines the vandal's blanking removed.
- A **move** brings no trust: it leaves a null revision (the same text, saved by the mover),
  which restores nothing and so authors nothing.
- A line kept from the parent keeps its author; a line moved within the page too. Text from
  before the history read, or whose revision is hidden, has no known author (``None``) and
  is trusted by nobody.

The core takes :class:`PageRevision` records (oldest or newest first, as the API gives them:
:func:`line_authors` sorts by revision id) and is tested without a wiki; reading them through
the gateway is :func:`automod.onwiki.page_reads.history`. Used by the report pages (who set a
status, who opened a section) and the bot's own surfaces (its preload, the report page's
header: :func:`trusted_value`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["REVERT_TAGS", "Author", "Authorship", "PageRevision", "authors_of", "is_restoring", "line_authors",
           "trusted_value"]

#: MediaWiki's tags for an edit that restores an earlier revision (core change tags, 1.36+).
REVERT_TAGS = frozenset({"mw-rollback", "mw-undo", "mw-manual-revert"})


@dataclass(frozen=True, init=False)
class PageRevision:
    """One revision as the history gives it. ``parent`` 0: the page's first revision; None:
    not known (then text older than the history read has no known author). ``hidden``: its
    text is not visible to the bot (``text`` is then empty and means nothing).

    The text is held as its lines (``lines``), and ``text`` joins them when asked: a history
    kept across report-page passes (:class:`automod.onwiki.page_reads.RevisionTexts`) shares
    one string per distinct line among all the revisions it keeps, so fifty revisions of a
    long page cost about one page of text, and provenance walks their lines without splitting
    fifty texts again on every pass (issue 29)."""

    rev_id: int
    user: str
    lines: tuple[str, ...]
    parent: int | None
    tags: frozenset[str]
    hidden: bool
    timestamp: float  # when it was saved (Unix time; 0 when not read)
    #: The WHOLE revision's sha1 as the API gives it (hex), when ``text`` is only a part of it
    #: (a section), or when it was read with the text: revert detection compares whole texts.
    #: None: computed from ``text``.
    sha1: str | None

    def __init__(self, rev_id: int, user: str, text: str = "", parent: int | None = None,
                 tags: frozenset[str] = frozenset(), hidden: bool = False, timestamp: float = 0.0,
                 sha1: str | None = None, *, lines: tuple[str, ...] | None = None) -> None:
        for name, value in (("rev_id", rev_id), ("user", user),
                            ("lines", lines if lines is not None else tuple(text.split("\n"))),
                            ("parent", parent), ("tags", tags), ("hidden", hidden), ("timestamp", timestamp),
                            ("sha1", sha1)):
            object.__setattr__(self, name, value)

    @property
    def text(self) -> str:
        """The revision's text (its lines joined: made when asked, not kept)."""
        return "\n".join(self.lines)

    @property
    def digest(self) -> str:
        """The whole text's sha1, as MediaWiki compares texts to detect a manual revert."""
        return self.sha1 if self.sha1 is not None else hashlib.sha1(self.text.encode("utf-8")).hexdigest()

    def but(self, **changes: object) -> PageRevision:
        """This revision with some attributes changed (``text`` or ``lines`` for its text)."""
        values: dict[str, object] = {"rev_id": self.rev_id, "user": self.user, "parent": self.parent,
                                     "tags": self.tags, "hidden": self.hidden, "timestamp": self.timestamp,
                                     "sha1": self.sha1, "lines": self.lines}
        if "text" in changes:
            values.pop("lines")
        values.update(changes)
        return PageRevision(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Author:
    """The revision that really wrote a line, and who saved it."""

    rev_id: int
    user: str


@dataclass(frozen=True)
class Authorship:
    """A line of the page's current text and who really wrote it (None: nobody can be credited)."""

    line: str
    author: Author | None


_Author = Author | None


def is_restoring(revision: PageRevision, earlier_digests: Iterable[str] = ()) -> bool:
    """Whether ``revision`` restores earlier text (a tagged revert, or an earlier text again)."""
    return bool(REVERT_TAGS & revision.tags) or revision.digest in set(earlier_digests)


def line_authors(revisions: Sequence[PageRevision]) -> list[Authorship]:
    """Who authored each line of the newest revision's text, in the text's order."""
    ordered = sorted(revisions, key=lambda r: r.rev_id)
    if not ordered:
        return []
    by_digest: dict[str, list[_Author]] = {}  # an earlier text → its lines' authors
    latest_author: dict[str, _Author] = {}  # a line → its author where it last stood
    previous: list[_Author] | None = None  # None: the parent's authorship is unknown
    previous_lines: Sequence[str] = ()
    for index, rev in enumerate(ordered):
        lines = rev.lines
        if rev.hidden:
            authors: list[_Author] | None = None
        elif rev.digest in by_digest:  # the same text as an earlier revision: a revert, or a null
            authors = list(by_digest[rev.digest])  # revision (a move, a protection) — it authors nothing
        else:
            first = index == 0 and rev.parent == 0
            kept = _kept(previous_lines, previous) if previous is not None else {}
            restoring = bool(REVERT_TAGS & rev.tags)
            authors = []
            for line in lines:
                queue = kept.get(line)
                if queue:
                    authors.append(queue.pop())
                elif restoring:  # brought back: its author where it last stood, else nobody
                    authors.append(latest_author.get(line))
                elif previous is None and not first:
                    authors.append(None)  # beside an unknown parent: new or old, nobody can tell
                else:
                    authors.append(Author(rev.rev_id, rev.user))
        if authors is not None:
            by_digest[rev.digest] = authors
            for line, author in zip(lines, authors):
                latest_author[line] = author
        previous, previous_lines = authors, lines
    newest = ordered[-1]
    if previous is None:
        return [Authorship(line, None) for line in newest.lines]
    return [Authorship(line, author) for line, author in zip(previous_lines, previous)]


def _kept(lines: Sequence[str], authors: list[_Author]) -> dict[str, list[_Author]]:
    """Each line of the parent → its authors there, the first occurrence's LAST (``pop()``
    takes them in the text's order): plain lists, as most lines occur once."""
    kept: dict[str, list[_Author]] = defaultdict(list)
    for line, author in zip(reversed(lines), reversed(authors)):
        kept[line].append(author)
    return kept


def authors_of(revisions: Sequence[PageRevision], count: Callable[[str], int]) -> list[Authorship]:
    """The lines of the current text that ``count`` finds something in, newest author first
    (lines nobody can be credited with last)."""
    found = [a for a in line_authors(revisions) if count(a.line) > 0]
    return sorted(found, key=lambda a: -1 if a.author is None else a.author.rev_id, reverse=True)


def trusted_value(revisions: Sequence[PageRevision], part: Callable[[str], str],
                  trusted: Callable[[str], bool]) -> str | None:
    """The value of ``part`` (a page's header, its whole text…) as a trusted hand last set it.

    Walking the history oldest first, a change of ``part`` is taken when a user for whom
    ``trusted(user)`` holds saved it in an edit of their own, or when a revision restores
    a value that was trusted before (a rollback of a vandal's change); any other change is
    not. The oldest value read is the starting point (None: its revision is hidden, or no
    revision was read). Compare with ``part`` of the current text to see whether to repair."""
    ordered = sorted(revisions, key=lambda r: r.rev_id)
    if not ordered:
        return None
    value = None if ordered[0].hidden else part(ordered[0].text)
    if ordered[0].parent == 0 and not ordered[0].hidden and not trusted(ordered[0].user):
        value = None  # the page's first revision, by an untrusted hand: nothing trusted yet
    held = {value} if value is not None else set()
    before = value
    seen = {ordered[0].digest}
    for rev in ordered[1:]:
        if rev.hidden:
            continue
        now = part(rev.text)
        restoring = is_restoring(rev, seen)
        seen.add(rev.digest)
        if now == before:
            continue
        before = now
        if (not restoring and trusted(rev.user)) or (restoring and now in held):
            value = now
            held.add(now)
    return value
