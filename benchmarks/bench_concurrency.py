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

Target: in-flight drain at least 3x faster. Run: python benchmarks/bench_concurrency.py [--edits 400]
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


def drain(sandbox, work: Path, liftwing_url: str, revs: list[int], in_flight: int) -> dict[str, float]:
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
        return {"drain": elapsed, "bot_cpu": bot_cpu, "php_cpu": cpu_seconds(php) - php_before}
    finally:
        bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=400)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="automod-bench-"))
    sandbox = up(root / "sandbox")
    try:
        (sandbox.dir / "conf/extra.php").write_text(GENEROUS_LIMITS)
        admin, vandals = WikiClient(sandbox, sandbox.admin), [WikiClient(sandbox, v) for v in sandbox.vandals]
        set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "max_reverts_per_hour": 2 * args.edits,
                           "max_edit_age_minutes": 120})
        figures = {}
        with running_standin(default_score=0.995) as liftwing:
            for in_flight, batch in ((1, False), (args.in_flight, False), (args.in_flight, True)):
                name = f"max_in_flight={in_flight}" + (" batch" if batch else "")
                liftwing.batch = batch
                pages = [f"Concurrency benchmark {time.time_ns()} {i}" for i in range(args.edits)]
                for page in pages:
                    admin.edit(page, "Stable text.")
                work = root / name
                work.mkdir(parents=True, exist_ok=True)
                start_at_stream_end(sandbox, work)
                revs = [vandals[i % len(vandals)].edit(p, f"Stable text. VANDALISM {i}") for i, p in enumerate(pages)]
                print(f"{name}: {len(revs)} edits made; draining")
                liftwing.latency, waited = lognormal(0.3, 1.5)
                figures[name] = {**drain(sandbox, work, liftwing.url, revs, in_flight),
                                 "scoring_wait": waited[0], "requests": waited[1]}
                liftwing.latency = None
        print(f"\n{'run':<24}{'drain s':>9}{'edits/s':>9}{'bot CPU s':>11}{'PHP CPU s':>11}"
              f"{'PHP ms/edit':>13}{'LW delay s':>12}{'LW calls':>10}")
        for name, f in figures.items():
            print(f"{name:<24}{f['drain']:>9.1f}{args.edits / f['drain']:>9.1f}{f['bot_cpu']:>11.1f}"
                  f"{f['php_cpu']:>11.1f}{1000 * f['php_cpu'] / args.edits:>13.0f}{f['scoring_wait']:>12.1f}"
                  f"{f['requests']:>10}")
        one, many = figures["max_in_flight=1"]["drain"], figures[f"max_in_flight={args.in_flight}"]["drain"]
        print(f"speed-up max_in_flight={args.in_flight} vs 1: {one / many:.2f}x (target >= 3)")
        batched = figures[f"max_in_flight={args.in_flight} batch"]
        print(f"with the batch form: {one / batched['drain']:.2f}x, {batched['requests']} Lift Wing requests "
              f"instead of {figures[f'max_in_flight={args.in_flight}']['requests']}")
    finally:
        down(root / "sandbox")


if __name__ == "__main__":
    main()
