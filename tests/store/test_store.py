"""The SQLite store: migrations apply once, atomically; positions and decisions persist."""

from __future__ import annotations

import dataclasses
import sqlite3
import time

import pytest

from automod.errors import MigrationError
from automod.records import Outcome, ReportStatus, Verdict
from automod.store import MIGRATIONS, DecidedEdit, Decision, Store
from support.store_evidence import sqlite_of


def test_reopening_store_applies_each_migration_once(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        assert store.applied_migrations() == {n for n, _, _ in MIGRATIONS}
    with Store(path) as store:
        assert store.migrate(MIGRATIONS) == []
        assert sqlite_of(store).execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def test_store_uses_wal_so_readers_never_block_the_bot(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        assert sqlite_of(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_migration_leaves_schema_unchanged(tmp_path):
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("THIS IS NOT SQL")

    path = tmp_path / "s.sqlite"
    with pytest.raises(MigrationError, match="migration 99"):
        Store(path, migrations=MIGRATIONS + ((99, "broken", broken),))
    with Store(path) as store:
        tables = {r[0] for r in sqlite_of(store).execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half_done" not in tables
        assert 99 not in store.applied_migrations()
        assert "decisions" in tables  # the good migrations before it stayed


def test_stream_position_survives_reopening(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        assert store.position("http://x/stream") is None
        store.save_position("http://x/stream", '[{"offset":1}]', "2026-01-01T00:00:00Z")
        store.save_position("http://x/stream", '[{"offset":2}]', "2026-01-01T00:00:01Z")
    with Store(path) as store:
        pos = store.position("http://x/stream")
        assert pos is not None and pos.event_id == '[{"offset":2}]'
        assert pos.event_dt == "2026-01-01T00:00:01Z"
        assert store.position("http://other/stream") is None


def test_a_revision_gets_one_decision_even_if_delivered_twice(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        edit = DecidedEdit(wiki="w", rev_id=5, parent_id=4, title="T", user="1.2.3.4",
                           event_dt="2026-01-01T00:00:00Z")
        assert store.record_decision(edit, Verdict(Outcome.SKIP)) is True
        assert store.record_decision(edit, Verdict(Outcome.REVERT)) is False
        assert store.has_decision("w", 5) and not store.has_decision("w", 6)
        assert store.decision_count("skip") == 1 and store.decision_count("revert") == 0


def test_failed_block_rolls_back_position_and_decision_together(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(RuntimeError):
            with store.atomic():
                store.record_decision(DecidedEdit(wiki="w", rev_id=1, parent_id=None, title="T", user="U",
                                                  event_dt="x"), Verdict(Outcome.SKIP))
                store.save_position("s", "id-1", None)
                raise RuntimeError("crash before commit")
        assert store.position("s") is None and not store.has_decision("w", 1)


def test_malformed_events_are_kept_whole(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.record_malformed("s", "id-9", "{not json", "not JSON: Expecting property name")
        row = sqlite_of(store).execute("SELECT event_id, raw, error FROM malformed_events").fetchone()
        assert tuple(row) == ("id-9", "{not json", "not JSON: Expecting property name")


def test_queries_return_frozen_records_not_rows(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        edit = DecidedEdit(wiki="w", rev_id=7, parent_id=6, title="T", user="U", event_dt="2026-01-01T00:00:00Z")
        store.record_decision(edit, Verdict(Outcome.REVERTED, "above-threshold", model="m", probability=0.99))
        store.record_action("w", 7, "rollback", "done", 8)
        store.upsert_report(wiki="w", rev_id=7, kind="explicit", page="P", status=ReportStatus.OPEN)
        decision = store.decision("w", 7)
        assert isinstance(decision, Decision) and (decision.user, decision.outcome) == ("U", "reverted")
        assert store.revert_of("w", 8) == decision and store.revert_of("w", 9) is None
        assert [a.result_rev_id for a in store.actions_for("w", 7)] == [8]
        (report,) = store.reports("w", "confirmed") or store.reports("w")
        assert (report.status, report.logged, report.title, report.probability) == ("open", False, "T", 0.99)
        store.set_report("w", 7, "explicit", status=ReportStatus.REINSTATED, logged=True)
        assert [r.rev_id for r in store.reports("w", "confirmed")] == [7]
        assert store.reviewable_reports("P") == [] and store.report_status("w", 7, "explicit") == "reinstated"
        with pytest.raises(dataclasses.FrozenInstanceError):
            decision.outcome = "skip"  # type: ignore[misc]


def test_the_revisions_a_revert_took_are_kept_and_counted_by_day(tmp_path):
    """Issue 29: a rollback that took the editor's earlier edits says which (migration 8)."""
    import time

    with Store(tmp_path / "s.sqlite") as store:
        now = time.time()
        store.record_reverted_revisions("enwiki", 12, 20, "rollback", (10, 11, 12))
        store.record_reverted_revisions("enwiki", 30, 31, "undo", (30,))
        store.record_reverted_revisions("enwiki", 40, 41, "rollback", ())  # the wiki could not say: the one scored
        assert store.reverted_with("enwiki", 12) == (10, 11, 12)
        assert store.reverted_with("enwiki", 40) == (40,)
        assert store.multi_revision_reverts("enwiki", now - 60, now + 60) == {12: (10, 11, 12)}
        assert store.multi_revision_reverts("enwiki", now + 60, now + 120) == {}
        assert store.multi_revision_reverts("dewiki", now - 60, now + 60) == {}


def test_earlier_edits_a_rollback_took_read_reverted_with_and_keep_their_evidence(tmp_path):
    """Issue 29: the editor's earlier edits a rollback took had been left alone; their rows say
    what took them (the reason keeps what they were), a revert in flight is not touched."""
    with Store(tmp_path / "s.sqlite") as store:
        verdicts = {10: Verdict(Outcome.BELOW_THRESHOLD, "below-threshold", probability=0.2, threshold=0.9),
                    11: Verdict(Outcome.SKIP, "not-top-editor"),
                    12: Verdict(Outcome.ROLLBACK_PENDING, "ratelimited"),
                    13: Verdict(Outcome.REVERTED, "above-threshold", probability=0.99)}
        for rev_id, verdict in verdicts.items():
            store.record_decision(DecidedEdit("w", rev_id, rev_id - 1, "T", "U", "2026-01-01T00:00:00Z"), verdict)
        before = store.decision("w", 10)
        marked = store.mark_reverted_with("w", 13, (10, 11, 12, 13, 99))
        assert [(d.rev_id, d.outcome, d.reason) for d in marked] == [
            (10, "reverted-with", "with-r13; was below-threshold"),
            (11, "reverted-with", "with-r13; was skip: not-top-editor")]
        after = store.decision("w", 10)
        assert after == marked[0] and before is not None and after is not None
        assert (after.probability, after.threshold, after.decided_at) == (0.2, 0.9, before.decided_at)
        assert store.decision("w", 12).outcome == "rollback-pending"  # the queue settles it
        assert store.decision("w", 13).outcome == "reverted"
        assert store.decision_count("below-threshold") == 0 and store.decision_count("reverted-with") == 2
        assert store.mark_reverted_with("w", 13, (10, 11, 13)) == []  # once


def test_the_warning_levels_the_bot_gave_are_read_back_per_editor_within_the_window(tmp_path):
    """Issue 26.4: the bot's own record of the levels it gave, withheld ones included (a
    {{nobots}} on the talk page), per editor and window, survives reopening the store."""
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        for rev, user in ((1, "Vandal"), (2, "Vandal"), (3, "Other")):
            store.record_decision(DecidedEdit(wiki="w", rev_id=rev, parent_id=None, title="T", user=user,
                                              event_dt="x"), Verdict(Outcome.REVERTED))
        store.record_warning_level("w", 1, 1, withheld=True)
        store.record_warning_level("w", 2, 2, withheld=False, notice_rev_id=20)
        store.record_warning_level("w", 3, 4, withheld=False, notice_rev_id=30)
    with Store(path) as store:
        assert store.warning_level_given("w", "Vandal", 0) == 2
        assert store.warning_level_given("w", "Other", 0) == 4
        assert store.warning_level_given("w", "Newcomer", 0) == 0
        assert store.warning_level_given("other-wiki", "Vandal", 0) == 0
        assert store.warning_level_given("w", "Vandal", time.time() + 60) == 0, "older than the window"
