"""Counts behind the statistics pages, what was published when (``stats_published``), and
edit rates read from a store another process is writing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from automod.errors import StoreError
from automod.store._connection import StoreCore, marks

__all__ = ["StatsQueries", "decision_rates"]


class StatsQueries(StoreCore):
    """Counts over ``reports`` and the ``stats_published`` marks."""

    def count_reports(self, wiki: str, *, kind: str | None = None, statuses: tuple[str, ...] | None = None,
                      created_since: float | None = None, created_before: float | None = None,
                      updated_since: float | None = None, updated_before: float | None = None,
                      distinct_revisions: bool = False) -> int:
        """Reports on ``wiki`` (of ``kind``, with one of ``statuses``, created and updated within
        the bounds given: since inclusive, before exclusive); ``distinct_revisions`` counts the
        reported revisions instead."""
        sql = f"SELECT {'count(DISTINCT rev_id)' if distinct_revisions else 'count(*)'} FROM reports WHERE wiki = ?"
        args: list[object] = [wiki]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if statuses is not None:
            sql += f" AND status IN ({marks(statuses)})"
            args.extend(str(s) for s in statuses)
        for column, op, value in (("created_at", ">=", created_since), ("created_at", "<", created_before),
                                  ("updated_at", ">=", updated_since), ("updated_at", "<", updated_before)):
            if value is not None:
                sql += f" AND {column} {op} ?"
                args.append(value)
        return int(self._db.execute(sql, args).fetchone()[0])

    def published(self, key: str, day: str) -> bool:
        """Whether ``key``'s (a wiki's, or a summary's) statistics for ``day`` were published."""
        return self._db.execute("SELECT 1 FROM stats_published WHERE wiki = ? AND day = ?",
                                (key, day)).fetchone() is not None

    def mark_published(self, key: str, day: str, at: float) -> None:
        self._write("INSERT OR REPLACE INTO stats_published VALUES (?, ?, ?)", (key, day, at))


def decision_rates(path: Path, since: float) -> dict[str, int]:
    """Decisions per wiki taken since ``since``, read from the store at ``path`` without opening
    it for writing (a running bot keeps writing it): no migration, no lock taken. StoreError if
    it cannot be read."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT wiki, COUNT(*) FROM decisions WHERE decided_at >= ? GROUP BY wiki",
                            (since,)).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from exc
    finally:
        conn.close()
    return {str(wiki): int(count) for wiki, count in rows}
