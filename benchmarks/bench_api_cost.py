"""What one decision costs the wiki: Action API requests by module and wiki-side time (issue 27).

Starts its own sandbox MediaWiki with its API debug log on (``$wgDebugLogGroups['api']`` in
conf/extra.php: one line per request, with the user, the parameters and ``T=`` the time the
wiki spent), a zero-latency Lift Wing stand-in that reads the wiki as Lift Wing does (text
markers decide the score), and `automod run` following the sandbox stream. Every page is a
real article: "Methamphetamine" from English Wikipedia (70 KB of wikitext, 84 template
invocations; tests/data/fixtures/edits/cluebot/reviewer_edit_394517773.xml, CC BY-SA,
Wikipedia contributors — the largest real article text in the project's fixtures).

For each kind of decision, one edit at a time, the bot account's requests between the edit
and its decision line are read from the log:
- reverted: a vandal edit above threshold (split: up to the rollback confirmed, and the
  aftermath after it — notice with warning level, report-page preload);
- below threshold: an edit left alone;
- cheap rules: an edit by a vandal the bot already reverted on that page (cap reached) and a
  User-namespace edit (rejected by intake);
with talk notices off, then on (warnings with 4 levels). The bot's own idle traffic (chores)
is measured in a quiet window and printed too.

Targets: <= 2 requests up to a confirmed rollback, <= 1 for an edit left alone, 0 for one
rejected by cheap rules, <= 3 more for the aftermath; no ``action=parse`` per candidate.

Run: python benchmarks/bench_api_cost.py [--edits 5] [--dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from _harness import bench_dirs, clients, start_sandbox, stop_sandbox  # noqa: E402
from support.api_log import ApiLog, ApiRequest, api_log_php  # noqa: E402
from support.liftwing_standin import running_standin  # noqa: E402
from support.moderation_helpers import (  # noqa: E402
    REVERTING,
    Bot,
    bot_settings,
    launch_bot,
    score_from_wiki,
    set_config,
)
from support.wiki import GENEROUS_LIMITS  # noqa: E402

ARTICLE = HERE.parent / "tests/data/fixtures/edits/cluebot/reviewer_edit_394517773.xml"


def article_text() -> str:
    root = ET.parse(ARTICLE).getroot()
    texts = [el.text or "" for el in root.iter("text")]
    return max(texts, key=len)


def settle(bot: Bot, rev: int, log: ApiLog, mark: int, user: str) -> list[ApiRequest]:
    bot.decision(rev, timeout=60)
    return log.since(mark, user)


def split_at_rollback(requests: list[ApiRequest]) -> tuple[list[ApiRequest], list[ApiRequest]]:
    for i, request in enumerate(requests):
        if request.module == "rollback":
            return requests[:i + 1], requests[i + 1:]
    return requests, []


def row(name: str, samples: list[list[ApiRequest]]) -> str:
    counts = [len(s) for s in samples]
    times = [sum(r.ms for r in s) for s in samples]
    modules: Counter[str] = Counter(r.module for s in samples for r in s)
    per = ", ".join(f"{m} {n / len(samples):.1f}" for m, n in sorted(modules.items()))
    parses = sum(1 for s in samples for r in s if r.params.get("action") == "parse")
    return (f"  {name:<34} requests/decision {statistics.mean(counts):4.1f} (max {max(counts)})  "
            f"wiki time p50 {statistics.median(times):5.0f} ms  parse {parses}\n      by module: {per or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=5, help="edits per kind of decision")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root, work = bench_dirs(args.dir, "automod-bench-api-")
    log = ApiLog(root / "api.log")
    sandbox = start_sandbox(root, GENEROUS_LIMITS + api_log_php(log.path))
    try:
        admin, vandals = clients(sandbox)
        bot_user = sandbox.bot.name
        text = article_text()
        fp_page = f"User:{bot_user}/False positives"
        n = args.edits
        results: dict[str, list[list[ApiRequest]]] = {}
        for notices in (False, True):
            tag = "notices on" if notices else "notices off"
            config = {**REVERTING, "max_reverts_per_user_per_page": 1, "max_reverts_per_hour": 500}
            if notices:
                config.update({"talk_notice": {"enabled": True}, "false_positive_page": fp_page,
                               "warnings": {"levels": 4, "window_days": 2, "trusted_right": "rollback"}})
            set_config(admin, config)
            pages = [f"Methamphetamine {tag} {time.time_ns()} {i}" for i in range(2 * n + 1)]
            for page in pages:
                admin.edit(page, text, summary="a real article (CC BY-SA, Wikipedia contributors)")
            with running_standin(score_function=score_from_wiki(sandbox.api_url)) as liftwing:
                bot = launch_bot(sandbox, work, bot_settings(sandbox, work, liftwing.url))
                try:
                    time.sleep(3)  # the bot's start-up reads (config, rate limits, chores) are not a decision's
                    mark = log.mark()
                    time.sleep(5)
                    idle = log.since(mark, bot_user)
                    results[f"idle 5 s ({tag})"] = [idle]
                    up_to, after, below, cheap, intake = [], [], [], [], []
                    mark = log.mark()  # the run's first revert also reads what is then kept (tokens, messages…)
                    rev = vandals[0].edit(pages[2 * n], text + "\nVANDALISM first")
                    results[f"first revert of a run, all ({tag})"] = [settle(bot, rev, log, mark, bot_user)]
                    for i in range(n):
                        vandal = vandals[i % len(vandals)]
                        mark = log.mark()
                        rev = vandal.edit(pages[i], text + f"\nVANDALISM {i}")
                        first, rest = split_at_rollback(settle(bot, rev, log, mark, bot_user))
                        up_to.append(first)
                        after.append(rest)
                        mark = log.mark()
                        rev = vandal.edit(pages[i], text + f"\nVANDALISM again {i}")  # cap reached
                        cheap.append(settle(bot, rev, log, mark, bot_user))
                        mark = log.mark()
                        vandal.edit(f"User:{vandal.name}/bench {i}", f"not an article {time.time_ns()}")
                        rev = vandal.edit(pages[i], text + f"\nVANDALISM third {i}")  # cap reached: a marker
                        intake.append(settle(bot, rev, log, mark, bot_user))
                        mark = log.mark()
                        rev = vandals[(i + 1) % len(vandals)].edit(pages[n + i], text + f"\nA fine sentence {i}.")
                        below.append(settle(bot, rev, log, mark, bot_user))
                finally:
                    bot.stop()
            results[f"reverted, up to rollback ({tag})"] = up_to
            results[f"reverted, aftermath ({tag})"] = after
            results[f"below threshold ({tag})"] = below
            results[f"cheap rule: cap reached ({tag})"] = cheap
            results[f"intake: User page + cap ({tag})"] = intake
        print(f"API requests by the bot account per decision ({n} edits each, a {len(text) // 1000} KB article;"
              " from MediaWiki's API log; sandbox on a shared, noisy machine):")
        for name, samples in results.items():
            print(row(name, samples))
        get = {k: statistics.mean(len(s) for s in v) for k, v in results.items() if not k.startswith("first")}
        parses = sum(1 for k, v in results.items() if not k.startswith(("idle", "first"))
                     for s in v for r in s if r.params.get("action") == "parse")
        checks = [("<= 2 up to a confirmed rollback", max(get[k] for k in get if "up to rollback" in k) <= 2),
                  ("<= 1 for an edit left alone", max(get[k] for k in get if "below" in k) <= 1),
                  ("0 for cheap rules / intake", max(get[k] for k in get if "cheap" in k or "intake" in k) == 0),
                  ("<= 3 more for the aftermath", max(get[k] for k in get if "aftermath" in k) <= 3),
                  ("no parse per candidate", parses == 0)]
        print("targets: " + "; ".join(f"{name} {'OK' if ok else 'MISSED'}" for name, ok in checks))
    finally:
        stop_sandbox(root)


if __name__ == "__main__":
    main()
