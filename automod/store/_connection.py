"""The store's core: the faulting connection, transactions, migrations and the stream position.

One file, WAL mode (a reader such as ``automod status`` never blocks the bot), numbered
migrations recorded in ``schema_migrations`` and applied each in one transaction with its
record, so a failed migration leaves the schema as it was and reopening applies each once.

At-least-once handling: the stream position is saved in the same transaction as whatever
the event led to (:meth:`StoreCore.atomic`), and decisions are unique per ``(wiki, rev_id)``,
so a re-delivered event is recognised instead of being acted on twice.

The connection never leaves the store: every query is a named method of one of the
per-concern classes the :class:`~automod.store.Store` is made of, returning records.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from automod.errors import MigrationError, StoreError
from automod.store.migrations import MIGRATIONS, Migration

__all__ = ["FaultingConnection", "StoreCore", "StreamPosition", "build", "marks"]

log = logging.getLogger("automod.store")

T = TypeVar("T")

#: SQLite's page cache per connection, in KiB. SQLite's default (2,000 KiB) is a bound too, but
#: one the cache reaches only when the file is a few MB: until then it grew with every decision
#: (about 0.8 MiB per 1,000 in a soak, for each of the bot's connections, issue 29). The file's
#: pages stay in the OS's cache; this keeps the hot index pages and reaches its bound early.
CACHE_KIB = 512


@dataclass(frozen=True)
class StreamPosition:
    event_id: str
    event_dt: str | None
    updated_at: float


def build(cls: type[T], row: sqlite3.Row) -> T:
    """The record ``cls`` from a row holding (at least) a column for each of its fields: the one
    place a row becomes a record, so no ``sqlite3.Row`` leaves the store."""
    keys = set(row.keys())
    return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls) if f.name in keys})  # type: ignore[arg-type]


def marks(values: tuple[object, ...] | list[object]) -> str:
    """``?,?,…`` for an ``IN (…)`` of ``values``."""
    return ",".join("?" * len(values))


#: SQLite's result codes for a store the system will not let the bot use (disk full, read-only,
#: I/O error, cannot open, locked past the timeout): one StoreError naming it, not a traceback.
_FAULT_CODES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
                          sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY})


def _write_problem(directory: Path) -> str | None:
    """What the file system answers to a one-byte write beside the store now ("No space left
    on device", "Read-only file system"): SQLite itself often says only "disk I/O error"."""
    try:
        with tempfile.TemporaryFile(dir=directory, buffering=0) as probe:
            probe.write(b"\0")
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


class FaultingConnection(sqlite3.Connection):
    """A connection whose store faults (``_FAULT_CODES``) raise StoreError naming the store and
    the problem; any other error (a constraint, a bug) stays as SQLite raised it."""

    store_path = Path("?")

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            code = exc.sqlite_errorcode & 0xFF  # the primary code of an extended one
            if code not in _FAULT_CODES:
                raise
            problem = _write_problem(self.store_path.parent)
            verb = "write" if problem or code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY) else "use"
            raise StoreError(f"cannot {verb} the store {self.store_path}: "
                             f"{f'{problem} ({exc})' if problem else exc}") from exc


class StoreCore:
    """The bot's SQLite file. Open one per process; not shared across threads."""

    def __init__(self, path: str | Path, migrations: tuple[Migration, ...] = MIGRATIONS):
        self.path = Path(path)
        self._depth = 0
        try:  # a missing, read-only or full directory is one clear error, not a traceback
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, factory=FaultingConnection)
            self._db.store_path = self.path
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode is durable against process crashes (SIGKILL); only an OS crash
            # can lose the last commits, which at-least-once handling then replays.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self.migrate(migrations)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store {self.path}: {getattr(exc, 'strerror', None) or exc}") from exc

    # -- transactions -------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run the block in one transaction (nested blocks join the outer one); the block calls
        store methods, which join it."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            # A failed COMMIT or a full disk may have ended the transaction already, and a
            # failing ROLLBACK must not hide the error that caused it.
            if self._db.in_transaction:
                with suppress(sqlite3.Error, StoreError):
                    self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    def _write(self, sql: str, parameters: Any = ()) -> int:
        """Run one writing statement in a transaction (the caller's, if any); rows changed."""
        with self.atomic():
            return int(self._db.execute(sql, parameters).rowcount)

    # -- migrations ---------------------------------------------------------------

    def migrate(self, migrations: tuple[Migration, ...]) -> list[int]:
        """Apply pending migrations; return the numbers applied now."""
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        done = self.applied_migrations()
        applied = []
        for number, name, apply in migrations:
            if number in done:
                continue
            try:
                with self.atomic():
                    apply(self._db)
                    self._db.execute(
                        "INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, name, time.time())
                    )
            except sqlite3.Error as exc:
                raise MigrationError(f"migration {number} ({name}) failed: {exc}") from exc
            log.debug("store %s: applied migration %d (%s)", self.path, number, name)
            applied.append(number)
        return applied

    def applied_migrations(self) -> set[int]:
        return {row[0] for row in self._db.execute("SELECT number FROM schema_migrations")}

    def has_table(self, name: str) -> bool:
        """Whether the schema has table ``name`` (a store opened with fewer migrations may not)."""
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None

    # -- stream position ----------------------------------------------------------

    def position(self, stream_url: str) -> StreamPosition | None:
        row = self._db.execute(
            "SELECT event_id, event_dt, updated_at FROM stream_positions WHERE stream_url = ?",
            (stream_url,),
        ).fetchone()
        return StreamPosition(row[0], row[1], row[2]) if row else None

    def save_position(self, stream_url: str, event_id: str, event_dt: str | None) -> None:
        self._write(
            "INSERT INTO stream_positions VALUES (?, ?, ?, ?) ON CONFLICT (stream_url) DO UPDATE"
            " SET event_id = excluded.event_id, event_dt = excluded.event_dt,"
            " updated_at = excluded.updated_at",
            (stream_url, event_id, event_dt, time.time()),
        )

    # -- malformed events ---------------------------------------------------------

    def record_malformed(self, stream_url: str, event_id: str | None, raw: str, error: str) -> None:
        self._write("INSERT INTO malformed_events (stream_url, event_id, raw, error, seen_at) VALUES (?, ?, ?, ?, ?)",
                    (stream_url, event_id, raw, error, time.time()))

    def malformed_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM malformed_events").fetchone()[0])

    def close(self) -> None:
        self._db.close()
