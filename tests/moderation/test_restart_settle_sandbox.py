"""Rollbacks a crash left unknown (``reverting``): one the restart finds done gets its notice
and its output line, as any rollback does (issue 15); one not done is sent again through the
checks every waiting rollback passes, so vandalism is not left up and nothing is undone twice."""

from __future__ import annotations

import time

import pytest

from automod.records import Outcome, Verdict
from automod.store import DecidedEdit, Store
from support.moderation_helpers import REVERTING, set_config, start_at_stream_end, top_revision

pytestmark = pytest.mark.sandbox
MODEL = "revertrisk-language-agnostic"


def test_a_rollback_settled_after_restart_gets_its_notice_and_line(sandbox, wiki, unique_title, bot_factory,
                                                                   tmp_path):
    admin, vandal, as_bot = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(sandbox.bot)
    set_config(admin, {**REVERTING, "talk_notice": {"enabled": True},
                       "false_positive_page": f"User:{sandbox.bot.name}/False positives"})
    admin.edit(unique_title, "Stable text.")
    rev = vandal.edit(unique_title, "Stable text. VANDALISM")
    revert = as_bot.rollback(unique_title, sandbox.vandals[1].name, "rolled back just before a crash")["revid"]
    start_at_stream_end(sandbox, tmp_path)
    with Store(tmp_path / "automod.sqlite") as store:  # what a crash mid-rollback leaves behind
        store.record_decision(DecidedEdit(wiki="sandboxwiki", rev_id=rev, parent_id=rev - 1, title=unique_title,
                                          user=sandbox.vandals[1].name, event_dt="2024-05-01T10:00:00Z"),
                              Verdict(Outcome.REVERTING))
    bot = bot_factory(fresh_position=False)
    line = bot.decision(rev)
    assert (line["decision"], line["revert_rev_id"]) == ("reverted", revert)
    bot.stop()
    with Store(tmp_path / "automod.sqlite") as store:
        notices = [a for a in store.actions_for("sandboxwiki", rev) if a.kind == "notice"]
    assert [a.result for a in notices] in (["new-section"], ["follow-up"])
    talk = admin.revisions(f"User talk:{sandbox.vandals[1].name}", limit=1)[0]
    assert str(rev) in talk["slots"]["main"]["content"]


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def test_a_rollback_a_crash_cut_short_is_sent_after_restart_once_and_only_if_still_right(
        sandbox, wiki, unique_title, bot_factory, tmp_path):
    """A kill -9 between the intent and the rollback's result must not leave vandalism up, nor
    let the bot act twice when the first rollback landed after all."""
    admin, vandal, as_bot = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(sandbox.bot)
    name = sandbox.vandals[1].name
    set_config(admin, {**REVERTING, "max_edit_age_minutes": 10})
    pages = {k: f"{unique_title} {k}" for k in ("young", "done", "overtaken", "old", "twice")}
    parents = {k: admin.edit(page, "Stable text.") for k, page in pages.items()}
    revs = {k: vandal.edit(page, "Stable text. VANDALISM") for k, page in pages.items()}
    later = vandal.edit(pages["twice"], "Stable text. VANDALISM VANDALISM")  # its decision owns the rollback
    earlier = as_bot.rollback(pages["done"], name, "sent just before the crash")["revid"]
    both = as_bot.rollback(pages["twice"], name, "undid both edits, recorded for the later one")["revid"]
    fixed = admin.edit(pages["overtaken"], "Stable text. Fixed by an admin.")
    start_at_stream_end(sandbox, tmp_path)  # the stream is past these edits, as after a real crash
    now = time.time()
    with Store(tmp_path / "automod.sqlite") as store:  # what a crash between intent and result leaves
        for key, rev in revs.items():
            store.record_decision(DecidedEdit(wiki="sandboxwiki", rev_id=rev, parent_id=parents[key],
                                              title=pages[key], user=name,
                                              event_dt=_iso(now - (1800 if key == "old" else 0))),
                                  Verdict(Outcome.REVERTING, reason="above-threshold", probability=0.995,
                                          threshold=0.99, model=MODEL))
        store.record_decision(DecidedEdit(wiki="sandboxwiki", rev_id=later, parent_id=revs["twice"],
                                          title=pages["twice"], user=name, event_dt=_iso(now)),
                              Verdict(Outcome.REVERTED, probability=0.995, model=MODEL))
        store.record_action("sandboxwiki", later, "rollback", "done", both)
    bot = bot_factory(fresh_position=False)
    lines = {key: bot.decision(rev) for key, rev in revs.items()}
    bot.stop()

    revert = top_revision(admin, pages["young"])
    assert (lines["young"]["decision"], lines["young"]["revert_rev_id"]) == ("reverted", revert["revid"])
    assert revert["user"] == sandbox.bot.name and revert["slots"]["main"]["content"] == "Stable text."
    assert f"score 0.995 with {MODEL}" in revert["comment"], "the summary is written as before the crash"
    assert (lines["done"]["decision"], lines["done"]["revert_rev_id"]) == ("reverted", earlier)
    assert (lines["overtaken"]["decision"], lines["overtaken"]["reason"]) == ("rollback-abandoned", "not-top-editor")
    assert top_revision(admin, pages["overtaken"])["revid"] == fixed, "someone else edited since: left alone"
    assert lines["old"]["decision"] == "rollback-expired"
    assert top_revision(admin, pages["old"])["revid"] == revs["old"], "too old by then: left to humans"
    assert lines["twice"]["decision"] == "rollback-abandoned"
    assert lines["twice"]["reason"] in ("already-reverted", "not-top-editor")
    assert top_revision(admin, pages["twice"])["revid"] == both
    reverts = {k: [r["user"] for r in admin.revisions(page)].count(sandbox.bot.name) for k, page in pages.items()}
    assert reverts == {"young": 1, "done": 1, "overtaken": 0, "old": 0, "twice": 1}, "nothing reverted twice"
    assert "4 rollbacks interrupted by the last stop queued again (1 found done before the stop)" \
        in bot.log.read_text()
    with Store(tmp_path / "automod.sqlite") as store:
        assert store.decisions_with_outcome("sandboxwiki", "reverting") == []
        assert {k: store.decision("sandboxwiki", rev).outcome for k, rev in revs.items()} == {
            "young": "reverted", "done": "reverted", "overtaken": "rollback-abandoned", "old": "rollback-expired",
            "twice": "rollback-abandoned"}
        done = [a.result_rev_id for a in store.actions_for("sandboxwiki", revs["young"])
                if a.kind == "rollback" and a.result == "done"]
        assert done == [revert["revid"]], "one rollback sent and recorded"
