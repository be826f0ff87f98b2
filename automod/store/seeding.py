"""A new store seeded with another store's history of some wikis (``automod shard``).

A shard takes over some of the wikis one bot served. What the bot learned about them stays
true in the shard: the decisions and scores behind each editor's warning level and the
per-user caps, the reverts a report refers to, the reports and their status, the labels, the
config revisions read, the circuit-breaker trips; and the stream position, so the shard
resumes where the bot stopped instead of at the present. Every table with a ``wiki`` column
is copied for the shard's wikis (the columns both schemas have, so a source store from an
older automod seeds a newer one); the source is opened read-only and never migrated.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from pathlib import Path

from automod.errors import StoreError
from automod.store._connection import StoreCore, marks

__all__ = ["SeedQueries"]

#: Tables copied whole: the stream position is the stream's, shared by every wiki in it.
_WHOLE = ("stream_positions",)


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in db.execute(f'PRAGMA table_info("{table}")')]


class SeedQueries(StoreCore):
    """:meth:`seed_from`: copy another store's history of some wikis into this (empty) one."""

    def is_empty(self) -> bool:
        """Whether this store holds no decision and no stream position yet."""
        return (self._db.execute("SELECT 1 FROM decisions LIMIT 1").fetchone() is None
                and self._db.execute("SELECT 1 FROM stream_positions LIMIT 1").fetchone() is None)

    def seed_from(self, source: Path, wikis: Collection[str]) -> dict[str, int]:
        """Copy the rows of ``wikis`` (and the stream position) from the store at ``source``,
        in one transaction; rows copied per table. StoreError if this store is not empty or
        the source cannot be read."""
        if not self.is_empty():
            raise StoreError(f"{self.path} already holds a history: not seeding it again")
        names = sorted(wikis)
        try:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {source}: {exc}") from exc
        copied: dict[str, int] = {}
        try:
            theirs = {str(row[0]) for row in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            ours = [str(row[0]) for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_migrations' ORDER BY name")]
            with self.atomic():
                for table in ours:
                    if table not in theirs:
                        continue
                    columns = [c for c in _columns(self._db, table) if c in set(_columns(src, table))]
                    if table not in _WHOLE and "wiki" not in columns:
                        continue
                    quoted = ", ".join(f'"{c}"' for c in columns)
                    where = "" if table in _WHOLE else f" WHERE wiki IN ({marks(tuple(names))})"
                    rows = src.execute(f'SELECT {quoted} FROM "{table}"{where}', () if table in _WHOLE else names)
                    cursor = self._db.execute(f'SELECT count(*) FROM "{table}"')
                    before = int(cursor.fetchone()[0])
                    self._db.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks(tuple(columns))})', rows)
                    copied[table] = int(self._db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]) - before
        except sqlite3.Error as exc:
            raise StoreError(f"cannot seed {self.path} from {source}: {exc}") from exc
        finally:
            src.close()
        return {table: count for table, count in copied.items() if count}
