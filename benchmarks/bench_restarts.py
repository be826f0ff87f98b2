"""A burst right after three ``kill -9`` restarts drains as fast as on a clean start (issue 15).

pywikibot multiplies its request delays by the processes listed in its ``throttle.ctrl``,
dead ones included for 10 minutes. automod runs with the pacing README and
``user-config.py.sample`` recommend for production (no fixed delays; the sandbox writes
the same) and does not let pywikibot's process count touch its delays. Here, on the
sandbox wiki with a Lift Wing stand-in that scores every edit 0.995:

1. clean: N vandal edits are made while no bot runs; the bot then starts from the position
   before them and the time from its start to its N-th decision is measured;
2. after kills: three bots are started and killed with SIGKILL (each leaves its entry in
   throttle.ctrl), N more edits are made, and a fourth bot drains them the same way.

Target: (2) within 1.2x of (1). Run: python benchmarks/bench_restarts.py [--edits 300]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from _harness import bench_dirs, clients, start_sandbox, stop_sandbox  # noqa: E402
from support.liftwing_standin import running_standin  # noqa: E402
from support.moderation_helpers import (  # noqa: E402
    REVERTING,
    Bot,
    bot_settings,
    launch_bot,
    set_config,
    start_at_stream_end,
)
from support.wiki import WikiClient  # noqa: E402


def burst(vandals: list[WikiClient], pages: list[str], tag: str) -> list[int]:
    return [vandals[i % len(vandals)].edit(page, f"Stable text. VANDALISM {tag}") for i, page in enumerate(pages)]


def drain(sandbox, work: Path, liftwing_url: str, revs: list[int]) -> float:
    """Seconds from starting a bot (position before ``revs``) to its decision on all of them."""
    settings = bot_settings(sandbox, work, liftwing_url)
    started = time.monotonic()
    bot = Bot(settings)
    try:
        outcomes = bot.wait_all_decided(revs, timeout=1800)
        elapsed = time.monotonic() - started
        print(f"  decisions: {outcomes}")
        return elapsed
    finally:
        bot.stop()


def kill_nine(sandbox, work: Path, liftwing_url: str) -> None:
    """Start a bot (seeing nothing new) and SIGKILL it once it follows the stream."""
    work.mkdir(parents=True, exist_ok=True)
    bot = launch_bot(sandbox, work, bot_settings(sandbox, work, liftwing_url))
    time.sleep(1.0)  # connected, logged in, throttle.ctrl written
    bot.proc.send_signal(signal.SIGKILL)
    bot.proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root, _ = bench_dirs(args.dir, "automod-bench-")
    sandbox = start_sandbox(root)
    try:
        admin, vandals = clients(sandbox)
        set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "max_reverts_per_hour": 500,
                           "max_edit_age_minutes": 60})
        pages = [f"Restart benchmark {time.time_ns()} {i}" for i in range(args.edits)]
        for page in pages:
            admin.edit(page, "Stable text.")
        with running_standin(default_score=0.995) as liftwing:
            figures = {}
            for name in ("clean", "after 3 kill -9"):
                work = root / name.replace(" ", "-")
                work.mkdir(parents=True, exist_ok=True)
                if name != "clean":
                    for k in range(3):
                        kill_nine(sandbox, root / f"killed-{k}", liftwing.url)
                    ctrl = sandbox.pywikibot_dir / "throttle.ctrl"
                    entries = len(ctrl.read_text().splitlines()) if ctrl.exists() else 0
                    print(f"throttle.ctrl lists {entries} processes (all dead)")
                start_at_stream_end(sandbox, work)
                revs = burst(vandals, pages, name)
                print(f"{name}: {len(revs)} edits made; draining")
                figures[name] = drain(sandbox, work, liftwing.url, revs)
        clean, killed = figures["clean"], figures["after 3 kill -9"]
        print(f"\n{'run':<18}{'drain s':>9}{'edits/s':>9}")
        for name, seconds in figures.items():
            print(f"{name:<18}{seconds:>9.1f}{args.edits / seconds:>9.1f}")
        print(f"ratio after kills / clean: {killed / clean:.2f} (target <= 1.2)")
    finally:
        stop_sandbox(root)


if __name__ == "__main__":
    main()
