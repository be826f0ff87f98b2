"""Decide and act, end to end: the real bot against the sandbox MediaWiki and a Lift Wing
stand-in that reads revisions from that wiki (see moderation_helpers.score_from_wiki)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from automod.records import Outcome, Verdict
from automod.store import DecidedEdit, Store
from support.moderation_helpers import (
    REVERTING,
    bot_settings,
    set_config,
    start_at_stream_end,
    top_revision,
)
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox




def test_two_bad_ip_edits_are_undone_by_one_rollback_that_is_not_bot_flagged(sandbox, wiki, liftwing, unique_title,
                                                                             bot_factory):
    admin, anon = wiki(sandbox.admin), wiki()
    set_config(admin, REVERTING)
    good = wiki(sandbox.vandals[1]).edit(unique_title, "A good article.")
    bot = bot_factory()
    liftwing.hang_next(0.4)  # Lift Wing's usual latency: the second edit lands meanwhile
    first = anon.edit(unique_title, "A good article. VANDALISM one")
    second = anon.edit(unique_title, "A good article. VANDALISM one and two")
    second_saved = time.monotonic()
    wait_for(lambda: top_revision(admin, unique_title)["user"] == sandbox.bot.name, timeout=5)
    reverted_at = time.monotonic()
    assert reverted_at - second_saved < 3.0

    history = admin.revisions(unique_title)
    revert = history[0]
    assert "mw-rollback" in revert["tags"] and revert["slots"]["main"]["content"] == "A good article."
    assert [r["revid"] for r in history[1:]] == [second, first, good]  # one rollback undid both
    rc = admin.get(action="query", list="recentchanges", rctitle=unique_title, rcshow="!bot",
                   rcprop="ids|user|flags", rclimit=10)["query"]["recentchanges"]
    assert revert["revid"] in [c["revid"] for c in rc], "the revert must not be bot-flagged"

    line = bot.decision(first)
    assert line["decision"] == "reverted" and line["probability"] == 0.995 and line["threshold"] == 0.99
    assert line["revert_rev_id"] == revert["revid"] and line["config_rev"] is not None
    assert bot.decision(second)["decision"] in ("skip",)  # already undone by the same rollback

    # The same IP vandalises the page again: with the cap at 1 per 24 h, the bot leaves it.
    third = anon.edit(unique_title, "A good article. VANDALISM again")
    line = bot.decision(third)
    assert (line["decision"], line["reason"]) == ("skip", "cap-reached")
    assert top_revision(admin, unique_title)["revid"] == third


def test_untouched_edits_carry_their_reasons(sandbox, wiki, liftwing, unique_title, bot_factory, tmp_path):
    admin, patroller = wiki(sandbox.admin), wiki(sandbox.patroller)
    vandal1, vandal2 = wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1])
    set_config(admin, REVERTING)
    start_at_stream_end(sandbox, tmp_path)  # the bot is not running while these edits happen
    t = {k: f"{unique_title} {k}" for k in ("trusted", "new", "self", "below", "top")}
    for key in ("trusted", "self", "below", "top"):
        admin.edit(t[key], f"Article {key}.")
    trusted = patroller.edit(t["trusted"], "Article trusted. VANDALISM by a patroller")
    created = vandal2.edit(t["new"], "VANDALISM on a new page")
    own = vandal2.edit(t["self"], "Article self. SCORE=0.5 oops")
    self_revert = vandal2.post(action="edit", title=t["self"], undo=own, token=vandal2.token())["edit"]["newrevid"]
    below = vandal1.edit(t["below"], "Article below. SCORE=0.95")
    not_top = vandal1.edit(t["top"], "Article top. VANDALISM")
    admin.edit(t["top"], "Article top. Fixed by an admin.")
    # An edit delivered long after it was made (after an outage): a copy of a real event.
    events = [json.loads(logged).get("event", {}) for logged in sandbox.history.read_text().splitlines()]
    old = next(e for e in events if e.get("revision", {}).get("new") == not_top)
    old["revision"]["new"] = not_top + 100000
    old["timestamp"] -= 1200
    old["meta"]["dt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(old["timestamp"]))
    import requests
    requests.post(f"{sandbox.relay_url}/_control", json={"inject": json.dumps(old)}, timeout=5)

    bot = bot_factory(fresh_position=False)
    expected = {
        trusted: ("skip", "editor-has-right:autopatrol"),
        created: None,  # type "new": not even a candidate (intake)
        self_revert: ("skip", "self-revert"),
        own: ("below-threshold", None),
        below: ("below-threshold", None),
        not_top: ("skip", "not-top-editor"),
        not_top + 100000: ("skip", "too-old"),
    }
    for rev, want in expected.items():
        if want is None:
            continue
        line = bot.decision(rev)
        assert line["decision"] == want[0], line
        if want[1]:
            assert line["reason"] == want[1], line
    assert bot.decisions(created) == []
    assert bot.decision(below)["probability"] == 0.95 and bot.decision(below)["reason"].endswith("<= 0.99")
    for key in ("trusted", "self", "below"):  # nothing was reverted
        assert top_revision(admin, t[key])["user"] != sandbox.bot.name
    with Store(tmp_path / "automod.sqlite") as store:  # every decision is recorded with its reason
        assert (store.decision("sandboxwiki", created).outcome, store.decision("sandboxwiki", created).reason) \
            == ("skip", "page-creation")
        row = store.decision("sandboxwiki", not_top)
        assert row.outcome == "skip" and row.reason == "not-top-editor" and row.config_rev


def test_config_errors_disable_the_wiki_and_a_fix_reenables_it_without_restart(sandbox, wiki, liftwing, unique_title,
                                                                               bot_factory, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    admin.edit(unique_title, "Stable text.")
    set_config(admin, {**REVERTING, "enabled": False})
    bot = bot_factory()
    rev = vandal.edit(unique_title, "Stable text. VANDALISM 1")
    assert bot.decision(rev)["reason"] == "disabled-by-config"

    set_config(admin, {**REVERTING, "threshold": 0.5})  # out of range: the wiki stays off
    rev = vandal.edit(unique_title, "Stable text. VANDALISM 2")
    line = bot.decision(rev)
    assert line["decision"] == "disabled" and "$.threshold" in line["reason"]
    result = subprocess.run([sys.executable, "-m", "automod", "check-config", "--settings",
                             str(sorted(tmp_path.glob("settings*"))[-1]), "--wiki", "sandboxwiki"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Error: $.threshold: should be between 0.85 and 0.999" in result.stderr

    config_rev = set_config(admin, REVERTING)  # fixed: the next bad edit is reverted
    rev = vandal.edit(unique_title, "Stable text. VANDALISM 3")
    line = bot.decision(rev)
    assert line["decision"] == "reverted" and line["config_rev"] == config_rev
    assert top_revision(admin, unique_title)["slots"]["main"]["content"] == "Stable text."
    with Store(tmp_path / "automod.sqlite") as store:
        valid = {r["rev_id"]: r["valid"]
                 for r in sqlite_of(store).execute("SELECT rev_id, valid FROM config_revisions")}
    assert valid[config_rev] == 1 and 0 in valid.values()


def test_a_config_page_ordinary_users_can_edit_is_refused(sandbox, wiki, liftwing, unique_title, bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    page = f"{unique_title} config"
    admin.edit(page, json.dumps(REVERTING))
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory(config_page=page)
    rev = vandal.edit(unique_title, "Stable text. VANDALISM")
    line = bot.decision(rev)
    assert line["decision"] == "disabled" and "ordinary users" in line["reason"]
    assert top_revision(admin, unique_title)["revid"] == rev


def test_blocking_the_bot_stops_reverts_sitewide_or_on_the_blocked_page(sandbox, wiki, liftwing, unique_title,
                                                                        bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    set_config(admin, REVERTING)
    blocked_page, open_page = f"{unique_title} blocked", f"{unique_title} open"
    for page in (blocked_page, open_page):
        admin.edit(page, "Stable text.")
    bot = bot_factory()
    admin.post(action="block", user=sandbox.bot.name, partial=1, pagerestrictions=blocked_page,
               expiry="1 hour", reason="test: partial block", allowusertalk=1, token=admin.token())
    try:
        on_blocked = vandal.edit(blocked_page, "Stable text. VANDALISM")
        on_open = vandal.edit(open_page, "Stable text. VANDALISM")
        assert bot.decision(on_blocked)["reason"] == "bot-blocked"
        assert bot.decision(on_open)["decision"] == "reverted"
        admin.post(action="block", user=sandbox.bot.name, expiry="1 hour", reason="test: sitewide",
                   reblock=1, token=admin.token())
        sitewide = vandal.edit(open_page, "Stable text. VANDALISM again, other user")
        assert bot.decision(sitewide)["reason"] in ("bot-blocked", "cap-reached")
    finally:
        admin.post(action="unblock", user=sandbox.bot.name, token=admin.token())
    assert top_revision(admin, blocked_page)["revid"] == on_blocked


def test_log_only_mode_changes_nothing_and_records_every_would_revert(sandbox, wiki, liftwing, unique_title,
                                                                      bot_factory, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, {**REVERTING, "mode": "log-only"})
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    revs = [vandal.edit(unique_title, f"Stable text. VANDALISM {i}") for i in range(3)]
    lines = [bot.decision(r) for r in revs]
    assert [out["decision"] for out in lines] == ["would-revert", "skip", "skip"]  # then the cap, as reverting would
    assert lines[0]["reason"] == "log-only" and lines[1]["reason"] == "cap-reached"
    assert top_revision(admin, unique_title)["revid"] == revs[-1]
    bot.stop()
    dry = bot_factory("--dry-run")
    set_config(admin, REVERTING)
    other = f"{unique_title} dry"
    admin.edit(other, "Stable text.")
    rev = vandal.edit(other, "Stable text. VANDALISM")
    assert (dry.decision(rev)["decision"], dry.decision(rev)["reason"]) == ("would-revert", "dry-run")
    assert top_revision(admin, other)["revid"] == rev


def test_lift_wing_errors_are_retried_or_recorded_never_lost(sandbox, wiki, liftwing, unique_title, bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0})
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    liftwing.fail_next(500)
    rev = vandal.edit(unique_title, "Stable text. VANDALISM")
    assert bot.decision(rev)["decision"] == "reverted"
    liftwing.fail_next(429, retry_after=1)
    started = time.monotonic()
    rev = vandal.edit(unique_title, "Stable text. VANDALISM twice")
    assert bot.decision(rev)["decision"] == "reverted" and time.monotonic() - started >= 1.0
    rev = vandal.edit(unique_title, "Stable text. UNSCORABLE")
    line = bot.decision(rev)
    assert line["decision"] == "unscorable" and "revision_info_deleted" in line["reason"]
    liftwing.fail_next(503, times=3)  # every attempt of one scoring: decided again later (issue 15)
    rev = vandal.edit(unique_title, "Stable text. VANDALISM once more")
    line = bot.decision(rev, timeout=30)
    assert line["decision"] == "reverted" and [d["decision"] for d in bot.decisions(rev)] == ["reverted"]


def test_kill_9_while_edits_stream_in_reverts_nothing_twice_and_records_everything(sandbox, wiki, liftwing,
                                                                                   unique_title, bot_factory, tmp_path):
    admin = wiki(sandbox.admin)
    editors = [wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1])]
    set_config(admin, REVERTING)
    pages = [f"{unique_title} {i}" for i in range(8)]
    for page in pages:
        admin.edit(page, "Stable text.")
    first = bot_factory()
    made: list[int] = []

    def vandalise() -> None:
        for i, page in enumerate(pages):
            editor = editors[i % 2]
            made.append(editor.edit(page, "Stable text. SCORE=0.3 harmless"))
            made.append(editor.edit(page, "Stable text. VANDALISM"))
            time.sleep(0.15)

    thread = threading.Thread(target=vandalise)
    thread.start()
    wait_for(lambda: len(first.lines) >= 5, timeout=20)
    first.stop(signal.SIGKILL)
    thread.join(60)
    second = bot_factory(fresh_position=False)
    wait_for(lambda: all(second.decisions(r) or first.decisions(r) for r in made), timeout=40)
    second.stop()
    with Store(tmp_path / "automod.sqlite") as store:
        recorded = {r["rev_id"] for r in sqlite_of(store).execute("SELECT rev_id FROM decisions")}
        reverted = sqlite_of(store).execute("SELECT count(*) FROM decisions WHERE outcome = 'reverted'").fetchone()[0]
    assert set(made) <= recorded, "no edit skipped without a record"
    for page in pages:
        bot_revs = [r for r in admin.revisions(page) if r["user"] == sandbox.bot.name]
        assert len(bot_revs) == 1, f"{page}: {len(bot_revs)} reverts"
    assert reverted + sum(1 for out in first.lines + second.lines if out["decision"] == "reverting") >= len(pages) - 1


def test_score_command_prints_the_decision_and_changes_nothing(sandbox, wiki, liftwing, unique_title, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, REVERTING)
    admin.edit(unique_title, "Stable text.")
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    rev = vandal.edit(unique_title, "Stable text. VANDALISM scored by hand")
    result = subprocess.run([sys.executable, "-m", "automod", "score", "--settings", str(settings),
                             "--wiki", "sandboxwiki", str(rev)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["outcome"], report["probability"], report["threshold"]) == ("would-revert", 0.995, 0.99)
    assert top_revision(admin, unique_title)["revid"] == rev


def test_a_rate_limited_rollback_is_retried_later_without_blocking_the_stream(sandbox, wiki, liftwing, unique_title,
                                                                              bot_factory):
    admin, vandal, patroller = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.patroller)
    set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0})
    pages = [f"{unique_title} {k}" for k in "ABC"]
    for page in pages:
        admin.edit(page, "Stable text.")
    extra = sandbox.dir / "conf/extra.php"
    generous = extra.read_text()
    extra.write_text("<?php\n$wgRateLimits['rollback']['user'] = [ 1, 10 ];\n")  # core's is 10/min
    try:
        bot = bot_factory()  # reads the limit at start and paces its rollbacks to it
        first = vandal.edit(pages[0], "Stable text. VANDALISM")
        second = vandal.edit(pages[1], "Stable text. VANDALISM")
        lines = [bot.decision(first, final=False), bot.decision(second, final=False)]
        pending = [out for out in lines if out["decision"] == "rollback-pending"]
        assert pending and pending[0]["reason"].startswith("paced: the account's rollback limit (1 per 10 s)")
        started = time.monotonic()
        meanwhile = patroller.edit(pages[2], "Stable text. A trusted edit.")
        assert bot.decision(meanwhile)["reason"] == "editor-has-right:autopatrol"
        assert time.monotonic() - started < 3, "the stream goes on while a rollback waits"
    finally:
        extra.write_text(generous)
    time.sleep(10.5)  # the next slot comes 10 s (and a bucket) after the first rollback
    patroller.edit(pages[2], "Stable text. Another trusted edit.")
    for line in pending:
        assert bot.decision(line["rev_id"], timeout=20)["decision"] == "reverted"
        assert top_revision(admin, line["title"])["user"] == sandbox.bot.name


def test_rollbacks_left_unknown_by_a_crash_are_settled_on_restart(sandbox, wiki, liftwing, unique_title, bot_factory,
                                                                  tmp_path):
    admin, vandal, as_bot = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.bot)
    set_config(admin, REVERTING)
    done_page, lost_page = f"{unique_title} done", f"{unique_title} lost"
    for page in (done_page, lost_page):
        admin.edit(page, "Stable text.")
    done = vandal.edit(done_page, "Stable text. VANDALISM")
    lost = vandal.edit(lost_page, "Stable text. VANDALISM")
    revert = as_bot.rollback(done_page, sandbox.vandals[0].name, "rolled back just before a crash")["revid"]
    start_at_stream_end(sandbox, tmp_path)
    with Store(tmp_path / "automod.sqlite") as store:  # what a crash mid-rollback leaves behind
        for rev, page in ((done, done_page), (lost, lost_page)):
            store.record_decision(DecidedEdit(wiki="sandboxwiki", rev_id=rev, parent_id=rev - 1, title=page,
                                              user=sandbox.vandals[0].name, event_dt="x"),
                                  Verdict(Outcome.REVERTING))
    bot = bot_factory(fresh_position=False)
    assert bot.decision(lost)["decision"] == "rollback-expired"  # queued again; its age unknown: never sent
    bot.stop()
    with Store(tmp_path / "automod.sqlite") as store:
        assert store.decision("sandboxwiki", done).outcome == "reverted"
        assert store.actions_for("sandboxwiki", done)[0].result_rev_id == revert
        assert store.decision("sandboxwiki", lost).outcome == "rollback-expired"
    assert top_revision(admin, lost_page)["revid"] == lost
