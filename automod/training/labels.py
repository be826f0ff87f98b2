"""The training label: "reverted by someone else within 48 hours".

Two signals, both read from a page's history in time order:

- identity reverts (``mwreverts``, radius 15): a later revision restores the exact content
  (same SHA-1) of an earlier one; every revision in between is reverted by its author;
- MediaWiki's own ``mw-reverted`` tag, where the history carries tags (the API does, XML
  dumps do not): it also catches undos that restore no earlier content. Its reverter is
  taken to be the first later revision (within the same radius) tagged ``mw-rollback``,
  ``mw-undo`` or ``mw-manual-revert``.

Either way the reverter must be another user (by name) and act within 48 hours; self-
reverts and late reverts are not labelled. The same function labels API and dump
histories, so both sources give the same labels for the same edits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import mwreverts

__all__ = ["LABEL_DEFINITION", "REVERT_RADIUS", "REVERT_WINDOW", "HistoryRevision", "reverted_by_others"]

REVERT_WINDOW = timedelta(hours=48)
REVERT_RADIUS = 15
REVERTING_TAGS = frozenset({"mw-rollback", "mw-undo", "mw-manual-revert"})
LABEL_DEFINITION = ("reverted by another user within 48 hours: an identity revert (same SHA-1 as an earlier "
                    "revision, radius 15) or, where the history has tags, MediaWiki's mw-reverted tag")


@dataclass(frozen=True)
class HistoryRevision:
    """The facts of one revision that labelling needs."""

    rev_id: int
    timestamp: datetime
    user: str
    sha1: str | None
    tags: frozenset[str] = frozenset()


def _counts(reverter: HistoryRevision, reverted: HistoryRevision) -> bool:
    return (reverter.user != reverted.user
            and timedelta(0) <= reverter.timestamp - reverted.timestamp <= REVERT_WINDOW)


def reverted_by_others(history: Sequence[HistoryRevision]) -> set[int]:
    """Return the ids of revisions in ``history`` (one page, oldest first) that were reverted
    by someone else within 48 hours."""
    reverted: set[int] = set()
    with_sha1 = [(r.sha1, r) for r in history if r.sha1]
    for revert in mwreverts.detect(with_sha1, radius=REVERT_RADIUS):
        for victim in revert.reverteds:
            if _counts(revert.reverting, victim):
                reverted.add(victim.rev_id)
    for i, rev in enumerate(history):
        if "mw-reverted" not in rev.tags or rev.rev_id in reverted:
            continue
        for later in history[i + 1:i + 1 + REVERT_RADIUS]:
            if later.tags & REVERTING_TAGS:
                if _counts(later, rev):
                    reverted.add(rev.rev_id)
                break
    return reverted
