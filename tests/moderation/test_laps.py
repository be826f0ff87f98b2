"""The laps the bot logs with each rollback (moderation/laps.py): where an event's time went,
read back by ``benchmarks/bench_decisions.py --breakdown``."""

from __future__ import annotations

import time

from hypothesis import example, given
from hypothesis import strategies as st

from automod.moderation.laps import Laps, parse_laps, parse_start


def test_each_step_is_timed_from_the_event_arrival_and_read_back() -> None:
    received = time.monotonic() - 0.05  # the event waited 50 ms in the queue
    laps = Laps(received)
    laps.lap("queue")
    laps.lap("context-read")
    laps.lap("rollback")
    laps.lap("context-read")  # a step met twice (a shielded run decides two edits) is summed
    end = time.monotonic()
    line = f"sandboxwiki: rollback of r12 on 'Page' by Vandal: done  (31 ms) {laps.render()}"
    found = parse_laps(line)
    assert list(found) == ["queue", "context-read", "rollback"]
    assert found["queue"] >= 50.0
    assert 50.0 <= sum(found.values()) <= (end - received) * 1000 + 0.05
    assert abs((parse_start(line) or 0.0) - received) < 1e-4


def test_a_line_without_laps_has_none() -> None:
    assert parse_laps("sandboxwiki: rollback of r12 on 'Page' by X: done  (31 ms) ") == {}
    assert parse_start("anything") is None


@example(prefix="laps[ms] from 1.0: queue=999 rollback=0", steps=["queue"])
@given(prefix=st.text(), steps=st.lists(st.sampled_from(["queue", "context-read", "rollback", "x"]), max_size=6))
def test_a_hostile_title_or_user_before_the_laps_cannot_change_them(prefix: str, steps: list[str]) -> None:
    laps = Laps(100.0)
    for step in steps:
        laps.lap(step)
    rendered = laps.render()
    line = f"rollback of r1 on {prefix!r} by {prefix}: done (1 ms) {rendered}"
    assert parse_laps(line) == parse_laps(rendered)
    assert parse_start(line) == 100.0
