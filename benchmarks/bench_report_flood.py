"""A report flood on the sandbox wiki (issues 14 and 26): 200 reports from 200 IPs and 2
accounts while vandals keep editing.

Starts its own sandbox MediaWiki (MediaWiki trusts 127.0.0.1 as a proxy here, so each
"IP" is an ``X-Forwarded-For`` address), a Lift Wing stand-in that scores ``VANDALISM``
at 0.995, and `automod run` in revert mode with the community's default flood limits.
First a quiet run: vandal edits one at a time, nothing else. Then the flood: new report
sections (some about real reverts, most about nothing the bot did) while the same vandals
edit. Prints how many lines the bot wrote on the report page against the limits, how many
reports wait for the budget (none is dropped), how many passes over the page it made, the
revert latency (event received → rollback confirmed, queue wait included) and the
time-to-revert a reader sees (vandal edit saved → the bot's rollback on top of the page),
quiet and during the flood (issue 26: 15.3 s during a flood against about 0.5 s quiet).
Last, the same flood on a page the bot does not answer, with the same vandal edits: the
sandbox wiki is one ``php -S`` process serving every request in turn, so this control shows
how much of the slowdown is the wiki's own load (the reporters' saves) rather than the bot's
report work.

Run: python benchmarks/bench_report_flood.py [--reports 200] [--seconds 25] [--vandal-edits 20] [--dir DIR]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from _harness import bench_dirs, clients, start_sandbox, stop_sandbox  # noqa: E402
from automod.config import CommunityConfig  # noqa: E402
from automod.store import Store  # noqa: E402
from support.liftwing_standin import running_standin  # noqa: E402
from support.moderation_helpers import (  # noqa: E402
    REVERTING,
    Bot,
    bot_settings,
    launch_bot,
    score_from_wiki,
    set_config,
)
from support.store_evidence import sqlite_of  # noqa: E402
from support.wiki import GENEROUS_LIMITS, WikiClient  # noqa: E402

#: MediaWiki takes the client's address from X-Forwarded-For when the proxy (here the
#: benchmark itself, on 127.0.0.1) is trusted: eight reporters with eight addresses.
PROXY = "$wgCdnServers = [ '127.0.0.1' ];\n$wgUsePrivateIPs = true;\n"
IPS = [f"198.51.100.{i + 1}" if i < 200 else f"203.0.113.{i - 199}" for i in range(250)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def figures(latencies: list[float]) -> str:
    if not latencies:
        return "no reverts"
    return (f"p50 {percentile(latencies, 0.5):.0f}  p90 {percentile(latencies, 0.9):.0f}  "
            f"max {max(latencies):.0f}  mean {statistics.mean(latencies):.0f} ms ({len(latencies)} reverts)")


def vandalise(bot: Bot, vandals: list[WikiClient], pages: list[str], pause: float,
              bot_name: str) -> tuple[list[float], list[float]]:
    """One bad edit per page, ``pause`` seconds apart; the bot's latency for each revert (ms)
    and the time-to-revert a reader sees (s): the edit saved → the bot's revision on top."""
    revs: list[int] = []
    seen: list[float] = []
    watchers = []
    for i, page in enumerate(pages):
        saved = time.monotonic()
        try:
            revs.append(vandals[i % len(vandals)].edit(page, f"Stable text. VANDALISM {i}"))
        except requests.RequestException as exc:  # the sandbox's one PHP process, swamped by the flood
            print(f"vandal edit {i} not saved: {exc}")
            continue
        watcher = threading.Thread(target=_watch_revert, args=(vandals[0], page, bot_name, saved, seen))
        watcher.start()
        watchers.append(watcher)
        time.sleep(pause)
    lines = [bot.decision(rev, timeout=120) for rev in revs]
    for watcher in watchers:
        watcher.join()
    return [float(line["latency_ms"]) for line in lines if line["decision"] == "reverted"], seen


