"""Report-page edits held for one coalesced pass per page (moderation/work_queue.py): when a
pass is due, and that it stands for every edit held — pure, with a hand-turned clock."""

from __future__ import annotations

from automod.moderation.work_queue import ReportPasses
from automod.records import EventMeta, RecentChange


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def change(rev: int, title: str = "User:Bot/False positives") -> RecentChange:
    return RecentChange(meta=EventMeta(id="x", dt="2024-01-01T00:00:00Z", domain="w.test", stream="recentchange"),
                        wiki="w", server_name="w.test", type="edit", namespace=2, title=title, user="Reporter",
                        bot=False, timestamp=0, comment="", minor=False, rc_id=rev, rev_id=rev, parent_id=rev - 1,
                        length_old=1, length_new=2)


def passes(clock: Clock) -> ReportPasses[int]:
    return ReportPasses(max_wait=15.0, quiet=2.0, max_held=4, clock=clock)


def test_a_pass_waits_for_a_pause_in_the_page_edits_and_then_stands_for_all_of_them() -> None:
    clock = Clock()
    held = passes(clock)
    assert held.due(candidate_waiting=False) is None and held.seconds_to_next() is None
    held.hold("P", change(1), 1)
    clock.now += 1.0
    held.hold("P", change(2), 2)
    assert held.due(candidate_waiting=False) is None, "edits still coming: wait for the pause"
    assert held.seconds_to_next() == 2.0
    clock.now += 2.0
    assert held.due(candidate_waiting=False) == "P"
    assert [h.item for h in held.take("P")] == [1, 2] and len(held) == 0


def test_candidates_go_first_until_the_oldest_report_edit_has_waited_too_long() -> None:
    clock = Clock()
    held = passes(clock)
    held.hold("P", change(1), 1)
    clock.now += 5.0
    assert held.due(candidate_waiting=True) is None, "a candidate is waiting: it goes first"
    assert held.due(candidate_waiting=False) == "P"
    clock.now += 10.0
    assert held.due(candidate_waiting=True) == "P", "never starved: due after max_wait even behind candidates"


def test_a_pass_is_due_before_its_edits_leave_the_history_a_pass_reads() -> None:
    clock = Clock()
    held = passes(clock)
    for rev in range(1, 4):
        held.hold("P", change(rev), rev)
    assert held.due(candidate_waiting=True) is None
    held.hold("P", change(4), 4)
    assert held.due(candidate_waiting=True) == "P", "max_held edits held: due whatever waits"


def test_pages_are_coalesced_apart_oldest_first() -> None:
    clock = Clock()
    held = passes(clock)
    held.hold("A", change(1, "A"), 1)
    clock.now += 1.0
    held.hold("B", change(2, "B"), 2)
    clock.now += 5.0
    assert held.due(candidate_waiting=False) == "A"
    held.take("A")
    assert held.due(candidate_waiting=False) == "B" and held.pages() == ["B"]
