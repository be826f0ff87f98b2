"""Events the moment they arrive, whatever the framing (issue 27 item 5).

An SSE response may be chunked, length-framed or close-delimited (HTTP/1.0 style: no
length, no chunking, the body ends when the connection closes). The follower must hand
on each event as soon as its blank line arrives in all three, not when the connection
closes or the declared length is complete: on a quiet stream the last events would
otherwise wait for the next reconnect (and be lost at exit).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from automod.moderation.candidates import rejection_reason
from automod.stream import RetryPolicy, StreamFollower
from support.poison_events import poison_catalogue
from support.relay_helpers import wait_for
from support.sse_server import HOLD, SILENT, FramedSSEServer, offset_id, offset_of, sse_event

UA = "automod-tests/0.1 (automod test suite)"
FAST = RetryPolicy(initial=0.05, cap=0.2)
DATA = Path(__file__).resolve().parents[1] / "data"
RECORDED = DATA / "fixtures/eventstreams/recentchange_enwiki_2023-07-29.ndjson"
EXPECTED = DATA / "enwiki_2023-07-29_candidates.txt"


def recorded_lines() -> list[str]:
    return RECORDED.read_text(encoding="utf-8").splitlines()


def take_timed(follower: StreamFollower, n: int, timeout: float) -> list[tuple[float, str, object]]:
    """The first n (arrival time, event_id, change), or fail if they do not come in time."""
    out: list[tuple[float, str, object]] = []
    timer = threading.Timer(timeout, follower.close)
    timer.start()
    try:
        for event_id, change in follower:
            out.append((time.monotonic(), event_id, change))
            if len(out) == n:
                break
    finally:
        timer.cancel()
    assert len(out) == n, f"got {len(out)} of {n} events before timeout"
    return out


FRAMINGS = [("close", False), ("length", False), ("chunked", False), ("close", True), ("chunked", True)]


@pytest.mark.parametrize(("framing", "gzip"), FRAMINGS, ids=[f + ("-gzip" if g else "") for f, g in FRAMINGS])
def test_one_event_then_only_keepalives_comes_through_within_a_second(framing, gzip):
    first = recorded_lines()[0]

    def script(number, last_event_id):
        yield b":ok\n\n"
        yield sse_event(offset_id(0), first.encode())
        yield HOLD  # nothing more but keep-alive comments, the connection held open

    with FramedSSEServer(framing, script, gzip=gzip) as server:
        follower = StreamFollower(server.url, user_agent=UA, stall_seconds=30, retry=FAST)
        items = take_timed(follower, 1, timeout=5)
        open_then = server.open_connections()
        follower.close()
    arrived, event_id, change = items[0]
    sent = server.connections[0].sent[-1][0]
    assert arrived - sent < 1.0
    assert change.rev_id == 1167689309 and event_id == offset_id(0)
    assert open_then == 1 and len(server.connections) == 1  # no reconnect brought it


def test_replay_with_poison_over_a_close_delimited_stream_yields_each_candidate_once_at_once():
    """The recorded Wikimedia events with the poison catalogue (and SSE oddities: CRLF lines,
    comments, an event's JSON over two ``data:`` lines, a canary) interleaved, served
    close-delimited with three connection ends; the last events come on a connection that
    then stays open with keep-alives only, as a quiet stream does."""
    lines = recorded_lines()
    template = json.loads(lines[0])
    poison = poison_catalogue(template)
    canary = json.dumps({**template, "meta": {**template["meta"], "domain": "canary"}}).encode()
    payloads: list[bytes] = []
    for i, line in enumerate(lines):
        payloads.append(line.encode() if i != 10 else b"{\ndata: " + line.encode()[1:])  # two data: lines
        if i % 3 == 1 and poison:
            payloads.append(poison.pop(0))
        if i == 50:
            payloads.append(canary)
    assert not poison  # every poison event is served, all before the last recorded ones
    last = len(payloads) - 1
    cuts = {20, 61, last - 3}  # the body ends (connection closed) after these offsets
    sent_at: dict[int, float] = {}

    def script(number, last_event_id):
        start = 0 if last_event_id is None else offset_of(last_event_id) + 1
        for i in range(start, len(payloads)):
            if i % 7 == 0:
                yield b": comment\r\n\r\n"
            sent_at[i] = time.monotonic()
            yield sse_event(offset_id(i), payloads[i], newline=b"\r\n" if i % 5 == 0 else b"\n")
            if i in cuts:
                return
        yield HOLD

    malformed: list[str | None] = []
    with FramedSSEServer("close", script) as server:
        follower = StreamFollower(server.url, user_agent=UA, stall_seconds=30, retry=FAST,
                                  on_malformed=lambda eid, raw, err: malformed.append(eid))
        items = take_timed(follower, len(lines), timeout=20)
        open_then = server.open_connections()
        follower.close()

    expected = [int(x) for x in EXPECTED.read_text().split()]
    candidates = [c.rev_id for _, _, c in items if rejection_reason(c, {"enwiki"}) is None]
    assert candidates == expected  # exactly these, each once, in stream order
    assert [c.rev_id for _, _, c in items] == [json.loads(x)["revision"]["new"] for x in lines]
    assert len(malformed) == len(poison_catalogue(template)) and all(malformed)
    assert follower.stats.canaries == 1
    # None waited for a connection to close: the last came on the connection still open.
    assert open_then == 1 and len(server.connections) == len(cuts) + 1
    waits = [arrived - sent_at[offset_of(eid)] for arrived, eid, _ in items]
    assert max(waits) < 1.0, max(waits)


def test_stall_watchdog_and_close_still_work_on_a_close_delimited_stream():
    """Partial reads keep the socket timeout as the stall watchdog, and ``close()`` from
    another thread still ends a read blocked on a connection that never ends by itself."""
    first = recorded_lines()[0]

    def script(number, last_event_id):
        yield b":ok\n\n"
        if number == 0:
            yield SILENT  # the first connection stalls: not one byte more
        yield sse_event(offset_id(0), first.encode())
        yield HOLD

    with FramedSSEServer("close", script) as server:
        follower = StreamFollower(server.url, user_agent=UA, stall_seconds=0.5, retry=FAST)
        items: list = []
        done = threading.Event()
        thread = threading.Thread(target=lambda: (items.extend(follower), done.set()), daemon=True)
        thread.start()
        wait_for(lambda: follower.stats.events == 1)
        # Now blocked reading keep-alives on a connection that never ends by itself.
        wait_for(lambda: len(server.connections[-1].sent) == 2)
        connections = len(server.connections)
        started = time.monotonic()
        follower.close()
        assert done.wait(5) and time.monotonic() - started < 2
    assert follower.stats.stalls == 1 and connections == 2 and len(server.connections) == 2
    assert [c.rev_id for _, c in items] == [1167689309]
