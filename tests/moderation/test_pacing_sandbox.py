"""Rollbacks paced to the bot account's own rate limit, read from the wiki (issue 21, item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date

import pytest
import yaml

from automod.moderation.pacing import RollbackPacer
from automod.moderation.rollback import RollbackQueue
from automod.onwiki import AccountLimits, RateLimit, publish_day, read_limits
from automod.records import EventMeta, RecentChange
from automod.store import Store
from support.moderation_helpers import REVERTING, bot_settings, launch_bot, set_config, top_revision
from support.relay_helpers import wait_for
from support.settings_files import write_settings
from support.wiki import DEFAULT_BOT_LIMITS

pytestmark = pytest.mark.sandbox


def test_the_default_rollback_limit_is_read_from_the_wiki_and_rollbacks_are_paced_to_it(gateway, sandbox):
    extra = sandbox.dir / "conf/extra.php"
    generous = extra.read_text()
    extra.write_text("<?php\n")  # MediaWiki's defaults: 10 rollbacks a minute without noratelimit
    try:
        limits = read_limits(gateway)
    finally:
        extra.write_text(generous)
    assert limits.rollback == RateLimit(10, 60.0), "the sandbox bot mirrors a production bot account: no noratelimit"
    assert "lacks the noratelimit right" in limits.advice()

    now = [1000.0]
    pacer = RollbackPacer(gateway, clock=lambda: now[0])
    pacer.limits, pacer.read_at = limits, now[0]
    for _ in range(10):
        assert pacer.wait() == 0.0
        pacer.sent()
        now[0] += 1.0
    # The window, plus one of MediaWiki's 30 buckets (it still counts part of the oldest hit), plus a margin.
    assert 52.0 < pacer.wait() <= 53.0, "the eleventh waits for the window, instead of being refused"
    now[0] += 53.0
    assert pacer.wait() == 0.0


def _status(settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "automod", "status", "--settings", str(settings)],
                          capture_output=True, text=True, timeout=30)


def _change(rev_id: int, timestamp: float) -> RecentChange:
    return RecentChange(meta=EventMeta(id="", dt="", domain="", stream=""), wiki="sandboxwiki", server_name="",
                        type="edit", namespace=0, title=f"Paced {rev_id}", user="Vandal", bot=False,
                        timestamp=int(timestamp), comment="", minor=False, rc_id=None, rev_id=rev_id,
                        parent_id=rev_id - 1, length_old=None, length_new=None)


def test_waiting_for_the_limit_is_never_an_attempt_and_ends_only_when_the_edit_is_too_old(gateway):
    mono, wall = [500.0], [1_000_000.0]
    rollbacks = RollbackQueue(clock=lambda: mono[0], wall=lambda: wall[0])
    pacer = rollbacks.pacer("sandboxwiki", gateway)
    pacer.limits, pacer.read_at = AccountLimits("Bot", RateLimit(2, 60.0)), mono[0]  # read: no API call
    edits = [_change(100 + k, wall[0]) for k in range(4)]
    for change in edits[:2]:
        assert rollbacks.hold(change, "summary", 0, gateway, max_edit_age_minutes=3) is None
        rollbacks.sent("sandboxwiki")
    reason = rollbacks.hold(edits[2], "summary", 0, gateway, max_edit_age_minutes=3)
    assert reason is not None and reason.startswith("paced: the account's rollback limit (2 per 60 s)")
    refused = rollbacks.hold(edits[3], "summary", 0, gateway, max_edit_age_minutes=3, refused=True)
    assert refused is not None and refused.startswith("ratelimited:")
    assert [p.attempts for p in rollbacks.waiting] == [0, 0], "waiting for a slot is not a failed attempt"
    assert rollbacks.status("sandboxwiki") == {"rate_limited": pacer.limits.advice(), "rollbacks_waiting": 2}

    mono[0] += 63.0
    wall[0] += 63.0
    due = rollbacks.due()
    assert [p.change.rev_id for p in due] == [102, 103], "oldest edit first"
    assert not rollbacks.still_paced(due[0], gateway, 3), "the first slot is free again"
    rollbacks.sent("sandboxwiki")
    rollbacks.sent("sandboxwiki")  # a new candidate's rollback took the other free slot meanwhile
    assert rollbacks.still_paced(due[1], gateway, 3), "the second waits on for the next slot, silently"
    assert rollbacks.expired(due[1], 3) is None

    mono[0] += 200.0
    wall[0] += 200.0  # the edit is now older than 3 minutes
    (late,) = rollbacks.due()
    assert "older than 3 minutes" in (rollbacks.expired(late, 3) or "")


def test_a_burst_past_the_default_rollback_limit_is_fully_reverted_while_the_edits_are_young(
        sandbox, wiki, liftwing, unique_title, gateway, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, {**REVERTING, "max_edit_age_minutes": 10, "max_reverts_per_hour": 100})
    # Twenty: ten sent at once, ten paced into the next window (the assertion below counts them).
    pages = [f"{unique_title} {k}" for k in range(20)]
    for page in pages:
        admin.edit(page, "Stable text.")
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    data = yaml.safe_load(settings.read_text())
    data["health"] = {"interval_seconds": 1}  # so that `automod status` sees the limit at once
    write_settings(settings, data)
    extra = sandbox.dir / "conf/extra.php"
    previous = extra.read_text()
    extra.write_text(DEFAULT_BOT_LIMITS)
    bot = None
    try:
        bot = launch_bot(sandbox, tmp_path, settings)
        started = time.monotonic()
        made = [vandal.edit(page, "Stable text. VANDALISM") for page in pages]
        assert time.monotonic() - started < 60, "a burst within one minute"
        status = wait_for(lambda: (r := _status(settings)).returncode == 0 and json.loads(r.stdout)["notes"] and r,
                          timeout=20)
        assert "lacks the noratelimit right" in status.stderr and "ask the wiki's bureaucrats" in status.stderr
        assert json.loads(status.stdout)["wikis"]["sandboxwiki"]["rate_limited"].startswith(sandbox.bot.name)

        def settled() -> bool:
            return all(bot.decisions(r) and bot.decisions(r)[-1]["decision"] != "rollback-pending" for r in made)
        wait_for(settled, timeout=300, interval=0.5)  # 20 at 10 a minute: about one minute
        print(f"\n{len(made)} rollbacks at the default limit settled {time.monotonic() - started:.0f} s "
              "after the burst began")
        with Store(tmp_path / "stats.sqlite") as store:  # the statistics page says it too
            publish_day(gateway, store, "sandboxwiki", f"{unique_title} statistics", date.today())
    finally:
        extra.write_text(previous)
        if bot is not None:
            bot.stop()
    outcomes = [bot.decisions(r)[-1]["decision"] for r in made]
    assert outcomes == ["reverted"] * len(made), outcomes
    assert not [line for line in bot.lines if line["decision"] == "rollback-failed"]
    paced = [line for line in bot.lines if line["decision"] == "rollback-pending"]
    # Most waits are the pacer's own; on a loaded machine a refusal or a slow check may add a
    # few others (re-queued too), but none of them may end the rollback.
    assert len([line for line in paced if line["reason"].startswith("paced:")]) >= 10, paced[:3]
    for page in pages:
        assert top_revision(admin, page)["user"] == sandbox.bot.name
    assert "lacks the noratelimit right" in bot.log.read_text(), "the operator is told at start"
    stats_page = admin.revisions(f"{unique_title} statistics", limit=1)[0]["slots"]["main"]["content"]
    assert "lacks the noratelimit right" in stats_page and "ask the wiki's bureaucrats" in stats_page
