"""Following a real SSE connection (the sandbox relay): order, resume, drops, stalls."""

from __future__ import annotations

import json
import socket
import threading
import time

from automod.stream import RetryPolicy, StreamFollower
from support.relay_helpers import rc_packet, running_relay, wait_for

UA = "automod-tests/0.1 (automod test suite)"
FAST = RetryPolicy(initial=0.05, cap=0.2)


def take(follower: StreamFollower, n: int, timeout: float = 10.0) -> list:
    """The first n (event_id, change) pairs, or fail if they do not come in time."""
    out: list = []
    timer = threading.Timer(timeout, follower.close)
    timer.start()
    try:
        for item in follower:
            out.append(item)
            if len(out) == n:
                break
    finally:
        timer.cancel()
    assert len(out) == n, f"got {len(out)} of {n} events before timeout"
    return out


def test_follower_yields_events_in_order_with_their_ids(tmp_path):
    with running_relay(tmp_path) as relay:
        relay.add(*(rc_packet(r) for r in range(2, 12)))
        follower = StreamFollower(relay.url, user_agent=UA, since="0")
        items = take(follower, 10)
        follower.close()
    assert [c.rev_id for _, c in items] == list(range(2, 12))
    assert [json.loads(eid)[0]["offset"] for eid, _ in items] == list(range(10))
    assert items[0][1].meta.domain == "127.0.0.1" and items[0][1].meta.stream == "mediawiki.recentchange"


def test_udp_rcfeed_datagrams_become_stream_events(tmp_path):
    with running_relay(tmp_path) as relay:
        udp_port = relay.relay.udp.getsockname()[1]
        follower = StreamFollower(relay.url, user_agent=UA)
        got: list = []
        thread = threading.Thread(target=lambda: got.extend(take(follower, 1)))
        thread.start()
        wait_for(lambda: follower.stats.connections)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(json.dumps(rc_packet(42, title="Über")).encode(), ("127.0.0.1", udp_port))
        thread.join(10)
        follower.close()
    assert got and got[0][1].rev_id == 42 and got[0][1].title == "Über"


def test_relay_counts_every_new_connection_though_a_gone_client_is_noticed_late(tmp_path):
    """The sandbox tests tell "the bot follows the stream" from the relay's count of streams
    opened: a client that went away stays in the open count until the relay next writes to
    it, so a new client can leave the open count level."""
    with running_relay(tmp_path) as relay:
        first = StreamFollower(relay.url, user_agent=UA)
        thread = threading.Thread(target=lambda: [None for _ in first], daemon=True)
        thread.start()
        wait_for(lambda: relay.connections() == 1)
        first.close()
        thread.join(10)
        second = StreamFollower(relay.url, user_agent=UA)
        got: list = []
        reader = threading.Thread(target=lambda: got.extend(take(second, 1)), daemon=True)
        reader.start()
        wait_for(lambda: relay.connections() == 2)
        relay.add(rc_packet(7))
        reader.join(10)
        second.close()
        assert [c.rev_id for _, c in got] == [7]
        assert relay.connections() == 2  # never counts down, whatever the open count does


def test_canaries_are_dropped(tmp_path):
    with running_relay(tmp_path) as relay:
        relay.add(rc_packet(2))
        relay.control(canary=True)
        relay.control(canary=True)
        relay.add(rc_packet(3))
        follower = StreamFollower(relay.url, user_agent=UA, since="0")
        items = take(follower, 2)
        follower.close()
    assert [c.rev_id for _, c in items] == [2, 3]
    assert follower.stats.canaries == 2


def test_malformed_event_is_kept_and_skipped_and_the_follower_goes_on(tmp_path):
    seen = []
    with running_relay(tmp_path) as relay:
        relay.add(rc_packet(2))
        relay.control(inject="{this is not json")
        relay.control(inject=json.dumps({"meta": {"domain": "x"}, "type": "edit"}))
        relay.add(rc_packet(3))
        follower = StreamFollower(relay.url, user_agent=UA, since="0",
                                  on_malformed=lambda eid, raw, err: seen.append((eid, raw, str(err))))
        items = take(follower, 2)
        follower.close()
    assert [c.rev_id for _, c in items] == [2, 3]
    assert [raw for _, raw, _ in seen] == ["{this is not json", '{"meta": {"domain": "x"}, "type": "edit"}']
    assert "not JSON" in seen[0][2] and "missing field" in seen[1][2]
    assert all(eid for eid, _, _ in seen)  # their ids are kept, so they can be found again


def test_dropped_connections_lose_and_repeat_nothing(tmp_path):
    with running_relay(tmp_path, drop_every=7) as relay:
        relay.add(*(rc_packet(r) for r in range(2, 62)))
        follower = StreamFollower(relay.url, user_agent=UA, since="0", retry=FAST)
        items = take(follower, 60)
        follower.close()
    assert [c.rev_id for _, c in items] == list(range(2, 62))
    assert follower.stats.connections >= 9  # 60 events, cut every 7