def _watch_revert(client: WikiClient, page: str, bot_name: str, saved: float, seen: list[float]) -> None:
    deadline = saved + 120
    while time.monotonic() < deadline:
        try:
            top = client.revisions(page, limit=1)
        except requests.RequestException:
            continue
        if top and top[0]["user"] == bot_name:
            seen.append(time.monotonic() - saved)
            return
        time.sleep(0.05)


def seconds(values: list[float]) -> str:
    if not values:
        return "no reverts"
    return (f"p50 {percentile(values, 0.5):.1f}  p90 {percentile(values, 0.9):.1f}  max {max(values):.1f}  "
            f"mean {statistics.mean(values):.1f} s ({len(values)} reverts)")


def flood(reporters: list[WikiClient], fp_page: str, reverted: list[int], count: int, seconds: float) -> int:
    """``count`` new sections on ``fp_page`` spread over ``seconds``; how many were saved."""
    saved = 0
    lock = threading.Lock()
    start = time.monotonic()

    def post(i: int) -> None:
        nonlocal saved
        time.sleep(max(0.0, start + i * seconds / count - time.monotonic()))
        client = reporters[i % len(reporters)]  # with 200+ IPs: one report each, as in issue 26
        rev = reverted[i % len(reverted)] if i % 12 == 0 else random.randrange(10**6, 10**7)
        try:
            client.post(action="edit", title=fp_page, section="new", sectiontitle=f"Flood {i} (r{rev})",
                        text=f"<!-- automod-report rev={rev} -->\nRestore it! ~~~~", token=client.token())
        except requests.RequestException as exc:
            print(f"report {i} not confirmed: {exc}")
            return
        with lock:
            saved += 1

    threads = [threading.Thread(target=post, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--vandal-edits", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root, work = bench_dirs(args.dir, "automod-bench-")
    sandbox = start_sandbox(root, GENEROUS_LIMITS + PROXY)
    try:
        admin, vandals = clients(sandbox)
        ips = []
        for ip in IPS[:args.reports]:
            client = WikiClient(sandbox)
            client.session.headers["X-Forwarded-For"] = ip
            ips.append(client)
        fp_page = f"User:{sandbox.bot.name}/False positives {time.time_ns()}"
        set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "max_reverts_per_hour": 500,
                           "false_positive_page": fp_page})
        limits = CommunityConfig()
        admin.edit(fp_page, "Reports.\n")
        n = args.vandal_edits
        quiet_pages = [f"Flood bench quiet {time.time_ns()} {i}" for i in range(n)]
        flood_pages = [f"Flood bench busy {time.time_ns()} {i}" for i in range(n)]
        control_pages = [f"Flood bench control {time.time_ns()} {i}" for i in range(n)]
        for page in quiet_pages + flood_pages + control_pages:
            admin.edit(page, "Stable text.")
        with running_standin(score_function=score_from_wiki(sandbox.api_url)) as liftwing:
            settings = bot_settings(sandbox, work, liftwing.url)
            bot = launch_bot(sandbox, work, settings)
            quiet, quiet_seen = vandalise(bot, vandals, quiet_pages, pause=0.5, bot_name=sandbox.bot.name)
            reverted = [line["rev_id"] for line in bot.lines if line["decision"] == "reverted"]
            started = time.monotonic()
            busy: list[float] = []
            busy_seen: list[float] = []

            def during_flood() -> None:
                latencies, visible = vandalise(bot, vandals, flood_pages, pause=args.seconds / n,
                                               bot_name=sandbox.bot.name)
                busy.extend(latencies)
                busy_seen.extend(visible)
            vandal_thread = threading.Thread(target=during_flood)
            vandal_thread.start()
            saved = flood(ips + vandals, fp_page, reverted, args.reports, args.seconds)
            flood_seconds = time.monotonic() - started
            vandal_thread.join()
            with Store(work / "automod.sqlite") as store:
                def handled() -> int:
                    return int(sqlite_of(store).execute(
                        "SELECT count(DISTINCT json_extract(detail, '$.section')) FROM actions WHERE kind IN"
                        " ('report-answer', 'report-no-match', 'report-flood-answer', 'report-collapsed',"
                        " 'report-waiting', 'report-dropped') AND detail LIKE ?",
                        ('%"section": "Flood %',)).fetchone()[0])
                deadline = time.monotonic() + 120
                while handled() < saved and time.monotonic() < deadline:
                    time.sleep(0.5)
                caught_up = time.monotonic() - started
                passes = int(sqlite_of(store).execute(
                    "SELECT count(*) FROM actions WHERE kind = 'report-pass' AND detail = ?", (fp_page,)).fetchone()[0])
                dropped = int(sqlite_of(store).execute("SELECT count(*) FROM actions WHERE kind = 'report-dropped'")
                              .fetchone()[0])
                waiting = int(sqlite_of(store).execute(
                    "SELECT count(DISTINCT json_extract(detail, '$.section')) FROM actions w"
                    " WHERE kind = 'report-waiting'"
                    " AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.kind IN ('report-answer', 'report-no-match',"
                    " 'report-flood-answer', 'report-collapsed') AND json_extract(a.detail, '$.section') ="
                    " json_extract(w.detail, '$.section'))").fetchone()[0])
                collapsed = int(sqlite_of(store).execute("SELECT count(*) FROM actions WHERE kind = 'report-collapsed'")
                                .fetchone()[0])
                unknown = int(sqlite_of(store).execute(
                    "SELECT count(*) FROM actions WHERE kind IN ('report-answer', 'report-no-match',"
                    " 'report-flood-answer', 'report-collapsed') AND json_extract(detail, '$.reporter') = '?'")
                    .fetchone()[0])
                done = handled()
            # The control: the same flood on a page the bot does not answer (not an article either: no
            # candidate edits), the wiki's load alone.
            control: list[float] = []
            control_seen: list[float] = []

            def during_control() -> None:
                latencies, visible = vandalise(bot, vandals, control_pages, pause=args.seconds / n,
                                               bot_name=sandbox.bot.name)
                control.extend(latencies)
                control_seen.extend(visible)
            vandal_thread = threading.Thread(target=during_control)
            vandal_thread.start()
            flood([WikiClient(sandbox) for _ in range(4)], f"Project:Flood bench control {time.time_ns()}", reverted,
                  args.reports, args.seconds)
            vandal_thread.join()
            bot.stop()
        revisions = admin.revisions(fp_page, limit=500)
        text = revisions[0]["slots"]["main"]["content"]
        bot_edits = sum(1 for r in revisions if r["user"] == sandbox.bot.name)
        print(f"flood: {saved} reports saved in {flood_seconds:.1f} s by {len(ips)} IPs and {len(vandals)} accounts; "
              f"{done} handled by the bot, caught up {caught_up:.1f} s after the flood began")
        print(f"report page: {bot_edits} bot edits, {text.count('automod — ')} bot lines; limits: "
              f"{limits.report_answers_per_hour} lines an hour per wiki, "
              f"{limits.report_answers_per_reporter_per_hour} per reporter, one no-match per reporter "
              f"({'within' if bot_edits <= limits.report_answers_per_hour else 'OVER'} the wiki limit); "
              f"{collapsed} answered together with another's line; {waiting} waiting for the budget "
              f"(answered when it returns); {dropped} dropped; {unknown} answered reports credited to '?'")
        print(f"passes over the report page: {passes} for {saved + 1} human edits")
        print(f"revert latency, quiet:       {figures(quiet)}")
        print(f"revert latency, during flood: {figures(busy)}")
        print(f"time-to-revert (edit saved → bot's revision on top), quiet:        {seconds(quiet_seen)}")
        print(f"time-to-revert (edit saved → bot's revision on top), during flood: {seconds(busy_seen)}")
        print(f"time-to-revert, same flood on a page the bot does not answer (the wiki's own load): "
              f"{seconds(control_seen)}")
        print(f"revert latency, same flood on a page the bot does not answer: {figures(control)}")
    finally:
        stop_sandbox(root)


if __name__ == "__main__":
    main()
