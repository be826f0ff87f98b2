"""A rollback that a crash left unknown and that the restart finds done gets its notice and
its output line, as any rollback does (issue 15)."""

from __future__ import annotations

import pytest
from moderation_helpers import REVERTING, set_config, start_at_stream_end

from automod.store import Store

pytestmark = pytest.mark.sandbox


def test_a_rollback_settled_after_restart_gets_its_notice_and_line(sandbox, wiki, unique_title, bot_factory,
                                                                   tmp_path):
    admin, vandal, as_bot = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(sandbox.bot)
    set_config(admin, {**REVERTING, "talk_notice": {"enabled": True}, "false_positive_page": f"User:{sandbox.bot.name}/False positives"})
    admin.edit(unique_title, "Stable text.")
    rev = vandal.edit(unique_title, "Stable text. VANDALISM")
    revert = as_bot.rollback(unique_title, sandbox.vandals[1].name, "rolled back just before a crash")["revid"]
    start_at_stream_end(sandbox, tmp_path)
    with Store(tmp_path / "automod.sqlite") as store:  # what a crash mid-rollback leaves behind
        store.record_decision(wiki="sandboxwiki", rev_id=rev, parent_id=rev - 1, title=unique_title,
                              user=sandbox.vandals[1].name, event_dt="2024-05-01T10:00:00Z", outcome="reverting")
    bot = bot_factory(fresh_position=False)
    line = bot.decision(rev)
    assert (line["decision"], line["revert_rev_id"]) == ("reverted", revert)
    bot.stop()
    with Store(tmp_path / "automod.sqlite") as store:
        notices = [a for a in store.actions_for("sandboxwiki", rev) if a["kind"] == "notice"]
    assert [a["result"] for a in notices] in (["new-section"], ["follow-up"])
    talk = admin.revisions(f"User talk:{sandbox.vandals[1].name}", limit=1)[0]
    assert str(rev) in talk["slots"]["main"]["content"]