def test_restart_resumes_after_the_last_handled_event(tmp_path):
    with running_relay(tmp_path) as relay:
        relay.add(*(rc_packet(r) for r in range(2, 7)))
        first = StreamFollower(relay.url, user_agent=UA, since="0")
        handled = take(first, 3)
        first.close()
        relay.add(rc_packet(7))
        second = StreamFollower(relay.url, user_agent=UA, last_event_id=handled[-1][0])
        rest = take(second, 3)
        second.close()
    assert [c.rev_id for _, c in handled + rest] == [2, 3, 4, 5, 6, 7]


def test_relay_history_survives_a_relay_restart(tmp_path):
    with running_relay(tmp_path) as relay:
        relay.add(*(rc_packet(r) for r in range(2, 5)))
        follower = StreamFollower(relay.url, user_agent=UA, since="0")
        last_id = take(follower, 1)[0][0]
        follower.close()
    with running_relay(tmp_path) as relay:  # same history file, new process state
        follower = StreamFollower(relay.url, user_agent=UA, last_event_id=last_id)
        assert [c.rev_id for _, c in take(follower, 2)] == [3, 4]
        follower.close()


def test_since_accepts_iso_dates_and_timestamp_ids(tmp_path):
    with running_relay(tmp_path) as relay:
        relay.add(rc_packet(2))
        follower = StreamFollower(relay.url, user_agent=UA, since="2000-01-01T00:00:00Z")
        assert take(follower, 1)[0][1].rev_id == 2
        follower.close()
        ts_id = json.dumps([{"topic": "sandbox.mediawiki.recentchange", "partition": 0, "timestamp": 0}])
        follower = StreamFollower(relay.url, user_agent=UA, last_event_id=ts_id)
        assert take(follower, 1)[0][1].rev_id == 2
        follower.close()


class SilentServer:
    """Answers like an SSE server, sends ':ok', then goes silent; records request headers."""

    def __init__(self, silent_connections: int):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self.silent_connections = silent_connections
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.requests.append(conn.recv(65536).decode())
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            body = b":ok\n\n"
            if len(self.requests) > self.silent_connections:
                data = json.dumps(_event(9)).encode()
                body += b'id: [{"offset":5}]\ndata: ' + data + b"\n\n"
            conn.sendall(head + b"%x\r\n%s\r\n" % (len(body), body))

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def _event(rev: int) -> dict:
    from automod.sandbox.relay import eventstreams_event
    return eventstreams_event(rc_packet(rev), server_name="127.0.0.1")


def test_stall_watchdog_reconnects_when_nothing_arrives():
    server = SilentServer(silent_connections=1)
    try:
        follower = StreamFollower(f"http://127.0.0.1:{server.port}/", user_agent=UA,
                                  stall_seconds=0.5, retry=FAST)
        started = time.monotonic()
        items = take(follower, 1)
        follower.close()
    finally:
        server.close()
    assert items[0][1].rev_id == 9
    assert follower.stats.stalls == 1 and len(server.requests) == 2
    assert time.monotonic() - started < 5
    assert f"User-Agent: {UA}" in server.requests[0]


def test_reconnect_sends_last_event_id_of_what_was_read():
    server = SilentServer(silent_connections=0)
    try:
        follower = StreamFollower(f"http://127.0.0.1:{server.port}/", user_agent=UA,
                                  stall_seconds=0.3, retry=FAST)
        take(follower, 1)
        # keep following: the server goes silent, the watchdog reconnects
        thread = threading.Thread(target=lambda: list(follower), daemon=True)
        thread.start()
        wait_for(lambda: len(server.requests) >= 2)
        follower.close()
        thread.join(5)
    finally:
        server.close()
    assert "Last-Event-ID" not in server.requests[0]
    assert 'Last-Event-ID: [{"offset":5}]' in server.requests[1]


def test_unreachable_stream_is_retried_with_backoff_until_it_comes_up(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    follower = StreamFollower(f"http://127.0.0.1:{port}/v2/stream/recentchange", user_agent=UA,
                              since="0", retry=RetryPolicy(initial=0.1, cap=0.4))
    got: list = []
    thread = threading.Thread(target=lambda: got.extend(take(follower, 1, timeout=15)))
    thread.start()
    time.sleep(0.5)  # let a few connection attempts fail
    assert not got
    with running_relay(tmp_path, http_port=port) as relay:
        relay.add(rc_packet(2))
        thread.join(15)
        follower.close()
    assert got and got[0][1].rev_id == 2
    assert follower.stats.reconnects >= 2


def test_close_from_another_thread_ends_a_blocked_read_promptly(tmp_path):
    with running_relay(tmp_path) as relay:
        follower = StreamFollower(relay.url, user_agent=UA, stall_seconds=60)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (list(follower), done.set()), daemon=True)
        thread.start()
        wait_for(lambda: follower.stats.connections)
        started = time.monotonic()
        follower.close()
        assert done.wait(5)
        assert time.monotonic() - started < 2


def test_retry_policy_grows_exponentially_and_is_capped():
    policy = RetryPolicy(initial=1, factor=2, cap=10, jitter=0)
    assert [policy.delay(n) for n in range(0, 7)] == [0, 1, 2, 4, 8, 10, 10]
    jittered = RetryPolicy(initial=1, factor=2, cap=10, jitter=0.2)
    assert all(3.2 <= jittered.delay(3) <= 4.8 for _ in range(50))
