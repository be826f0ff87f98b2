"""Decision latency on the sandbox wiki: stream event received → rollback confirmed.

Starts its own sandbox MediaWiki and a zero-latency Lift Wing stand-in (every revision
scores 0.995), lets `automod run` follow the sandbox stream, makes N bad edits on N pages
(one at a time, so the figure is latency, not queueing) and reads the `latency_ms` the bot
reports for each revert. Target: p50 <= 150 ms, p99 <= 500 ms. Then, in the same run and on the
same wiki, it times bare ``action=rollback`` calls by the bot's account (an edit made, rolled
back at once) and prints the ratio p50 edit -> rollback / p50 bare rollback (issue 27.3:
target <= 1.3x, the bot's own work on top of the one write it must make). Alternately with
those, it times the floor of any bot that looks before it acts: the same context read the bot
makes, then the rollback, by a plain client; the bot's p50 is also printed against that floor.

With ``--breakdown`` it also prints where the bot's time goes: the p50/mean of each step's
client-side time (the ``laps[ms]:`` the bot logs with each rollback, moderation/laps.py) and,
from MediaWiki's API debug log (switched on for the whole run, bare calls included), the
wiki-side time (``T=``) of the bot's requests up to each rollback, by module.

Run: python benchmarks/bench_decisions.py [--edits 200] [--breakdown] [--dir DIR]
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
from automod.moderation.laps import parse_laps, parse_start  # noqa: E402
from support.api_log import ApiLog, ApiRequest, api_log_php  # noqa: E402
from support.liftwing_standin import running_standin  # noqa: E402
from support.moderation_helpers import (  # noqa: E402
    REVERTING,
    bot_settings,
    launch_bot,
    set_config,
)
from support.wiki import GENEROUS_LIMITS, WikiClient  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def context_read(rev: int, parent: int, bot: str, editor: str) -> dict[str, object]:
    """The bot's one read before a rollback (``WikiGateway.revision_context`` with texts and the
    exclusion templates, for a registered editor), as a plain API query."""
    return {"action": "query", "formatversion": 2, "revids": f"{rev}|{parent}",
            "prop": "revisions|info|templates", "rvprop": "ids|user|tags|timestamp|content", "rvslots": "main",
            "inprop": "protection", "list": "blocks|users", "bkusers": bot, "bkprop": "id|expiry|flags|restrictions",
            "ususers": editor, "usprop": "rights", "tltemplates": "Template:Bots|Template:Nobots", "tllimit": "max",
            "meta": "userinfo"}


def print_breakdown(bot_log: str, wiki_side: list[list[ApiRequest]], bare_wiki: list[int],
                    edit_done: dict[int, float]) -> None:
    """Each step's client-side time (from the laps the bot logs with each rollback) and the
    wiki-side time of its requests up to the rollback (from the API log); when each event
    arrived against the end of the vandal's edit request (the monotonic clock is the machine's)."""
    lines = [line for line in bot_log.splitlines() if "rollback of r" in line and parse_laps(line)]
    laps = [parse_laps(line) for line in lines]
    early = []
    for line in lines:
        rev, start = int(line.split("rollback of r", 1)[1].split()[0]), parse_start(line)
        if rev in edit_done and start is not None:
            early.append((edit_done[rev] - start) * 1000)
    if not laps:
        print("breakdown: no laps in the bot's log")
        return
    steps = list(dict.fromkeys(name for lap in laps for name in lap))
    totals = [sum(lap.values()) for lap in laps]
    print(f"breakdown of {len(laps)} reverts, client-side time per step (ms; the machine is shared and noisy):")
    for name in steps:
        values = [lap.get(name, 0.0) for lap in laps]
        print(f"  {name:<16} p50 {percentile(values, 0.5):7.2f}  p90 {percentile(values, 0.9):7.2f}  "
              f"mean {statistics.mean(values):7.2f}")
    if early:
        print(f"  the event reached the bot before the vandal's edit request had ended, by (ms; <0: after): "
              f"p50 {percentile(early, 0.5):.1f}  p90 {percentile(early, 0.9):.1f}")
    print(f"  {'(sum)':<16} p50 {percentile(totals, 0.5):7.2f}  p90 {percentile(totals, 0.9):7.2f}  "
          f"mean {statistics.mean(totals):7.2f}")
    by_module: dict[str, list[int]] = {}
    for requests in wiki_side:
        upto = []
        for request in requests:
            upto.append(request)
            if request.module == "rollback":
                break
        for request in upto:
            by_module.setdefault(request.module, []).append(request.ms)
        by_module.setdefault("(requests up to the rollback)", []).append(len(upto))
    print("wiki-side time of the bot's requests up to each rollback (API log T=, ms):")
    for module, values in by_module.items():
        unit = "" if module.startswith("(") else " ms"
        print(f"  {module:<60} n {len(values):4d}  p50 {percentile([float(v) for v in values], 0.5):6.1f}{unit}")
    if bare_wiki:
        print(f"  {'bare action=rollback':<60} n {len(bare_wiki):4d}  "
              f"p50 {percentile([float(v) for v in bare_wiki], 0.5):6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--bare", type=int, default=60, help="bare action=rollback calls timed for the ratio")
    parser.add_argument("--breakdown", action="store_true",
                        help="print each step's client-side time and the wiki-side time of the bot's requests")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root, work = bench_dirs(args.dir, "automod-bench-")
    api_log = ApiLog(root / "api.log")
    sandbox = start_sandbox(root, GENEROUS_LIMITS + (api_log_php(api_log.path) if args.breakdown else ""))
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
            wiki_side: list[list[ApiRequest]] = []
            edit_done: dict[int, float] = {}  # when each vandal edit's request ended (time.monotonic())
            for i, page in enumerate(pages):
                mark = api_log.mark()
                rev = vandals[i % 2].edit(page, f"Stable text. VANDALISM {i}")
                edit_done[rev] = time.monotonic()
                bot.decision(rev, timeout=30)
                wiki_side.append(api_log.since(mark, sandbox.bot.name))
            elapsed = time.monotonic() - started
            bot.stop()
        # The physical limit: a bare action=rollback by the bot's account on the same wiki, now.
        roller = WikiClient(sandbox, sandbox.bot)
        token = roller.token("rollback")
        bare_pages = [f"Bare rollback {time.time_ns()} {i}" for i in range(2 * args.bare)]
        parents = [admin.edit(page, "Stable text.") for page in bare_pages]
        bare, floor = [], []
        bare_wiki: list[int] = []
        for i, page in enumerate(bare_pages):  # alternately: the rollback alone, the read any bot makes first + it
            vandal = vandals[i % 2]
            rev = vandal.edit(page, f"Stable text. VANDALISM {i}")
            mark = api_log.mark()
            t0 = time.monotonic()
            if i % 2:
                roller.get(**context_read(rev, parents[i], sandbox.bot.name, vandal.name))
            roller.post(action="rollback", title=page, user=vandal.name, summary="bare rollback", token=token)
            (floor if i % 2 else bare).append((time.monotonic() - t0) * 1000)
            if not i % 2:
                bare_wiki += [r.ms for r in api_log.since(mark, sandbox.bot.name) if r.module == "rollback"]
        lines = [line for line in bot.lines if line["decision"] == "reverted"]
        starts = {int(text.split("rollback of r", 1)[1].split()[0]): start for text in bot.log.read_text().splitlines()
                  if "rollback of r" in text and (start := parse_start(text)) is not None}
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
        print(f"the floor of any bot that reads before it acts: the same context read then the rollback, by a plain "
              f"client ({len(floor)} pairs, ms): p50 {percentile(floor, 0.5):.1f}  p90 {percentile(floor, 0.9):.1f}; "
              f"it is {percentile(floor, 0.5) / percentile(bare, 0.5):.2f}x the bare rollback, and the bot's p50 is "
              f"{percentile(latencies, 0.5) / percentile(floor, 0.5):.2f}x this floor")
        if args.breakdown:
            print_breakdown(bot.log.read_text(), wiki_side, bare_wiki, edit_done)
            after_edit = [float(line["latency_ms"]) / 1000 + starts[rev] - edit_done[rev] for line in lines
                          if (rev := int(line["rev_id"])) in starts and rev in edit_done]
            if after_edit:
                p50 = percentile(after_edit, 0.5) * 1000
                print(f"for comparison only: counted from the end of the vandal's edit request, as the bare call is "
                      f"(the sandbox's single PHP process serves the bot's read only after the edit's post-send "
                      f"work): p50 {p50:.1f} ms, {p50 / percentile(bare, 0.5):.2f}x the bare call")
        (work / "latencies.json").write_text(json.dumps({"decisions": latencies, "bare_rollback": bare}))
    finally:
        stop_sandbox(root)


if __name__ == "__main__":
    main()
