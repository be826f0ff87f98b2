"""Outcome labels (``labels``: what became of each scored edit) and what the labeller still has
to do (``label_progress``); what a label means is :mod:`automod.evidence.labels`'s business."""

from __future__ import annotations

import time
from dataclasses import dataclass

from automod.store._connection import StoreCore, build, marks

__all__ = ["EDIT_TIME", "Label", "LabelCandidate", "LabelQueries"]

#: The edit's time in epoch seconds: the event's time as recorded with the decision, else
#: the score's (``d`` is ``decisions``, ``s`` is ``scores``).
EDIT_TIME = "COALESCE((julianday(d.event_dt) - 2440587.5) * 86400.0, s.scored_at)"


@dataclass(frozen=True)
class Label:
    wiki: str
    rev_id: int
    label: str
    source: str
    by_rev_id: int | None
    by_user: str | None
    detail: str | None
    observed_at: float
    labelled_at: float


@dataclass(frozen=True)
class LabelCandidate:
    """A scored revision with something left to learn, and when it was made."""

    rev_id: int
    edit_time: float


class LabelQueries(StoreCore):
    """Queries on ``labels`` and ``label_progress``."""

    def record_label(self, wiki: str, rev_id: int, label: str, source: str, *, by_rev_id: int | None = None,
                     by_user: str | None = None, detail: str | None = None, observed_at: float | None = None) -> None:
        """Store one fact (replacing the same label for the same revision)."""
        now = time.time()
        self._write("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (wiki, rev_id, label, source, by_rev_id, by_user, detail,
                     now if observed_at is None else observed_at, now))

    def delete_labels(self, wiki: str, rev_id: int, labels: tuple[str, ...]) -> None:
        self._write(f"DELETE FROM labels WHERE wiki = ? AND rev_id = ? AND label IN ({marks(labels)})",
                    (wiki, rev_id, *labels))

    def labels_for(self, wiki: str, rev_id: int | None = None) -> list[Label]:
        """Stored facts for one revision, or for every revision of ``wiki``, by revision."""
        sql = "SELECT * FROM labels WHERE wiki = ?"
        args: list[object] = [wiki]
        if rev_id is not None:
            sql += " AND rev_id = ?"
            args.append(rev_id)
        return [build(Label, row) for row in self._db.execute(sql + " ORDER BY rev_id, label", args).fetchall()]

    def label_counts(self, wiki: str) -> dict[str, int]:
        """How many revisions carry each label."""
        rows = self._db.execute("SELECT label, count(*) FROM labels WHERE wiki = ? GROUP BY label", (wiki,))
        return {label: int(n) for label, n in rows}

    def label_candidates(self, wiki: str, *, now: float, min_age: float, recheck: float, window: float,
                         limit: int) -> list[LabelCandidate]:
        """Scored revisions at least ``min_age`` old, not settled, and not checked within ``recheck``
        (unless their ``window`` ended since the last check), oldest first."""
        rows = self._db.execute(
            f"SELECT s.rev_id, {EDIT_TIME} AS edit_time FROM scores s"
            " LEFT JOIN decisions d ON d.wiki = s.wiki AND d.rev_id = s.rev_id"
            " LEFT JOIN label_progress p ON p.wiki = s.wiki AND p.rev_id = s.rev_id"
            f" WHERE s.wiki = :wiki AND COALESCE(p.settled, 0) = 0 AND {EDIT_TIME} <= :now - :min_age"
            " AND (p.checked_at IS NULL OR p.checked_at <= :now - :recheck"
            f"      OR (p.checked_at < {EDIT_TIME} + :window AND {EDIT_TIME} + :window <= :now))"
            " GROUP BY s.rev_id ORDER BY edit_time, s.rev_id LIMIT :limit",
            {"wiki": wiki, "now": now, "min_age": min_age, "recheck": recheck, "window": window, "limit": limit},
        ).fetchall()
        return [LabelCandidate(int(r["rev_id"]), float(r["edit_time"])) for r in rows]

    def record_label_progress(self, wiki: str, rev_id: int, settled: bool, checked_at: float) -> None:
        """The labeller checked ``rev_id`` at ``checked_at``; ``settled``: nothing more to learn."""
        self._write("INSERT OR REPLACE INTO label_progress VALUES (?, ?, ?, ?)",
                    (wiki, rev_id, int(settled), checked_at))
