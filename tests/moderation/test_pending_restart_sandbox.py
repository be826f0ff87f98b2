"""Rollbacks left waiting in memory (rate limit, passing refusal) are queued again after a
restart: the stream position is already past those edits, so nothing else would revert them."""

from __future__ import annotations

import signal
import time

import pytest

from automod.moderation.restart import change_from_row
from automod.moderation.rollback import RollbackQueue
from automod.records import Outcome, Verdict
from automod.store import DecidedEdit, Store
from support.moderation_helpers import (
    REVERTING,
    bot_settings,
    launch_bot,
    set_config,
    start_at_stream_end,
    top_revision,
)
from support.relay_helpers import wait_for
from support.wiki import DEFAULT_BOT_LIMITS

MODEL = "revertrisk-language-agnostic"


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def test_a_requeued_rollback_is_due_at_once_and_sent_only_while_its_edit_is_young(tmp_path):
    edited = 1_714_557_600.0  # 2024-05-01T10:00:00Z
    wall = [edited + 60]
    with Store(tmp_path / "automod.sqlite") as store:
        for rev, dt in ((7, _iso(edited)), (8, "not a time")):
            store.record_decision(DecidedEdit(wiki="sandboxwiki", rev_id=rev, parent_id=rev - 1, title=f"Page {rev}",
                                              user="Vandal", event_dt=dt),
                                  Verdict(Outcome.ROLLBACK_PENDING, probability=0.995, model=MODEL))
        rows = store.decisions_with_outcome("sandboxwiki", "rollback-pending")
    changes = {c.rev_id: c for c in map(change_from_row, rows)}
    young, unknown = changes[7], changes[8]
    assert (young.wiki, young.title, young.user, young.parent_id, young.timestamp) == (
        "sandboxwiki", "Page 7", "Vandal", 6, int(edited))
    queue = RollbackQueue(clock=lambda: 100.0, wall=lambda: wall[0])
    queue.resume(young, "summary")
    queue.resume(unknown, "summary")
    due = queue.due()
    assert [(p.change.rev_id, p.attempts, p.summary) for p in due] == [(8, 0, "summary"), (7, 0, "summary")]
    assert queue.expired(due[1], 10) is None, "one minute old: still sent"
    assert "older than 10 minutes" in (queue.expired(due[0], 10) or ""), "an edit of unknown age is never sent"
    wall[0] = edited + 11 * 60
    assert "older than 10 minutes" in (queue.expired(due[1], 10) or "")


@pytest.mark.sandbox
def test_waiting_rollbacks_recorded_before_a_stop_go_through_the_same_checks_after_it(
        sandbox, wiki, liftwing, unique_title, bot_factory, tmp_path):
    admin, vandal, as_bot = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.bot)
    set_config(admin, {**REVERTING, "max_edit_age_minutes": 10})
    pages = {k: f"{unique_title} {k}" for k in ("young", "done", "old", "fixed")}
    parents = {k: admin.edit(page, "Stable text.") for k, page in pages.items()}
    revs = {k: vandal.edit(page, "Stable text. VANDALISM") for k, page in pages.items()}
    earlier = as_bot.rollback(pages["done"], sandbox.vandals[0].name, "sent just before the stop")["revid"]
    fixed_by_admin = admin.edit(pages["fixed"], "Stable text. Fixed by an admin.")
    start_at_stream_end(sandbox, tmp_path)  # the stream is past these edits, as after a real stop
    now = time.time()
    with Store(tmp_path / "automod.sqlite") as store:  # what a stop leaves of rollbacks waiting in memory
        for key, rev in revs.items():
            store.record_decision(DecidedEdit(wiki="sandboxwiki", rev_id=rev, parent_id=parents[key],
                                              title=pages[key], user=sandbox.vandals[0].name,
                                              event_dt=_iso(now - (1800 if key == "old" else 0))),
                                  Verdict(Outcome.ROLLBACK_PENDING, reason="paced: …", probability=0.995,
                                          threshold=0.99, model=MODEL))
    bot = bot_factory(fresh_position=False)
    lines = {key: bot.decision(rev) for key, rev in revs.items()}
    bot.stop()

    revert = top_revision(admin, pages["young"])
    assert (lines["young"]["decision"], lines["young"]["revert_rev_id"]) == ("reverted", revert["revid"])
    assert revert["user"] == sandbox.bot.name and revert["slots"]["main"]["content"] == "Stable text."
    assert f"score 0.995 with {MODEL}" in revert["comment"], "the summary is written as at the first attempt"
    assert (lines["done"]["decision"], lines["done"]["revert_rev_id"]) == ("reverted", earlier)
    assert lines["old"]["decision"] == "rollback-expired"
    assert top_revision(admin, pages["old"])["revid"] == revs["old"], "too old by then: left to humans"
    assert (lines["fixed"]["decision"], lines["fixed"]["reason"]) == ("rollback-abandoned", "not-top-editor")
    assert top_revision(admin, pages["fixed"])["revid"] == fixed_by_admin
    reverts = {k: [r["user"] for r in admin.revisions(page)].count(sandbox.bot.name) for k, page in pages.items()}
    assert reverts == {"young": 1, "done": 1, "old": 0, "fixed": 0}, "nothing reverted twice"
    assert "3 rollbacks left waiting by the last run queued again (1 found done before the stop)" \
        in bot.log.read_text()
    with Store(tmp_path / "automod.sqlite") as store:
        assert store.decisions_with_outcome("sandboxwiki", "rollback-pending") == []
        assert store.rollback_of("sandboxwiki", revs["done"]) == earlier


