"""Decision latency on the sandbox wiki: stream event received → rollback confirmed.

Starts its own sandbox MediaWiki and a zero-latency Lift Wing stand-in (every revision
scores 0.995), lets `automod run` follow the sandbox stream, makes N bad edits on N pages
(one at a time, so the figure is latency, not queueing) and reads the `latency_ms` the bot
reports for each revert. Target: p50 <= 150 ms, p99 <= 500 ms. Then, in the same run and on the
same wiki, it times bare ``action=rollback`` calls by the bot's account (an edit made, rolled
back at once) and prints the ratio p50 edit -> rollback / p50 bare rollback (issue 27.3:
target <= 1.3x, the bot's own work on top of the one write it must make).

Run: python benchmarks/bench_decisions.py [--edits 200] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from _harness import bench_dirs, clients, start_sandbox, stop_sandbox  # noqa: E402
from support.liftwing_standin import running_standin  # noqa: E402
from support.moderation_helpers import (  # noqa: E402
    REVERTING,
    bot_settings,
    launch_bot,
    set_config,
)
from support.wiki import WikiClient  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--bare", type=int, default=60, help="bare action=rollback calls timed for the ratio")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root, work = bench_dirs(args.dir, "automod-bench-")
    sandbox = start_sandbox(root)
    try:
        admin, vandals = clients(sandbox)
        set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "max_reverts_per_hour": 500})
        pages = [f"Benchmark page {time.time_ns()} {i}" for i in range(args.edits)]
        for page in pages:
            admin.edit(page, "Stable text.")
        with running_standin(default_score=0.995) as liftwing:
            settings = bot_settings(sandbox, work, liftwing.url)
            bot = launch_bot(sandbox, work, settings)
            started = time.monotonic()
            for i, page in enumerate(pages):
                rev = vandals[i % 2].edit(page, f"Stable text. VANDALISM {i}")
                bot.decision(rev, timeout=30)
            elapsed = time.monotonic() - started
            bot.stop()
        # The physical limit: a bare action=rollback by the bot's account on the same wiki, now.
        roller = WikiClient(sandbox, sandbox.bot)
        token = roller.token("rollback")
        bare_pages = [f"Bare rollback {time.time_ns()} {i}" for i in range(args.bare)]
        for page in bare_pages:
            admin.edit(page, "Stable text.")
        bare = []
        for i, page in enumerate(bare_pages):
            vandal = vandals[i % 2]
            vandal.edit(page, f"Stable text. VANDALISM {i}")
            t0 = time.monotonic()
            roller.post(action="rollback", title=page, user=vandal.name, summary="bare rollback", token=token)
            bare.append((time.monotonic() - t0) * 1000)
        lines = [line for line in bot.lines if line["decision"] == "reverted"]
        latencies = [float(line["latency_ms"]) for line in lines]
        others = {line["decision"] for line in bot.lines} - {"reverted"}
        print(f"{len(latencies)} reverts of {args.edits} bad edits in {elapsed:.1f} s"
              f" (other outcomes: {sorted(others) or 'none'})")
        print(f"decision latency, event received -> rollback confirmed (ms): "
              f"p50 {percentile(latencies, 0.5):.1f}  p90 {percentile(latencies, 0.9):.1f}  "
              f"p99 {percentile(latencies, 0.99):.1f}  max {max(latencies):.1f}  mean {statistics.mean(latencies):.1f}")
        print(f"targets: p50 <= 150 ms {'OK' if percentile(latencies, 0.5) <= 150 else 'MISSED'}, "
              f"p99 <= 500 ms {'OK' if percentile(latencies, 0.99) <= 500 else 'MISSED'}")
        ratio = percentile(latencies, 0.5) / percentile(bare, 0.5)
        print(f"bare action=rollback on the same wiki, same run ({len(bare)} calls, ms): "
              f"p50 {percentile(bare, 0.5):.1f}  p90 {percentile(bare, 0.9):.1f}")
        print(f"p50 edit -> rollback / bare rollback: {ratio:.2f}x (target <= 1.3x) "
              f"{'OK' if ratio <= 1.3 else 'MISSED'}")
        (work / "latencies.json").write_text(json.dumps({"decisions": latencies, "bare_rollback": bare}))
    finally:
        stop_sandbox(root)


if __name__ == "__main__":
    main()
