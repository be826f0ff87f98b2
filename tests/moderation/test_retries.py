"""The retry schedule of passing faults and the stream's unserved-wiki prefilter (issue 15)."""

from __future__ import annotations

import json

from automod.moderation.retries import DecisionRetries, seconds_left
from automod.stream import parse_event
from automod.stream.follower import other_wiki


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_edit_probes_while_the_others_wait_then_all_go_in_stream_order():
    clock = Clock()
    retries: DecisionRetries[str] = DecisionRetries(delays=(1.0, 2.0, 4.0), clock=clock)
    retries.failed("r1", 1, attempts=1, reason="HTTP 500")
    assert retries.holding()
    retries.wait_behind("r2", 2)  # arrived during the fault: not tried
    retries.wait_behind("r3", 3)
    assert retries.due() == []
    clock.now += 1.0
    due = retries.due()
    assert [d.item for d in due] == ["r1", "r2", "r3"] and not retries.holding()
    retries.failed("r1", 1, attempts=2, reason="HTTP 500")  # the probe fails again: longer wait
    assert retries.holding() and retries.seconds_to_next() == 2.0
    retries.wait_behind("r2", 2)
    retries.wait_behind("r3", 3)
    clock.now += 2.0
    assert [d.item for d in retries.due()] == ["r1", "r2", "r3"]
    assert retries.delay(3) == retries.delay(9) == 4.0  # the last wait repeats


def test_time_left_counts_from_the_edit_not_from_the_fault():
    change = parse_event(_event(wiki="enwiki", timestamp=1_000_000))
    assert seconds_left(change, 10, now=1_000_000 + 60) == 540
    assert seconds_left(change, 10, now=1_000_000 + 601) < 0


def _event(**fields) -> str:
    event = {"meta": {"id": "x", "dt": "2023-07-29T00:00:00Z", "domain": "en.wikipedia.org",
                      "stream": "mediawiki.recentchange"},
             "type": "edit", "namespace": 0, "title": "T", "user": "U", "bot": False,
             "timestamp": 1, "wiki": "enwiki", "server_name": "en.wikipedia.org",
             "revision": {"old": 1, "new": 2}, "length": {"old": 1, "new": 2}, "comment": "", "minor": False}
    event.update(fields)
    return json.dumps(event)


def test_only_events_plainly_of_another_wiki_are_dropped_unparsed():
    served = frozenset({b"enwiki"})
    assert other_wiki(_event(wiki="frwiki").encode(), served)
    assert not other_wiki(_event(wiki="enwiki").encode(), served)
    escaped = _event(wiki="enwiki").replace('"enwiki"', '"en\\u0077iki"').encode()  # enwiki, escaped
    assert not other_wiki(escaped, served)
    twice = _event(wiki="frwiki", log_params={"wiki": "enwiki"}).encode()
    assert not other_wiki(twice, served)
    assert not other_wiki(b"[1,2,3]", served)
