"""One wiki drains a burst of bad edits faster when its candidates are scored concurrently (issue 15).

On the sandbox wiki, with a Lift Wing stand-in answering after a log-normal delay (median
300 ms, p95 1.5 s, as real revert-risk answers) and scoring every edit 0.995, the same kind
of burst (N vandal edits on N pages, made while no bot runs) is drained twice, side by side:
with ``scoring.max_in_flight: 1`` (one edit scored at a time, as before) and with it at
``--in-flight`` (default 4). Each run starts a bot from the position before its burst and
measures the time to its N-th final decision. Where the time goes: the bot's CPU, the
sandbox PHP server's CPU (about 125 ms per decided edit on the reference machine) and the
stand-in's total answer delay (the scoring wait a one-at-a-time bot sits through).

Both runs ask one revision per request (the stand-in refuses Lift Wing's batch form, as a Lift
Wing from before it would). A third run lets the bot use the batch form at ``--in-flight``;
the stand-in delays a batch request as much as a single one, so that figure is a best case:
real Lift Wing reads a batch's revisions concurrently, but a batch takes at least its
slowest revision.

Issue 27.4: bursts of 60 and 400 edits side by side in one run, each drained at least 3x faster
than the sequential bound (the stand-in's summed answer delay: what a bot scoring one edit at a
time waits at the very least), with per-page order (a quarter of the pages get a second edit)
and at most one rollback per revision kept. ``--sequential-run`` also drains each burst with
``max_in_flight: 1`` and with the batch form, as before.

Run: python benchmarks/bench_concurrency.py [--edits 60,400] [--sequential-run]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from automod.sandbox import down, up  # noqa: E402
from support.liftwing_standin import running_standin  # noqa: E402
from support.moderation_helpers import (  # noqa: E402
    REVERTING,
    Bot,
    bot_settings,
    set_config,
    start_at_stream_end,
)
from support.wiki import GENEROUS_LIMITS, WikiClient  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def lognormal(median: float, p95: float, seed: int = 15):
    """Delays with the given median and 95th percentile (log-normal), and their running sum."""
    sigma = math.log(p95 / median) / 1.6449
    rng, lock, total = random.Random(seed), threading.Lock(), [0.0, 0]

    def draw() -> float:
        with lock:
            delay = rng.lognormvariate(math.log(median), sigma)
            total[0] += delay
            total[1] += 1
        return delay
    return draw, total


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU of these processes and their waited-for children (from /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime
    return total


def php_pids(api_url: str) -> list[int]:
    """The sandbox's PHP server (``php -S`` on the API URL's port, started by this benchmark)."""
    listen = api_url.split("//", 1)[1].split("/", 1)[0]
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "php" in cmd.split(" ")[0] and f"-S {listen} " in cmd:
                found.append(int(proc.name))
    return found


def drain(sandbox, work: Path, liftwing_url: str, revs: list[int], in_flight: int) -> tuple[dict[str, float], list]:
    settings = bot_settings(sandbox, work, liftwing_url)
    data = yaml.safe_load(settings.read_text())
    data["scoring"] = {"max_in_flight": in_flight}
    settings.write_text(yaml.safe_dump(data))
    php = php_pids(sandbox.api_url)
    php_before = cpu_seconds(php)
    started = time.monotonic()
    bot = Bot(settings)
    try:
        outcomes = bot.wait_all_decided(revs, timeout=3600)
        elapsed = time.monotonic() - started
        bot_cpu = cpu_seconds([bot.proc.pid])
        print(f"  decisions: {outcomes}")
        return {"drain": elapsed, "bot_cpu": bot_cpu, "php_cpu": cpu_seconds(php) - php_before}, list(bot.lines)
    finally:
        bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", default="60,400",
                        help="burst sizes, comma-separated, drained side by side in one run (default 60,400)")
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--sequential-run", action="store_true",
                        help="also drain each burst with max_in_flight=1 and the batch form (slow)")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    sizes = [int(n) for n in str(args.edits).split(",") if n.strip()]
    root = args.dir or Path(tempfile.mkdtemp(prefix="automod-bench-"))
    sandbox = up(root / "sandbox")
    try:
        (sandbox.dir / "conf/extra.php").write_text(GENEROUS_LIMITS)
        admin, vandals = WikiClient(sandbox, sandbox.admin), [WikiClient(sandbox, v) for v in sandbox.vandals]
        set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "max_reverts_per_hour": 500,
                           "max_edit_age_minutes": 120})
        figures = {}
        runs = [(args.in_flight, False)] + ([(1, False), (args.in_flight, True)] if args.sequential_run else [])
        with running_standin(default_score=0.995) as liftwing:
            for size in sizes:
                for in_flight, batch in runs:
                    name = f"{size} edits, max_in_flight={in_flight}" + (" batch" if batch else "")
                    liftwing.batch = batch
                    # Two edits per page on a quarter of the pages (per-page order must hold).
                    pages = [f"Concurrency benchmark {time.time_ns()} {i}" for i in range(size - size // 4)]
                    for page in pages:
                        admin.edit(page, "Stable text.")
                    work = root / name.replace(" ", "_").replace(",", "")
                    work.mkdir(parents=True, exist_ok=True)
                    start_at_stream_end(sandbox, work)
                    order = pages + pages[:size // 4]
                    revs, by_page = [], {}
                    for i, page in enumerate(order):
                        rev = vandals[i % len(vandals)].edit(page, f"Stable text. VANDALISM {i}")
                        revs.append(rev)
                        by_page.setdefault(page, []).append(rev)
                    print(f"{name}: {len(revs)} edits made; draining")
                    liftwing.latency, waited = lognormal(0.3, 1.5)
                    result, lines = drain(sandbox, work, liftwing.url, revs, in_flight)
                    figures[name] = {**result, "scoring_wait": waited[0], "requests": waited[1], "edits": size,
                                     **invariants(lines, by_page)}
                    liftwing.latency = None
        print(f"\n{'run':<34}{'drain s':>9}{'edits/s':>9}{'seq. bound s':>13}{'x bound':>9}{'bot CPU s':>11}"
              f"{'PHP ms/edit':>13}{'LW calls':>10}  order / one action")
        for name, f in figures.items():
            print(f"{name:<34}{f['drain']:>9.1f}{f['edits'] / f['drain']:>9.1f}{f['scoring_wait']:>13.1f}"
                  f"{f['scoring_wait'] / f['drain']:>9.2f}{f['bot_cpu']:>11.1f}"
                  f"{1000 * f['php_cpu'] / f['edits']:>13.0f}{f['requests']:>10}  "
                  f"{'kept' if f['order_kept'] else 'BROKEN'} / {'kept' if f['one_action'] else 'BROKEN'}")
        for size in sizes:
            f = figures[f"{size} edits, max_in_flight={args.in_flight}"]
            ratio = f["scoring_wait"] / f["drain"]
            print(f"{size} edits: {ratio:.2f}x the sequential bound (the stand-in's summed answer delay, what a "
                  f"one-at-a-time bot waits at least) {'OK' if ratio >= 3 else 'MISSED'} (target >= 3)")
    finally:
        down(root / "sandbox")


def invariants(lines: list[dict], by_page: dict[str, list[int]]) -> dict[str, bool]:
    """Per-page order (a page's edits decided in the order they were made; the second edit of
    a page after its first) and at most one rollback per revision."""
    first_line = {}
    reverted: dict[int, int] = {}
    for i, line in enumerate(lines):
        first_line.setdefault(line["rev_id"], i)
        if line["decision"] == "reverted":
            reverted[line["rev_id"]] = reverted.get(line["rev_id"], 0) + 1
    order_kept = all([first_line.get(r, -1) for r in revs] == sorted(first_line.get(r, -1) for r in revs)
                     for revs in by_page.values())
    return {"order_kept": order_kept, "one_action": all(n <= 1 for n in reverted.values())}


if __name__ == "__main__":
    main()