@pytest.mark.sandbox
def test_a_burst_past_the_rollback_limit_is_fully_reverted_across_a_sigterm_and_a_kill_9(
        sandbox, wiki, liftwing, unique_title, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, {**REVERTING, "max_edit_age_minutes": 10, "max_reverts_per_hour": 100})
    pages = [f"{unique_title} {k}" for k in range(8)]
    for page in pages:
        admin.edit(page, "Stable text.")
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    extra = sandbox.dir / "conf/extra.php"
    previous = extra.read_text()
    # A production bot's limits, with a shorter rollback window (4 in 15 s, not 10 in 60 s):
    # the same waiting for slots, a quarter of the test's time.
    limits = DEFAULT_BOT_LIMITS.replace("['rollback']['user'] = [ 10, 60 ]", "['rollback']['user'] = [ 4, 15 ]")
    assert limits != DEFAULT_BOT_LIMITS
    extra.write_text(limits)
    bots = []

    def last(rev: int) -> dict:
        return next(b.decisions(rev)[-1] for b in reversed(bots) if b.decisions(rev))

    try:
        bots.append(first := launch_bot(sandbox, tmp_path, settings))
        made = [vandal.edit(page, "Stable text. VANDALISM") for page in pages]
        wait_for(lambda: all(first.decisions(r) for r in made), timeout=60)  # every edit decided once
        first.stop()  # SIGTERM, as for a deploy
        with Store(tmp_path / "automod.sqlite") as store:
            waiting = {row.rev_id for row in store.decisions_with_outcome("sandboxwiki", "rollback-pending")}
        assert waiting and waiting <= set(made), "the burst outran the limit: rollbacks were waiting at the stop"

        bots.append(second := launch_bot(sandbox, tmp_path, settings, fresh_position=False))
        assert f"{len(waiting)} rollbacks left waiting by the last run queued again" in second.log.read_text()
        wait_for(lambda: any(second.decisions(r) for r in waiting), timeout=60)  # one was tried again
        second.stop(signal.SIGKILL)  # no chance to save anything more

        bots.append(third := launch_bot(sandbox, tmp_path, settings, fresh_position=False))
        wait_for(lambda: all(last(r)["decision"] != "rollback-pending" for r in made), timeout=150, interval=0.5)
        third.stop()
        print(f"\n{len(waiting)} waiting at the SIGTERM; the kill -9 run said "
              f"{[line['decision'] for line in second.lines if line['rev_id'] in waiting]}")
    finally:
        extra.write_text(previous)
        for bot in bots:
            bot.stop()
    assert {r: last(r)["decision"] for r in made} == {r: "reverted" for r in made}
    assert all(any(line["decision"] == "reverted" for bot in bots[1:] for line in bot.decisions(r)) for r in waiting), \
        "the rollbacks waiting at the stop were sent after the restart"
    with Store(tmp_path / "automod.sqlite") as store:
        assert store.decisions_with_outcome("sandboxwiki", "rollback-pending") == []
        assert {store.decision("sandboxwiki", r).outcome for r in made} == {"reverted"}
        for rev in made:
            done = [a for a in store.actions_for("sandboxwiki", rev) if a.kind == "rollback" and a.result == "done"]
            assert len(done) == 1, (rev, store.actions_for("sandboxwiki", rev))
    for page in pages:
        history = admin.revisions(page)
        assert [r["user"] for r in history].count(sandbox.bot.name) == 1, f"{page}: reverted once, not twice"
        assert history[0]["user"] == sandbox.bot.name and history[0]["slots"]["main"]["content"] == "Stable text."
