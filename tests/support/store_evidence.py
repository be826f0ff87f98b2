"""Tests reading the store's file as evidence: their own SQLite connection to it (the bot's
connection never leaves :mod:`automod.store`), rows by column name, autocommit."""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from automod.store import Store

__all__ = ["sqlite_of"]


@cache
def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    db.row_factory = sqlite3.Row
    return db


def sqlite_of(store: Store) -> sqlite3.Connection:
    """A connection of the test's own to ``store``'s file (one per file, kept open)."""
    return _connect(store.path.resolve())
