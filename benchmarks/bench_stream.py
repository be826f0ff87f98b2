"""How many recent-change events per second automod parses and filters on one core.

Figures, from the recorded Wikimedia events replayed in a loop:
  * from memory: JSON text -> RecentChange -> intake filters (target >= 50,000/s);
  * through SSE: the sandbox relay serving them over a local HTTP connection, the
    StreamFollower reading, parsing and filtering (target >= 10,000/s);
  * the same SSE stream read by the simplest peer, a bare ``sseclient-py`` loop with
    ``json.loads`` and the same filter, side by side: automod must match or beat it
    (issue 15). automod drops events that plainly name an unserved wiki before the full
    parse (``follower.other_wiki``); the ones it keeps are validated in full;
  * the path ``automod run`` uses: the same follower without that opt-in early filter
    (``wikis`` not given), so every event is parsed and validated in full; it too must
    match or beat the bare loop (issue 27). ``automod run`` leaves the filter off: its
    stream position, health lag and malformed-event record come from every event read.
Wikimedia's recentchange stream carries roughly 30-100 events/s for all wikis together, so
these targets leave room to follow everything and to replay a week of history quickly.

Run: python benchmarks/bench_stream.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from automod.moderation.candidates import rejection_reason
from automod.sandbox.relay import Relay
from automod.stream import StreamFollower, parse_event

FIXTURE = Path(__file__).resolve().parents[1] / "tests/data/fixtures/eventstreams/recentchange_enwiki_2023-07-29.ndjson"


def from_memory(lines: list[str], n: int) -> float:
    served = {"enwiki"}
    start = time.perf_counter()
    kept = 0
    for i in range(n):
        if rejection_reason(parse_event(lines[i % len(lines)]), served) is None:
            kept += 1
    elapsed = time.perf_counter() - start
    if n % len(lines) == 0:
        assert kept == n // len(lines) * 85, kept  # 85 of the 100 recorded events are candidates
    return n / elapsed


SERVED = {"enwiki"}


def _bare_filter(d: dict) -> bool:
    """The intake filter, written the simplest way (a served wiki's namespace-0 human edit)."""
    return d.get("wiki") in SERVED and d.get("type") == "edit" and d.get("namespace") == 0 and not d.get("bot")


def through_sse(lines: list[str], n: int, bare: bool = False, early_filter: bool = True) -> tuple[float, float]:
    """(events per wall-clock second, events per CPU second of the reading thread). The CPU
    figure leaves out the relay's thread and other processes, so it is the steadier one on
    a shared machine."""
    served = SERVED
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history.ndjson"
        with history.open("w") as f:
            for i in range(n):
                f.write('{"event":' + lines[i % len(lines)] + "}\n")
            f.write('{"event":' + next(x for x in lines if '"wiki":"enwiki"' in x.replace(" ", "")) + "}\n")
        relay = Relay(history, udp_port=0, http_host="127.0.0.1", http_port=0, canary_interval=0)
        threading.Thread(target=relay.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{relay.http_port}/v2/stream/recentchange"
        if bare:
            elapsed, cpu = _bare_loop(url, n)
            relay.stop()
            return n / elapsed, n / cpu
        follower = StreamFollower(url, user_agent="automod-bench/0.1 (benchmark)", since="0",
                                  wikis=served if early_filter else None)
        start, cpu = time.perf_counter(), time.thread_time()
        kept = 0
        for _, change in follower:
            if rejection_reason(change, served) is None:
                kept += 1
            if follower.last_event_id and follower.last_event_id.endswith(f'"offset":{n}}}]'):
                break
        elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
        follower.close()
        relay.stop()
    return n / elapsed, n / cpu


def _bare_loop(url: str, n: int) -> tuple[float, float]:
    import requests
    import sseclient

    response = requests.get(url, params={"since": "0"}, stream=True, headers={"Accept": "text/event-stream"})
    start, cpu = time.perf_counter(), time.thread_time()
    seen = kept = 0
    for event in sseclient.SSEClient(response).events():
        if event.event != "message":
            continue
        seen += 1
        if _bare_filter(json.loads(event.data)):
            kept += 1
        if seen == n:
            break
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
    response.close()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    json.loads(lines[0])
    mem = max(from_memory(lines, args.events) for _ in range(3))
    # Rounds interleave the three readers, so a load change on a shared machine hits all alike.
    runs: dict[str, list[tuple[float, float]]] = {"sse": [], "run": [], "bare": []}
    for _ in range(args.rounds):
        runs["sse"].append(through_sse(lines, args.events))
        runs["run"].append(through_sse(lines, args.events, early_filter=False))
        runs["bare"].append(through_sse(lines, args.events, bare=True))
    (sse, sse_cpu), (run, run_cpu), (bare, bare_cpu) = (
        (max(w for w, _ in runs[k]), max(c for _, c in runs[k])) for k in ("sse", "run", "bare"))
    print(f"python {sys.version.split()[0]}, {args.events} events per run, one core, best of {args.rounds} "
          "interleaved rounds; wall-clock events/s [events per CPU second of the reading thread]")
    print(f"from memory : {mem:>10,.0f} events/s  (target  50,000)  {'OK' if mem >= 50_000 else 'BELOW'}")
    print(f"through SSE : {sse:>10,.0f} events/s [{sse_cpu:>8,.0f}]  (target  10,000)  "
          f"{'OK' if sse >= 10_000 else 'BELOW'}")
    print(f"bare sseclient-py loop: {bare:>10,.0f} events/s [{bare_cpu:>8,.0f}]; automod / bare = {sse / bare:.2f} "
          f"[{sse_cpu / bare_cpu:.2f}] (target >= 1.00)  {'OK' if sse >= bare else 'BELOW'}")
    print(f"as `automod run` reads (no early filter): {run:>10,.0f} events/s [{run_cpu:>8,.0f}]; automod run / bare = "
          f"{run / bare:.2f} [{run_cpu / bare_cpu:.2f}] (target >= 1.00)  {'OK' if run >= bare else 'BELOW'}")


if __name__ == "__main__":
    main()
