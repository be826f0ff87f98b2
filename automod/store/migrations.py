"""The store's schema: numbered migrations, applied in order, each in one transaction.

The store owns its schema: every table, the outcome labels' included, is created here.
Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

__all__ = ["LABELS_MIGRATION", "MIGRATIONS", "Migration"]


def _statements(db: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` inside the caller's transaction.

    (``executescript`` would commit first, breaking all-or-nothing migrations.)
    """
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _m001_initial(db: sqlite3.Connection) -> None:
    _statements(
        db,
        """
        CREATE TABLE stream_positions (
            stream_url TEXT PRIMARY KEY,
            event_id   TEXT NOT NULL,   -- the SSE id, sent back as Last-Event-ID
            event_dt   TEXT,            -- meta.dt of that event, for ?since= and lag
            updated_at REAL NOT NULL
        );
        CREATE TABLE malformed_events (
            id         INTEGER PRIMARY KEY,
            stream_url TEXT NOT NULL,
            event_id   TEXT,
            raw        TEXT NOT NULL,   -- kept whole: bad input loses nothing
            error      TEXT NOT NULL,
            seen_at    REAL NOT NULL
        );
        CREATE TABLE config_revisions (
            wiki       TEXT NOT NULL,
            rev_id     INTEGER NOT NULL,
            valid      INTEGER NOT NULL,
            errors     TEXT,            -- JSON list of messages when invalid
            content    TEXT,
            applied_at REAL NOT NULL,
            PRIMARY KEY (wiki, rev_id)
        );
        -- One row per candidate edit: what was decided and with which evidence.
        CREATE TABLE decisions (
            wiki          TEXT NOT NULL,
            rev_id        INTEGER NOT NULL,
            parent_id     INTEGER,
            title         TEXT NOT NULL,
            user          TEXT NOT NULL,   -- by name: IPs and temporary accounts too
            event_dt      TEXT NOT NULL,
            outcome       TEXT NOT NULL,   -- candidate | skip | log-only | revert | error
            reason        TEXT,
            model         TEXT,
            model_version TEXT,
            probability   REAL,
            threshold     REAL,
            config_rev    INTEGER,
            decided_at    REAL NOT NULL,
            PRIMARY KEY (wiki, rev_id)
        );
        CREATE INDEX decisions_user ON decisions (wiki, user, decided_at);
        CREATE TABLE scores (
            wiki        TEXT NOT NULL,
            rev_id      INTEGER NOT NULL,
            model       TEXT NOT NULL,
            version     TEXT,
            probability REAL NOT NULL,
            scored_at   REAL NOT NULL,
            PRIMARY KEY (wiki, rev_id, model)
        );
        CREATE TABLE actions (
            id            INTEGER PRIMARY KEY,
            wiki          TEXT NOT NULL,
            rev_id        INTEGER NOT NULL,   -- the edit acted upon
            kind          TEXT NOT NULL,      -- rollback | notice | ...
            result        TEXT NOT NULL,      -- done | failed | raced | ...
            result_rev_id INTEGER,            -- e.g. the revert's own revision
            detail        TEXT,
            acted_at      REAL NOT NULL
        );
        CREATE INDEX actions_rev ON actions (wiki, rev_id);
        """
    )


def _m002_breaker_and_caps(db: sqlite3.Connection) -> None:
    _statements(
        db,
        """
        -- The circuit breaker stays tripped for a config revision until a human edits the page.
        CREATE TABLE breaker_trips (
            wiki              TEXT NOT NULL,
            config_rev        INTEGER NOT NULL,
            reverts_last_hour INTEGER NOT NULL,
            tripped_at        REAL NOT NULL,
            PRIMARY KEY (wiki, config_rev)
        );
        CREATE INDEX decisions_page_user ON decisions (wiki, title, user, decided_at);
        CREATE INDEX decisions_outcome ON decisions (wiki, outcome, decided_at);
        """,
    )


def _m003_reports(db: sqlite3.Connection) -> None:
    _statements(
        db,
        """
        -- False-positive reports: explicit (a section on the report page) or implicit (a human
        -- undid the bot's revert). One per reverted revision and kind.
        CREATE TABLE reports (
            wiki          TEXT NOT NULL,
            rev_id        INTEGER NOT NULL,   -- the reverted edit
            kind          TEXT NOT NULL,      -- explicit | implicit
            revert_rev_id INTEGER,            -- the bot's revert, when there was one
            reporter      TEXT,
            page          TEXT NOT NULL,      -- the report page
            heading       TEXT,
            status        TEXT NOT NULL,      -- open | confirmed | declined | no-match
            logged        INTEGER NOT NULL DEFAULT 0,  -- the bot's line is on the page
            created_at    REAL NOT NULL,
            updated_at    REAL NOT NULL,
            PRIMARY KEY (wiki, rev_id, kind)
        );
        """,
    )


