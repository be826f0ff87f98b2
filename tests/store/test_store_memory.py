"""The store's memory stays bounded however many decisions it records (issue 29)."""

from __future__ import annotations

from pathlib import Path

from automod.records import Outcome, Verdict
from automod.store import DecidedEdit, Store


def _heap_kib() -> int:
    """This process's anonymous resident memory (its heaps), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


def _record(store: Store, revs: range) -> None:
    for rev in revs:
        with store.atomic():
            store.record_score("sandboxwiki", rev, "revertrisk-language-agnostic", "3", 0.05)
            store.record_decision(
                DecidedEdit(wiki="sandboxwiki", rev_id=rev, parent_id=rev - 1, title=f"Soak page {rev % 300}",
                            user=f"203.0.113.{rev % 200}", event_dt="2026-01-01T00:00:00Z"),
                Verdict(Outcome.BELOW_THRESHOLD, probability=0.05, model="revertrisk-language-agnostic"))
        assert store.has_decision("sandboxwiki", rev)


def test_recording_thousands_of_decisions_does_not_grow_the_heap(tmp_path):
    """SQLite's default page cache (2,000 KiB) grew with the file, ~0.4 MiB per 1,000 decisions
    here, until the file passed 2 MB; the bounded cache is full after a few hundred."""
    with Store(tmp_path / "s.sqlite") as store:
        _record(store, range(1, 1001))  # warm-up: the cache reaches its bound
        before = _heap_kib()
        _record(store, range(1001, 5001))
        grown = _heap_kib() - before
    assert grown < 600, f"the heap grew {grown} KiB over 4,000 decisions"
