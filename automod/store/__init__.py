"""The SQLite store: where the stream stopped, and every decision the bot took.

The store owns SQL: every query is a named :class:`Store` method returning records (frozen
dataclasses) or plain values, and the connection never leaves the package. The queries are
split by concern — the core (connection, transactions, migrations, stream position) in
``_connection``, then ``decisions``, ``actions``, ``reports``, ``labels``, ``stats``,
``exports``, ``seeding`` and ``moves`` — and one :class:`Store` object answers them all. This module
is the store's face: other packages import only from ``automod.store``.
"""

from __future__ import annotations

from automod.records import ReportStatus
from automod.store._connection import StoreCore, StreamPosition
from automod.store.actions import Action, ActionQueries
from automod.store.decisions import REVERT_OUTCOMES, BreakerTrip, DecidedEdit, Decision, DecisionQueries
from automod.store.exports import ExportQueries, ScoredEdit, ScorePoint
from automod.store.labels import Label, LabelCandidate, LabelQueries
from automod.store.lock import InstanceLock
from automod.store.migrations import LABELS_MIGRATION, MIGRATIONS, Migration
from automod.store.moves import SurfaceMove, SurfaceMoveQueries
from automod.store.reports import (
    CONFIRMED_REPORT_STATUSES,
    REPORT_STATUSES,
    Report,
    ReportQueries,
    ReportState,
    UnpostedOutcome,
)
from automod.store.seeding import SeedQueries
from automod.store.stats import StatsQueries, decision_rates

__all__ = ["CONFIRMED_REPORT_STATUSES", "LABELS_MIGRATION", "MIGRATIONS", "REPORT_STATUSES", "REVERT_OUTCOMES",
           "Action", "BreakerTrip", "DecidedEdit", "Decision", "InstanceLock", "Label", "LabelCandidate", "Migration",
           "Report",
           "ReportState", "ReportStatus", "ScoredEdit", "ScorePoint", "Store", "StoreCore", "StreamPosition",
           "SurfaceMove",
           "UnpostedOutcome", "decision_rates"]


class Store(DecisionQueries, ActionQueries, ReportQueries, LabelQueries, StatsQueries, ExportQueries, SeedQueries,
            SurfaceMoveQueries):
    """The bot's SQLite file. Open one per process; not shared across threads."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
