"""False-positive reports (``reports``): explicit (a section on a report page) or implicit (a
human undid the bot's revert), one per reverted revision and kind."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace

from automod.records import ReportStatus
from automod.store._connection import StoreCore, build, marks

__all__ = ["CONFIRMED_REPORT_STATUSES", "REPORT_STATUSES", "Report", "ReportQueries", "ReportState",
           "UnpostedOutcome"]

#: Every status the bot writes on a report (:class:`~automod.records.ReportStatus`).
REPORT_STATUSES = tuple(status.value for status in ReportStatus)
#: Statuses of a confirmed false positive: a reinstated report was confirmed first.
CONFIRMED_REPORT_STATUSES = (ReportStatus.CONFIRMED.value, ReportStatus.REINSTATED.value)
#: Statuses a reviewer may still change on the page.
_REVIEWABLE = (ReportStatus.OPEN.value, ReportStatus.CONFIRMED.value, ReportStatus.DECLINED.value)


@dataclass(frozen=True)
class Report:
    """One ``reports`` row; :meth:`ReportQueries.reports` adds what the decision on the reported
    edit says (the decision's fields stay None elsewhere, or when there is none)."""

    wiki: str
    rev_id: int
    kind: str                   # explicit | implicit
    revert_rev_id: int | None
    reporter: str | None
    page: str
    heading: str | None
    status: str                 # a ReportStatus value
    logged: bool
    created_at: float
    updated_at: float
    title: str | None = None
    user: str | None = None
    probability: float | None = None
    model: str | None = None
    model_version: str | None = None
    threshold: float | None = None
    config_rev: int | None = None


@dataclass(frozen=True)
class ReportState:
    """Where a report the bot logged on a page stands."""

    wiki: str
    rev_id: int
    status: str


@dataclass(frozen=True)
class UnpostedOutcome:
    """A reinstatement (or refusal) recorded on a governed wiki whose line is not yet on the
    shared report page: the section it goes under, the result and the restoring revision."""

    wiki: str
    rev_id: int
    result: str
    result_rev_id: int | None
    heading: str


class ReportQueries(StoreCore):
    """Queries on ``reports``."""

    def upsert_report(self, *, wiki: str, rev_id: int, kind: str, page: str, status: str,
                      revert_rev_id: int | None = None, reporter: str | None = None,
                      heading: str | None = None) -> bool:
        """Insert a report; True if it is new (an existing one keeps its status)."""
        now = time.time()
        return self._write(
            "INSERT OR IGNORE INTO reports (wiki, rev_id, kind, revert_rev_id, reporter, page, heading,"
            " status, logged, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (wiki, rev_id, kind, revert_rev_id, reporter, page, heading, str(status), now, now)) == 1

    def set_report(self, wiki: str, rev_id: int, kind: str, *, status: str | None = None,
                   logged: bool | None = None) -> None:
        with self.atomic():
            if status is not None:
                self._db.execute("UPDATE reports SET status = ?, updated_at = ? WHERE wiki = ? AND rev_id = ?"
                                 " AND kind = ?", (str(status), time.time(), wiki, rev_id, kind))
            if logged is not None:
                self._db.execute("UPDATE reports SET logged = ? WHERE wiki = ? AND rev_id = ? AND kind = ?",
                                 (int(logged), wiki, rev_id, kind))

    def mark_implicit_logged(self, wiki: str, rev_id: int, heading: str) -> None:
        """The implicit report on ``rev_id`` is on its page, under section ``heading``."""
        self._write("UPDATE reports SET heading = ?, logged = 1 WHERE wiki = ? AND rev_id = ? AND kind = 'implicit'",
                    (heading, wiki, rev_id))

    def reports(self, wiki: str, status: str | None = None) -> list[Report]:
        """Reports on ``wiki``, oldest first, with the decision on each reported edit; ``status``
        "confirmed" includes the reinstated ones."""
        sql = ("SELECT r.*, d.title, d.user, d.probability, d.model, d.model_version, d.threshold, d.config_rev"
               " FROM reports r LEFT JOIN decisions d USING (wiki, rev_id) WHERE r.wiki = ?")
        args: list[object] = [wiki]
        if status:
            wanted = CONFIRMED_REPORT_STATUSES if status == ReportStatus.CONFIRMED else (str(status),)
            sql += f" AND r.status IN ({marks(wanted)})"
            args.extend(wanted)
        return [_report(row) for row in self._db.execute(sql + " ORDER BY r.created_at", args).fetchall()]

    def reports_on(self, wiki: str, rev_id: int) -> list[Report]:
        """Every report (of any kind) on revision ``rev_id``."""
        rows = self._db.execute("SELECT * FROM reports WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchall()
        return [_report(row) for row in rows]

    def report_status(self, wiki: str, rev_id: int, kind: str) -> str | None:
        row = self._db.execute("SELECT status FROM reports WHERE wiki = ? AND rev_id = ? AND kind = ?",
                               (wiki, rev_id, kind)).fetchone()
        return row["status"] if row else None

    def reviewable_reports(self, page: str, wiki: str | None = None) -> list[ReportState]:
        """Reports logged on ``page`` (of ``wiki``, if given) whose status a reviewer may still
        change: open, confirmed (not yet reinstated) or declined."""
        if wiki is None:
            rows = self._db.execute(f"SELECT DISTINCT wiki, rev_id, status FROM reports WHERE page = ?"
                                    f" AND logged = 1 AND status IN ({marks(_REVIEWABLE)})",
                                    (page, *_REVIEWABLE)).fetchall()
        else:
            rows = self._db.execute(f"SELECT DISTINCT wiki, rev_id, status FROM reports WHERE wiki = ? AND page = ?"
                                    f" AND logged = 1 AND status IN ({marks(_REVIEWABLE)})",
                                    (wiki, page, *_REVIEWABLE)).fetchall()
        return [ReportState(str(r["wiki"]), int(r["rev_id"]), str(r["status"])) for r in rows]

    def heading_logged(self, wiki: str, heading: str) -> bool:
        """Whether a report logged on ``wiki`` names section ``heading`` (an earlier release's)."""
        return self._db.execute("SELECT 1 FROM reports WHERE wiki = ? AND heading = ? AND logged = 1",
                                (wiki, heading)).fetchone() is not None

    def implicit_reports_to_log(self, page: str, wikis: tuple[str, ...], limit: int) -> list[Report]:
        """Implicit reports of ``wikis`` queued for ``page`` and not yet on it, oldest first."""
        rows = self._db.execute(
            f"SELECT * FROM reports WHERE page = ? AND kind = 'implicit' AND logged = 0 AND wiki IN ({marks(wikis)})"
            " ORDER BY created_at LIMIT ?", (page, *wikis, limit)).fetchall()
        return [_report(row) for row in rows]

    def unposted_outcomes(self, page: str, outcome_kind: str) -> list[UnpostedOutcome]:
        """Reinstatements confirmed on ``page`` (their detail ends "on <page>") with no action of
        ``outcome_kind`` yet: the line saying so never reached the page."""
        suffix = f" on {page}"
        rows = self._db.execute(
            "SELECT a.wiki, a.rev_id, a.result, a.result_rev_id, max(r.heading) AS heading FROM actions a"
            " JOIN reports r ON r.wiki = a.wiki AND r.rev_id = a.rev_id AND r.page = ? AND r.heading IS NOT NULL"
            " WHERE a.kind = 'reinstate' AND substr(a.detail, -length(?)) = ? AND NOT EXISTS (SELECT 1 FROM actions o"
            " WHERE o.wiki = a.wiki AND o.rev_id = a.rev_id AND o.kind = ?) GROUP BY a.wiki, a.rev_id",
            (page, suffix, suffix, outcome_kind)).fetchall()
        return [UnpostedOutcome(str(r["wiki"]), int(r["rev_id"]), str(r["result"]), r["result_rev_id"],
                                str(r["heading"])) for r in rows]


def _report(row: sqlite3.Row) -> Report:
    return replace(build(Report, row), logged=bool(row["logged"]))