def _m005_stats(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE stats_published (wiki TEXT NOT NULL, day TEXT NOT NULL, published_at REAL NOT NULL,"
               " PRIMARY KEY (wiki, day))")


def _m004_labels(db: sqlite3.Connection) -> None:
    """Create ``labels`` (facts) and ``label_progress`` (what the labeller still has to do)."""
    db.execute(
        "CREATE TABLE labels ("
        " wiki TEXT NOT NULL,"
        " rev_id INTEGER NOT NULL,"
        " label TEXT NOT NULL,"          # one of LABELS
        " source TEXT NOT NULL,"         # identity-revert | mw-reverted-tag | history | report
        " by_rev_id INTEGER,"            # the revision that reverted / undid, if any
        " by_user TEXT,"
        " detail TEXT,"
        " observed_at REAL NOT NULL,"    # when it happened on the wiki (or was reported)
        " labelled_at REAL NOT NULL,"
        " PRIMARY KEY (wiki, rev_id, label))")
    db.execute(
        "CREATE TABLE label_progress ("
        " wiki TEXT NOT NULL,"
        " rev_id INTEGER NOT NULL,"
        " settled INTEGER NOT NULL,"     # 1: nothing more to learn from the history
        " checked_at REAL NOT NULL,"
        " PRIMARY KEY (wiki, rev_id))")
    db.execute("CREATE INDEX labels_label ON labels (wiki, label)")


def _m006_config_page(db: sqlite3.Connection) -> None:
    """Which page governed each decision: the wiki's own (its config page title) or the
    central page (``<wiki>:<title>``); NULL for decisions taken before this column."""
    db.execute("ALTER TABLE decisions ADD COLUMN config_page TEXT")


def _m008_reverted_revisions(db: sqlite3.Connection) -> None:
    """Every revision a revert took: the scored one and the same editor's earlier consecutive
    edits a rollback took with it (an undo takes only the scored one)."""
    _statements(
        db,
        """
        CREATE TABLE reverted_revisions (
            wiki            TEXT NOT NULL,
            rev_id          INTEGER NOT NULL,   -- the scored revision the bot reverted
            reverted_rev_id INTEGER NOT NULL,   -- a revision the revert took (rev_id itself included)
            revert_rev_id   INTEGER,            -- the bot's reverting revision
            method          TEXT NOT NULL,      -- rollback | undo
            reverted_at     REAL NOT NULL,
            PRIMARY KEY (wiki, rev_id, reverted_rev_id)
        );
        CREATE INDEX reverted_revisions_at ON reverted_revisions (wiki, reverted_at)
        """,
    )


def _m011_breaker_heals(db: sqlite3.Connection) -> None:
    """A breaker trip closes by itself (``healed_at``) once the rate stayed low for a window,
    so one config revision may see several trips: a row per trip, not per revision."""
    _statements(
        db,
        """
        CREATE TABLE breaker_trips_11 (
            id                INTEGER PRIMARY KEY,
            wiki              TEXT NOT NULL,
            config_rev        INTEGER NOT NULL,
            reverts_last_hour INTEGER NOT NULL,
            tripped_at        REAL NOT NULL,
            healed_at         REAL,              -- NULL while open
            reverts_in_window INTEGER            -- the count that let it close
        );
        INSERT INTO breaker_trips_11 (wiki, config_rev, reverts_last_hour, tripped_at)
            SELECT wiki, config_rev, reverts_last_hour, tripped_at FROM breaker_trips;
        DROP TABLE breaker_trips;
        ALTER TABLE breaker_trips_11 RENAME TO breaker_trips;
        CREATE INDEX breaker_trips_open ON breaker_trips (wiki, config_rev, healed_at)
        """,
    )


def _m012_surface_moves(db: sqlite3.Connection) -> None:
    """Moves of the bot's own pages that turned a wiki off, until set right (``cleared_at``):
    a restart keeps the wiki off."""
    _statements(
        db,
        """
        CREATE TABLE surface_moves (
            id         INTEGER PRIMARY KEY,
            wiki       TEXT NOT NULL,      -- where the move happened
            page       TEXT NOT NULL,      -- the bot's page (its configured title)
            source     TEXT NOT NULL,
            target     TEXT NOT NULL,
            user       TEXT NOT NULL,      -- who moved it
            rc_id      INTEGER,            -- the move log's recentchange id
            moved_at   REAL NOT NULL,
            cleared_at REAL,               -- NULL while the wiki is off for it
            cleared_by TEXT                -- who saved the config again
        );
        CREATE INDEX surface_moves_open ON surface_moves (wiki, cleared_at)
        """,
    )


Migration = tuple[int, str, Callable[[sqlite3.Connection], None]]

#: Outcome labels (read by automod.evidence.labels); number 3 is the reports table.
LABELS_MIGRATION: Migration = (4, "outcome labels", _m004_labels)

#: Applied in order; never edit one that has shipped, add a new one.
MIGRATIONS: tuple[Migration, ...] = (
    (1, "initial", _m001_initial),
    (2, "breaker and cap indexes", _m002_breaker_and_caps),
    (3, "false-positive reports", _m003_reports),
    LABELS_MIGRATION,
    (5, "statistics pages", _m005_stats),
    (6, "the config page governing each decision", _m006_config_page),
    (8, "revisions each revert took", _m008_reverted_revisions),
    (11, "circuit breakers that close by themselves", _m011_breaker_heals),
    (12, "moves of the bot's own pages", _m012_surface_moves),
)
