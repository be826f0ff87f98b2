"""Decisions (one per candidate edit), the scores behind them, config revisions read and
circuit-breaker trips."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass

from automod.records import Outcome, RecentChange, Verdict
from automod.store._connection import StoreCore, build, marks

__all__ = ["LEFT_ALONE_OUTCOMES", "REVERT_OUTCOMES", "BreakerTrip", "DecidedEdit", "Decision", "DecisionQueries"]

#: Outcomes that count as a revert for the per-user cap and the circuit breaker.
#: "would-revert" counts too, so log-only mode shows what reverting mode would do.
REVERT_OUTCOMES = ("reverted", "reverting", "would-revert")
#: Outcomes that left the edit in place: when a later rollback takes it (MediaWiki's rollback
#: reverts the editor's whole run of consecutive edits) it becomes "reverted-with".
LEFT_ALONE_OUTCOMES = ("skip", "disabled", "error", "unscorable", "below-threshold", "would-revert", "beaten",
                       "rollback-failed", "rollback-abandoned", "rollback-expired", "target-mismatch")


@dataclass(frozen=True)
class DecidedEdit:
    """The edit a decision is about, as the ``decisions`` table keeps it (``event_dt`` is the
    stream event's time)."""

    wiki: str
    rev_id: int
    parent_id: int | None
    title: str
    user: str
    event_dt: str

    @classmethod
    def of(cls, change: RecentChange) -> DecidedEdit:
        assert change.rev_id is not None
        return cls(change.wiki, change.rev_id, change.parent_id, change.title, change.user, change.meta.dt)


@dataclass(frozen=True)
class BreakerTrip:
    """One ``breaker_trips`` row: the circuit breaker tripped under a config revision, and
    when (if yet) it closed by itself."""

    id: int
    wiki: str
    config_rev: int
    reverts_last_hour: int
    tripped_at: float
    healed_at: float | None
    reverts_in_window: int | None


@dataclass(frozen=True)
class Decision:
    """One ``decisions`` row: the edit, what was decided and with which evidence."""

    wiki: str
    rev_id: int
    parent_id: int | None
    title: str
    user: str
    event_dt: str
    outcome: str
    reason: str | None
    model: str | None
    model_version: str | None
    probability: float | None
    threshold: float | None
    config_rev: int | None
    decided_at: float
    config_page: str | None = None

    def verdict(self) -> Verdict:
        """The decision as a :class:`~automod.records.Verdict` (the one place a stored decision
        becomes one)."""
        return Verdict(Outcome(self.outcome), self.reason, config_rev=self.config_rev, model=self.model,
                       model_version=self.model_version, probability=self.probability,
                       threshold=self.threshold, config_page=self.config_page)


class DecisionQueries(StoreCore):
    """Queries on ``decisions``, ``scores``, ``config_revisions`` and ``breaker_trips``."""

    def has_decision(self, wiki: str, rev_id: int) -> bool:
        row = self._db.execute("SELECT 1 FROM decisions WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchone()
        return row is not None

    def record_decision(self, edit: DecidedEdit, verdict: Verdict) -> bool:
        """Record the decision on one revision; False if that revision already had one."""
        return self._write(
            "INSERT OR IGNORE INTO decisions (wiki, rev_id, parent_id, title, user, event_dt, outcome, reason,"
            " model, model_version, probability, threshold, config_rev, decided_at, config_page)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (edit.wiki, edit.rev_id, edit.parent_id, edit.title, edit.user, edit.event_dt, verdict.outcome.value,
             verdict.reason, verdict.model, verdict.model_version, verdict.probability, verdict.threshold,
             verdict.config_rev, time.time(), verdict.config_page)) == 1

    def decision_count(self, outcome: str | None = None) -> int:
        if outcome is None:
            return int(self._db.execute("SELECT count(*) FROM decisions").fetchone()[0])
        return int(self._db.execute("SELECT count(*) FROM decisions WHERE outcome = ?", (outcome,)).fetchone()[0])

    def update_decision(self, wiki: str, rev_id: int, verdict: Verdict) -> None:
        """The decision's outcome and reason become ``verdict``'s (its evidence stays as recorded)."""
        self._write("UPDATE decisions SET outcome = ?, reason = ?, decided_at = ? WHERE wiki = ? AND rev_id = ?",
                    (verdict.outcome.value, verdict.reason, time.time(), wiki, rev_id))

    def mark_reverted_with(self, wiki: str, rev_id: int, taken: tuple[int, ...]) -> list[Decision]:
        """The decisions on the revisions in ``taken`` (but ``rev_id``) that had left their edit in
        place (``LEFT_ALONE_OUTCOMES``) become ``reverted-with``: the revert of ``rev_id`` took them.
        Their reason keeps what they were; their evidence and decision time stay. The rows as they
        are now, oldest first."""
        earlier = tuple(t for t in taken if t != rev_id)
        if not earlier:
            return []
        marked: list[Decision] = []
        with self.atomic():
            rows = self._db.execute(
                f"SELECT * FROM decisions WHERE wiki = ? AND rev_id IN ({marks(earlier)})"
                f" AND outcome IN ({marks(LEFT_ALONE_OUTCOMES)}) ORDER BY rev_id",
                (wiki, *earlier, *LEFT_ALONE_OUTCOMES)).fetchall()
            for row in rows:
                was = build(Decision, row)
                detail = f": {was.reason}" if was.reason and was.reason != was.outcome else ""
                reason = f"with-r{rev_id}; was {was.outcome}{detail}"[:300]
                self._write("UPDATE decisions SET outcome = ?, reason = ? WHERE wiki = ? AND rev_id = ?",
                            (Outcome.REVERTED_WITH.value, reason, wiki, was.rev_id))
                marked.append(dataclasses.replace(was, outcome=Outcome.REVERTED_WITH.value, reason=reason))
        return marked

    def decision(self, wiki: str, rev_id: int) -> Decision | None:
        row = self._db.execute("SELECT * FROM decisions WHERE wiki = ? AND rev_id = ?", (wiki, rev_id)).fetchone()
        return build(Decision, row) if row else None

    def verdict(self, wiki: str, rev_id: int) -> Verdict | None:
        """The recorded decision on ``rev_id`` as a :class:`~automod.records.Verdict`."""
        found = self.decision(wiki, rev_id)
        return found.verdict() if found is not None else None

    def decisions_with_outcome(self, wiki: str, outcome: str) -> list[Decision]:
        rows = self._db.execute("SELECT * FROM decisions WHERE wiki = ? AND outcome = ? ORDER BY decided_at",
                                (wiki, outcome)).fetchall()
        return [build(Decision, row) for row in rows]

    def decisions_between(self, wiki: str, start: float, end: float) -> list[Decision]:
        """Decisions on ``wiki`` taken in ``[start, end)``."""
        rows = self._db.execute("SELECT * FROM decisions WHERE wiki = ? AND decided_at >= ? AND decided_at < ?",
                                (wiki, start, end)).fetchall()
        return [build(Decision, row) for row in rows]

    def reverts_of_user_on_page(self, wiki: str, user: str, title: str, since: float) -> int:
        """Reverts (or would-reverts) of ``user``'s edits on ``title`` since ``since``, by name."""
        row = self._db.execute(
            f"SELECT count(*) FROM decisions WHERE wiki = ? AND title = ? AND user = ?"
            f" AND decided_at >= ? AND outcome IN ({marks(REVERT_OUTCOMES)})",
            (wiki, title, user, since, *REVERT_OUTCOMES),
        ).fetchone()
        return int(row[0])

    def reverted_revisions_of(self, wiki: str, user: str, since: float) -> list[int]:
        """``user``'s edits the bot reverted since ``since`` (by name), oldest first."""
        rows = self._db.execute("SELECT rev_id FROM decisions WHERE wiki = ? AND user = ? AND outcome = 'reverted'"
                                " AND decided_at >= ? ORDER BY decided_at", (wiki, user, since)).fetchall()
        return [int(r[0]) for r in rows]

    def latest_reverted_on_page(self, wiki: str, title: str, user: str, since: float) -> int | None:
        """``user``'s latest edit on ``title`` the bot reverted since ``since`` (by name)."""
        row = self._db.execute(
            "SELECT rev_id FROM decisions WHERE wiki = ? AND title = ? AND user = ? AND outcome = 'reverted'"
            " AND decided_at >= ? ORDER BY decided_at DESC LIMIT 1", (wiki, title, user, since)).fetchone()
        return int(row["rev_id"]) if row else None

    def reverted_under(self, wikis: tuple[str, ...], titles: tuple[str, ...], user: str, config_page: str,
                       since: float) -> list[Decision]:
        """``user``'s edits on one of ``titles`` on one of ``wikis`` the bot reverted since ``since``
        under ``config_page`` (a central page), the latest first."""
        rows = self._db.execute(
            f"SELECT * FROM decisions WHERE wiki IN ({marks(wikis)}) AND title IN ({marks(titles)}) AND user = ?"
            " AND outcome = 'reverted' AND config_page = ? AND decided_at >= ? ORDER BY decided_at DESC",
            (*wikis, *titles, user, config_page, since)).fetchall()
        return [build(Decision, row) for row in rows]

    def reverts_since(self, wiki: str, since: float) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM decisions WHERE wiki = ? AND outcome IN ('reverted', 'reverting')"
            " AND decided_at >= ?", (wiki, since)).fetchone()
        return int(row[0])

    def count_decisions(self, wiki: str, *, outcomes: tuple[str, ...] | None = None, scored: bool = False,
                        since: float | None = None, before: float | None = None) -> int:
        """Decisions on ``wiki`` (with one of ``outcomes``; with a probability if ``scored``)
        taken in ``[since, before)`` (either end open when None)."""
        sql = "SELECT count(*) FROM decisions WHERE wiki = ?"
        args: list[object] = [wiki]
        if outcomes is not None:
            sql += f" AND outcome IN ({marks(outcomes)})"
            args += outcomes
        if scored:
            sql += " AND probability IS NOT NULL"
        if since is not None:
            sql += " AND decided_at >= ?"
            args.append(since)
        if before is not None:
            sql += " AND decided_at < ?"
            args.append(before)
        return int(self._db.execute(sql, args).fetchone()[0])

    def latest_config_page(self, wiki: str) -> str | None:
        """The page whose revision governed the latest decision on ``wiki`` that names one."""
        row = self._db.execute("SELECT config_page FROM decisions WHERE wiki = ? AND config_page IS NOT NULL"
                               " ORDER BY decided_at DESC LIMIT 1", (wiki,)).fetchone()
        return row["config_page"] if row else None

    def current_threshold(self, wiki: str, model: str) -> float | None:
        """The threshold of the bot's most recent decision with ``model`` (None if it never decided)."""
        row = self._db.execute(
            "SELECT threshold FROM decisions WHERE wiki = ? AND model = ? AND threshold IS NOT NULL"
            " ORDER BY decided_at DESC LIMIT 1", (wiki, model)).fetchone()
        return float(row[0]) if row else None

    # -- scores ---------------------------------------------------------------------

    def record_score(self, wiki: str, rev_id: int, model: str, version: str | None, probability: float) -> None:
        self._write("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?)",
                    (wiki, rev_id, model, version, probability, time.time()))

    def models_scored(self, wiki: str) -> list[str]:
        """Models with scores on ``wiki``, the most used first."""
        rows = self._db.execute("SELECT model, count(*) AS n FROM scores WHERE wiki = ? GROUP BY model"
                                " ORDER BY n DESC, model", (wiki,))
        return [str(r[0]) for r in rows]

    # -- config revisions and the breaker ---------------------------------------------

    def record_config(self, wiki: str, rev_id: int, valid: bool, errors: list[str], content: str) -> None:
        self._write("INSERT OR IGNORE INTO config_revisions VALUES (?, ?, ?, ?, ?, ?)",
                    (wiki, rev_id, int(valid), json.dumps(errors), content, time.time()))

    def config_content(self, wiki: str, rev_id: int) -> str | None:
        """The text of config revision ``rev_id`` as the bot read it, if it did."""
        row = self._db.execute("SELECT content FROM config_revisions WHERE wiki = ? AND rev_id = ?",
                               (wiki, rev_id)).fetchone()
        return row["content"] if row else None

    def breaker_tripped(self, wiki: str, config_rev: int) -> bool:
        """Whether a breaker trip under config revision ``config_rev`` is still open."""
        return self.open_breaker(wiki, config_rev) is not None

    def open_breaker(self, wiki: str, config_rev: int) -> BreakerTrip | None:
        """The open breaker trip under ``config_rev`` (editing the config page starts afresh)."""
        row = self._db.execute("SELECT * FROM breaker_trips WHERE wiki = ? AND config_rev = ? AND healed_at IS NULL"
                               " ORDER BY tripped_at DESC LIMIT 1", (wiki, config_rev)).fetchone()
        return build(BreakerTrip, row) if row else None

    def trip_breaker(self, wiki: str, config_rev: int, reverts_last_hour: int) -> None:
        """Open a trip under ``config_rev``, unless one is open already."""
        with self.atomic():
            if self.open_breaker(wiki, config_rev) is None:
                self._write("INSERT INTO breaker_trips (wiki, config_rev, reverts_last_hour, tripped_at)"
                            " VALUES (?, ?, ?, ?)", (wiki, config_rev, reverts_last_hour, time.time()))

    def heal_breaker(self, trip_id: int, healed_at: float, reverts_in_window: int) -> bool:
        """Close trip ``trip_id``; False if it was closed already (by another thread)."""
        with self.atomic():
            changed = self._db.execute("SELECT 1 FROM breaker_trips WHERE id = ? AND healed_at IS NULL",
                                       (trip_id,)).fetchone() is not None
            if changed:
                self._write("UPDATE breaker_trips SET healed_at = ?, reverts_in_window = ? WHERE id = ?",
                            (healed_at, reverts_in_window, trip_id))
        return changed

    def last_breaker_heal(self, wiki: str) -> float | None:
        """When a breaker on ``wiki`` last closed by itself (reverts before it no longer count
        towards tripping it again)."""
        row = self._db.execute("SELECT max(healed_at) FROM breaker_trips WHERE wiki = ?", (wiki,)).fetchone()
        return float(row[0]) if row and row[0] is not None else None
