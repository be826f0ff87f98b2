"""Scores joined with what the store knows of their edits: the rows behind prediction exports
and threshold tables (:mod:`automod.evidence`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from automod.store._connection import StoreCore
from automod.store.labels import EDIT_TIME

__all__ = ["ExportQueries", "ScoredEdit"]


@dataclass(frozen=True)
class ScoredEdit:
    """One score, the edit's facts from its decision (None when there is none) and the outcome
    labels stored for the edit."""

    wiki: str
    rev_id: int
    model: str
    version: str | None
    probability: float
    scored_at: float
    title: str | None
    user: str | None
    parent_id: int | None
    event_dt: str | None
    labels: tuple[str, ...]
    #: The edit's time (the event's, else the score's), epoch seconds.
    edit_time: float


@dataclass(frozen=True)
class ScorePoint:
    """What weighing a threshold needs of one score (:meth:`ExportQueries.score_points`)."""

    probability: float
    labels: tuple[str, ...]
    edit_time: float


class ExportQueries(StoreCore):
    """Reads across ``scores``, ``decisions`` and ``labels``."""

    def score_points(self, *, wiki: str, model: str, since: float | None = None,
                     batch: int = 1000) -> Iterator[ScorePoint]:
        """The scores of ``model`` on ``wiki`` (edits since ``since``) with their labels and edit
        time, in no set order, read ``batch`` rows at a time: a fold over a month of a large
        wiki's scores (a config edit's expected impact) holds a batch, not every score (issue 29).
        Fold it at once: nothing else should use the store while it is read."""
        where: list[str] = ["s.wiki = ?", "s.model = ?"]
        args: list[object] = [wiki, model]
        if since is not None:
            where.append(f"{EDIT_TIME} >= ?")
            args.append(since)
        labels = ("(SELECT group_concat(l.label) FROM labels l WHERE l.wiki = s.wiki AND l.rev_id = s.rev_id)"
                  if self.has_table("labels") else "NULL")
        cursor = self._db.execute(
            f"SELECT s.probability, {labels} AS labels, {EDIT_TIME} AS edit_time"
            " FROM scores s LEFT JOIN decisions d ON d.wiki = s.wiki AND d.rev_id = s.rev_id"
            f" WHERE {' AND '.join(where)}", args)
        try:
            while rows := cursor.fetchmany(batch):
                for r in rows:
                    yield ScorePoint(float(r["probability"]), tuple(r["labels"].split(",")) if r["labels"] else (),
                                     float(r["edit_time"]))
        finally:
            cursor.close()

    def scored_edits(self, *, since: float | None = None, wiki: str | None = None,
                     model: str | None = None) -> list[ScoredEdit]:
        """Scores, oldest edit first; ``since`` (epoch seconds) filters on the edit's time."""
        where: list[str] = ["1"]
        args: list[object] = []
        for clause, value in (("s.wiki = ?", wiki), ("s.model = ?", model), ("edit_time >= ?", since)):
            if value is not None:
                where.append(clause)
                args.append(value)
        labels = ("(SELECT group_concat(l.label) FROM labels l WHERE l.wiki = s.wiki AND l.rev_id = s.rev_id)"
                  if self.has_table("labels") else "NULL")
        rows = self._db.execute(
            "SELECT s.wiki, s.rev_id, s.model, s.version, s.probability, s.scored_at, d.title, d.user,"
            f" d.parent_id, d.event_dt, {labels} AS labels, {EDIT_TIME} AS edit_time"
            " FROM scores s LEFT JOIN decisions d ON d.wiki = s.wiki AND d.rev_id = s.rev_id"
            f" WHERE {' AND '.join(where)} ORDER BY edit_time, s.wiki, s.rev_id, s.model", args).fetchall()
        return [ScoredEdit(r["wiki"], int(r["rev_id"]), r["model"], r["version"], float(r["probability"]),
                           float(r["scored_at"]), r["title"], r["user"], r["parent_id"], r["event_dt"],
                           tuple(r["labels"].split(",")) if r["labels"] else (), float(r["edit_time"]))
                for r in rows]
