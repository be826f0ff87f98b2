"""A report flood on the sandbox wiki (issue 14): 200 reports in a minute from 8 IPs and 2
accounts while vandals keep editing.

Starts its own sandbox MediaWiki (MediaWiki trusts 127.0.0.1 as a proxy here, so each
"IP" is an ``X-Forwarded-For`` address), a Lift Wing stand-in that scores ``VANDALISM``
at 0.995, and `automod run` in revert mode with the community's default flood limits.
First a quiet run: vandal edits one at a time, nothing else. Then the flood: 200 new
report sections in about a minute (some about real reverts, most about nothing the bot
did) while the same vandals edit. Prints how many lines the bot wrote on the report page
against the limits, how many passes over the page it made for the 200 edits, and the
revert latency (event received → rollback confirmed, queue wait included) quiet and
during the flood.

Run: python benchmarks/bench_report_flood.py [--reports 200] [--seconds 60] [--vandal-edits 20] [--dir DIR]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from automod.config import CommunityConfig  # noqa: E402
from automod.sandbox import down, up  # noqa: E402
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
IPS = [f"10.0.{i}.{i + 1}" for i in range(8)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def figures(latencies: list[float]) -> str:
    if not latencies:
        return "no reverts"
    return (f"p50 {percentile(latencies, 0.5):.0f}  p90 {percentile(latencies, 0.9):.0f}  "
            f"max {max(latencies):.0f}  mean {statistics.mean(latencies):.0f} ms ({len(latencies)} reverts)")


def vandalise(bot: Bot, vandals: list[WikiClient], pages: list[str], pause: float) -> list[float]:
    """One bad edit per page, ``pause`` seconds apart; the bot's latency for each revert."""
    revs = []
    for i, page in enumerate(pages):
        revs.append(vandals[i % len(vandals)].edit(page, f"Stable text. VANDALISM {i}"))
        time.sleep(pause)
    lines = [bot.decision(rev, timeout=120) for rev in revs]
    return [float(line["latency_ms"]) for line in lines if line["decision"] == "reverted"]


def flood(reporters: list[WikiClient], fp_page: str, reverted: list[int], count: int, seconds: float) -> int:
    """``count`` new sections on ``fp_page`` spread over ``seconds``; how many were saved."""
    saved = 0
    lock = threading.Lock()
    start = time.monotonic()

    def post(i: int) -> None:
        nonlocal saved
        time.sleep(max(0.0, start + i * seconds / count - time.monotonic()))
        client = reporters[i % len(reporters)]
        rev = reverted[i % len(reverted)] if i % 12 == 0 else random.randrange(10**6, 10**7)
        client.post(action="edit", title=fp_page, section="new", sectiontitle=f"Flood {i} (r{rev})",
                    text=f"<!-- automod-report rev={rev} -->\nRestore it! ~~~~", token=client.token())
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
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--vandal-edits", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="automod-bench-"))
    work = root / "run"
    work.mkdir(parents=True, exist_ok=True)
    sandbox = up(root / "sandbox")
    try:
        (sandbox.dir / "conf/extra.php").write_text(GENEROUS_LIMITS + PROXY)
        admin, vandals = WikiClient(sandbox, sandbox.admin), [WikiClient(sandbox, v) for v in sandbox.vandals]
        ips = []
        for ip in IPS:
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
        for page in quiet_pages + flood_pages:
            admin.edit(page, "Stable text.")
        with running_standin(score_function=score_from_wiki(sandbox.api_url)) as liftwing:
            settings = bot_settings(sandbox, work, liftwing.url)
            bot = launch_bot(sandbox, work, settings)
            quiet = vandalise(bot, vandals, quiet_pages, pause=0.5)
            reverted = [line["rev_id"] for line in bot.lines if line["decision"] == "reverted"]
            started = time.monotonic()
            busy: list[float] = []
            vandal_thread = threading.Thread(target=lambda: busy.extend(
                vandalise(bot, vandals, flood_pages, pause=args.seconds / n)))
            vandal_thread.start()
            saved = flood(ips + vandals, fp_page, reverted, args.reports, args.seconds)
            flood_seconds = time.monotonic() - started
            vandal_thread.join()
            with Store(work / "automod.sqlite") as store:
                def handled() -> int:
                    return int(sqlite_of(store).execute(
                        "SELECT count(*) FROM actions WHERE kind IN ('report-answer', 'report-no-match',"
                        " 'report-dropped') AND detail LIKE ?", ('%"section": "Flood %',)).fetchone()[0])
                deadline = time.monotonic() + 120
                while handled() < saved and time.monotonic() < deadline:
                    time.sleep(0.5)
                caught_up = time.monotonic() - started
                passes = int(sqlite_of(store).execute(
                    "SELECT count(*) FROM actions WHERE kind = 'report-pass' AND detail = ?", (fp_page,)).fetchone()[0])
                dropped = int(sqlite_of(store).execute("SELECT count(*) FROM actions WHERE kind = 'report-dropped'")
                              .fetchone()[0])
                done = handled()
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
              f"{dropped} reports left unanswered (logged once)")
        print(f"passes over the report page: {passes} for {saved + 1} human edits")
        print(f"revert latency, quiet:       {figures(quiet)}")
        print(f"revert latency, during flood: {figures(busy)}")
    finally:
        down(root / "sandbox")


if __name__ == "__main__":
    main()
