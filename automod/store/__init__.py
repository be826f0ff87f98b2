"""The SQLite store: where the stream stopped, and every decision the bot took.

One file, WAL mode (a reader such as ``automod status`` never blocks the bot), numbered
migrations recorded in ``schema_migrations`` and applied each in one transaction with its
record, so a failed migration leaves the schema as it was and reopening applies each once.

At-least-once handling: the stream position is saved in the same transaction as whatever
the event led to (:meth:`Store.atomic`), and decisions are unique per ``(wiki, rev_id)``,
so a re-delivered event is recognised instead of being acted on twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automod.errors import MigrationError, StoreError
from automod.records import Outcome, Verdict
from automod.store.migrations import MIGRATIONS, Migration

__all__ = ["CONFIRMED_REPORT_STATUSES", "MIGRATIONS", "Migration", "REPORT_STATUSES", "REVERT_OUTCOMES", "Store",
           "StreamPosition"]

log = logging.getLogger("automod.store")


#: Outcomes that count as a revert for the per-user cap and the circuit breaker.
#: "would-revert" counts too, so log-only mode shows what reverting mode would do.
REVERT_OUTCOMES = ("reverted", "reverting", "would-revert")

#: Every status the bot writes on a report (reviewers set open/confirmed/declined; the bot adds
#: no-match when it finds no revert of its own, and reinstated once it restored the edit).
REPORT_STATUSES = ("open", "confirmed", "reinstated", "declined", "no-match")
#: Statuses of a confirmed false positive: a reinstated report was confirmed first.
CONFIRMED_REPORT_STATUSES = ("confirmed", "reinstated")


@dataclass(frozen=True)
class StreamPosition:
    event_id: str
    event_dt: str | None
    updated_at: float


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


class _Connection(sqlite3.Connection):
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


class Store:
    """The bot's SQLite file. Open one per process; not shared across threads."""

    def __init__(self, path: str | Path, migrations: tuple[Migration, ...] = MIGRATIONS):
        self.path = Path(path)
        self._depth = 0
        try:  # a missing, read-only or full directory is one clear error, not a traceback
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, factory=_Connection)
            self.db.store_path = self.path
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode is durable against process crashes (SIGKILL); only an OS crash
            # can lose the last commits, which at-least-once handling then replays.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.migrate(migrations)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store {self.path}: {getattr(exc, 'strerror', None) or exc}") from exc

    # -- transactions -------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one transaction (nested blocks join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            # A failed COMMIT or a full disk may have ended the transaction already, and a
            # failing ROLLBACK must not hide the error that caused it.
            if self.db.in_transaction:
                with suppress(sqlite3.Error, StoreError):
                    self.db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    # -- migrations ---------------------------------------------------------------

    def migrate(self, migrations: tuple[Migration, ...]) -> list[int]:
        """Apply pending migrations; return the numbers applied now."""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        done = self.applied_migrations()
        applied = []
        for number, name, apply in migrations:
            if number in done:
                continue
            try:
                with self.atomic() as db:
                    apply(db)
                    db.execute(
                        "INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, name, time.time())
                    )
            except sqlite3.Error as exc:
                raise MigrationError(f"migration {number} ({name}) failed: {exc}") from exc
            log.debug("store %s: applied migration %d (%s)", self.path, number, name)
            applied.append(number)
        return applied

    def applied_migrations(self) -> set[int]:
        return {row[0] for row in self.db.execute("SELECT number FROM schema_migrations")}

    # -- stream position ----------------------------------------------------------

    def position(self, stream_url: str) -> StreamPosition | None:
        row = self.db.execute(
            "SELECT event_id, event_dt, updated_at FROM stream_positions WHERE stream_url = ?",
            (stream_url,),
        ).fetchone()
        return StreamPosition(row[0], row[1], row[2]) if row else None

    def save_position(self, stream_url: str, event_id: str, event_dt: str | None) -> None:
        with self.atomic() as db:
            db.execute(
                "INSERT INTO stream_positions VALUES (?, ?, ?, ?) ON CONFLICT (stream_url) DO UPDATE"
                " SET event_id = excluded.event_id, event_dt = excluded.event_dt,"
                " updated_at = excluded.updated_at",
                (stream_url, event_id, event_dt, time.time()),
            )

    # -- events and decisions -----------------------------------------------------

    def record_malformed(self, stream_url: str, event_id: str | None, raw: str, error: str) -> None:
        with self.atomic() as db:
            db.execute(
                "INSERT INTO malformed_events (stream_url, event_id, raw, error, seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (stream_url, event_id, raw, error, time.time()),
            )

    def malformed_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM malformed_events").fetchone()[0])

    def has_decision(self, wiki: str, rev_id: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM decisions WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)
        ).fetchone()
        return row is not None

    def record_decision(
        self,
        *,
        wiki: str,
        rev_id: int,
        parent_id: int | None,
        title: str,
        user: str,
        event_dt: str,
        outcome: str,
        reason: str | None = None,
        model: str | None = None,
        model_version: str | None = None,
        probability: float | None = None,
        threshold: float | None = None,
        config_rev: int | None = None,
        config_page: str | None = None,
    ) -> bool:
        """Record the decision on one revision; False if that revision already had one."""
        with self.atomic() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO decisions (wiki, rev_id, parent_id, title, user, event_dt, outcome, reason,"
                " model, model_version, probability, threshold, config_rev, decided_at, config_page)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (wiki, rev_id, parent_id, title, user, event_dt, outcome, reason, model,
                 model_version, probability, threshold, config_rev, time.time(), config_page),
            )
            return cur.rowcount == 1

    def decision_count(self, outcome: str | None = None) -> int:
        if outcome is None:
            return int(self.db.execute("SELECT count(*) FROM decisions").fetchone()[0])
        return int(
            self.db.execute("SELECT count(*) FROM decisions WHERE outcome = ?", (outcome,)).fetchone()[0]
        )

    def update_decision(self, wiki: str, rev_id: int, outcome: str, reason: str | None) -> None:
        with self.atomic() as db:
            db.execute("UPDATE decisions SET outcome = ?, reason = ?, decided_at = ? WHERE wiki = ? AND rev_id = ?",
                       (outcome, reason, time.time(), wiki, rev_id))

    def decision(self, wiki: str, rev_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM decisions WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchone()

    def verdict(self, wiki: str, rev_id: int) -> Verdict | None:
        """The recorded decision on ``rev_id`` as a :class:`~automod.records.Verdict` (the one
        place a ``decisions`` row becomes a record)."""
        row = self.decision(wiki, rev_id)
        if row is None:
            return None
        return Verdict(Outcome(row["outcome"]), row["reason"], config_rev=row["config_rev"], model=row["model"],
                       model_version=row["model_version"], probability=row["probability"],
                       threshold=row["threshold"], config_page=row["config_page"])

    def decisions_with_outcome(self, wiki: str, outcome: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM decisions WHERE wiki = ? AND outcome = ? ORDER BY decided_at",
                               (wiki, outcome)).fetchall()

    def reverts_of_user_on_page(self, wiki: str, user: str, title: str, since: float) -> int:
        """Reverts (or would-reverts) of ``user``'s edits on ``title`` since ``since``, by name."""
        marks = ",".join("?" * len(REVERT_OUTCOMES))
        row = self.db.execute(
            f"SELECT count(*) FROM decisions WHERE wiki = ? AND title = ? AND user = ?"
            f" AND decided_at >= ? AND outcome IN ({marks})",
            (wiki, title, user, since, *REVERT_OUTCOMES),
        ).fetchone()
        return int(row[0])

    def reverted_revisions_of(self, wiki: str, user: str, since: float) -> list[int]:
        """``user``'s edits the bot reverted since ``since`` (by name), oldest first."""
        rows = self.db.execute("SELECT rev_id FROM decisions WHERE wiki = ? AND user = ? AND outcome = 'reverted'"
                               " AND decided_at >= ? ORDER BY decided_at", (wiki, user, since)).fetchall()
        return [int(r[0]) for r in rows]

    def reverts_since(self, wiki: str, since: float) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM decisions WHERE wiki = ? AND outcome IN ('reverted', 'reverting')"
            " AND decided_at >= ?", (wiki, since)).fetchone()
        return int(row[0])

    def record_score(self, wiki: str, rev_id: int, model: str, version: str | None, probability: float) -> None:
        with self.atomic() as db:
            db.execute("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?)",
                       (wiki, rev_id, model, version, probability, time.time()))

    def record_action(self, wiki: str, rev_id: int, kind: str, result: str,
                      result_rev_id: int | None = None, detail: str | None = None) -> None:
        with self.atomic() as db:
            db.execute(
                "INSERT INTO actions (wiki, rev_id, kind, result, result_rev_id, detail, acted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (wiki, rev_id, kind, result, result_rev_id, detail, time.time()))

    def actions_for(self, wiki: str, rev_id: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM actions WHERE wiki = ? AND rev_id = ? ORDER BY id",
                               (wiki, rev_id)).fetchall()

    def record_config(self, wiki: str, rev_id: int, valid: bool, errors: list[str], content: str) -> None:
        with self.atomic() as db:
            db.execute("INSERT OR IGNORE INTO config_revisions VALUES (?, ?, ?, ?, ?, ?)",
                       (wiki, rev_id, int(valid), json.dumps(errors), content, time.time()))

    def breaker_tripped(self, wiki: str, config_rev: int) -> bool:
        row = self.db.execute("SELECT 1 FROM breaker_trips WHERE wiki = ? AND config_rev = ?",
                              (wiki, config_rev)).fetchone()
        return row is not None

    def trip_breaker(self, wiki: str, config_rev: int, reverts_last_hour: int) -> None:
        with self.atomic() as db:
            db.execute("INSERT OR IGNORE INTO breaker_trips VALUES (?, ?, ?, ?)",
                       (wiki, config_rev, reverts_last_hour, time.time()))

    def revert_of(self, wiki: str, revert_rev_id: int) -> sqlite3.Row | None:
        """The decision whose rollback produced revision ``revert_rev_id``, if the bot made it."""
        return self.db.execute(
            "SELECT d.*, a.result_rev_id AS revert_rev_id FROM actions a JOIN decisions d USING (wiki, rev_id)"
            " WHERE a.wiki = ? AND a.kind = 'rollback' AND a.result = 'done' AND a.result_rev_id = ?",
            (wiki, revert_rev_id)).fetchone()

    def rollback_of(self, wiki: str, rev_id: int) -> int | None:
        row = self.db.execute("SELECT result_rev_id FROM actions WHERE wiki = ? AND rev_id = ? AND kind = 'rollback'"
                              " AND result = 'done' ORDER BY id DESC LIMIT 1", (wiki, rev_id)).fetchone()
        return int(row[0]) if row and row[0] else None

    def upsert_report(self, *, wiki: str, rev_id: int, kind: str, page: str, status: str,
                      revert_rev_id: int | None = None, reporter: str | None = None,
                      heading: str | None = None) -> bool:
        """Insert a report; True if it is new (an existing one keeps its status)."""
        now = time.time()
        with self.atomic() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO reports (wiki, rev_id, kind, revert_rev_id, reporter, page, heading,"
                " status, logged, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (wiki, rev_id, kind, revert_rev_id, reporter, page, heading, status, now, now))
            return cur.rowcount == 1

    def set_report(self, wiki: str, rev_id: int, kind: str, *, status: str | None = None,
                   logged: bool | None = None) -> None:
        with self.atomic() as db:
            if status is not None:
                db.execute("UPDATE reports SET status = ?, updated_at = ? WHERE wiki = ? AND rev_id = ? AND kind = ?",
                           (status, time.time(), wiki, rev_id, kind))
            if logged is not None:
                db.execute("UPDATE reports SET logged = ? WHERE wiki = ? AND rev_id = ? AND kind = ?",
                           (int(logged), wiki, rev_id, kind))

    def reports(self, wiki: str, status: str | None = None) -> list[sqlite3.Row]:
        """Reports on ``wiki``; ``status`` "confirmed" includes the reinstated ones."""
        sql = ("SELECT r.*, d.title, d.user, d.probability, d.model, d.model_version, d.threshold, d.config_rev"
               " FROM reports r LEFT JOIN decisions d USING (wiki, rev_id) WHERE r.wiki = ?")
        args: list[object] = [wiki]
        if status:
            wanted = CONFIRMED_REPORT_STATUSES if status == "confirmed" else (status,)
            sql += f" AND r.status IN ({','.join('?' * len(wanted))})"
            args.extend(wanted)
        return self.db.execute(sql + " ORDER BY r.created_at", args).fetchall()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
