"""Issue 29: MediaWiki's rollback reverts the editor's whole run of consecutive edits. When it
takes an earlier (good, below-threshold) edit with the scored one, the output line, the store,
`automod stats` and the talk-page notice say so, and the earlier edit's own decision becomes
`reverted-with` (a line of its own, its row in the store); with ``revert_method: undo`` only the scored
revision is undone and the earlier edit stays."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from automod.store import Store
from support.moderation_helpers import REVERTING, bot_settings, launch_bot, set_config, top_revision
from support.relay_helpers import wait_for

pytestmark = pytest.mark.sandbox


def _text(client, title: str) -> str:
    """The page's current wikitext ("" while it does not exist)."""
    revisions = client.revisions(title, limit=1)
    return str(revisions[0]["slots"]["main"]["content"]) if revisions else ""


def _good_then_bad(sandbox, wiki, title: str, bot) -> tuple[int, int]:
    """One editor's good edit (decided below threshold), then the same editor's vandalism."""
    editor = wiki(sandbox.vandals[1])
    good = editor.edit(title, "A stable article. With a good new sentence.")
    assert bot.decision(good)["decision"] == "below-threshold"
    bad = editor.edit(title, "A stable article. With a good new sentence. VANDALISM")
    return good, bad


def test_a_rollback_that_took_two_revisions_names_both_in_its_lines_store_stats_and_notice(
        sandbox, wiki, liftwing, unique_title, tmp_path):
    admin = wiki(sandbox.admin)
    set_config(admin, {**REVERTING, "talk_notice": {"enabled": True},
                       "false_positive_page": f"User:{sandbox.bot.name}/False positives"})
    admin.edit(unique_title, "A stable article.")
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    bot = launch_bot(sandbox, tmp_path, settings)
    try:
        good, bad = _good_then_bad(sandbox, wiki, unique_title, bot)
        line = bot.decision(bad, timeout=30)
        assert line["decision"] == "reverted"
        assert line["reverted_rev_ids"] == [good, bad]  # the earlier good edit went with it
        assert _text(admin, unique_title) == "A stable article."
        # the earlier edit no longer reads as left alone: a line of its own says what took it
        earlier = wait_for(lambda: [x for x in bot.decisions(good) if x["decision"] == "reverted-with"], timeout=10)
        assert len(earlier) == 1
        assert earlier[0]["reverted_with"] == bad and earlier[0]["revert_rev_id"] == line["revert_rev_id"]
        assert earlier[0]["reason"].startswith(f"with-r{bad}; was below-threshold")
        assert earlier[0]["probability"] == bot.decisions(good)[0]["probability"]  # its evidence stays
        talk = f"User talk:{sandbox.vandals[1].name}"
        notice = wait_for(lambda: (t := _text(admin, talk)) and f"r{good}]]" in t and t, timeout=20)
        assert f"[[Special:Diff/{good}|r{good}]]" in notice and "earlier edit" in notice
    finally:
        assert bot.stop() == 0
    stats = subprocess.run([sys.executable, "-m", "automod", "stats", "--settings", str(settings),
                            "--wiki", "sandboxwiki"], capture_output=True, text=True, timeout=60)
    assert stats.returncode == 0, stats.stderr
    day = json.loads(stats.stdout)
    assert day["multi_revision_reverts"] == {str(bad): [good, bad]}
    assert day["earlier_revisions_reverted"] == 1
    with Store(tmp_path / "automod.sqlite") as store:
        row = store.decision("sandboxwiki", good)
        assert row is not None and row.outcome == "reverted-with" and row.reason == earlier[0]["reason"]
        assert store.decisions_with_outcome("sandboxwiki", "below-threshold") == []
        assert store.decision("sandboxwiki", bad).outcome == "reverted"


def test_with_revert_method_undo_only_the_scored_revision_is_undone(sandbox, wiki, liftwing, unique_title,
                                                                     bot_factory):
    admin = wiki(sandbox.admin)
    set_config(admin, {**REVERTING, "revert_method": "undo"})
    admin.edit(unique_title, "A stable article.")
    bot = bot_factory()
    good, bad = _good_then_bad(sandbox, wiki, unique_title, bot)
    line = bot.decision(bad, timeout=30)
    assert line["decision"] == "reverted" and line["reverted_rev_ids"] == [bad]
    top = top_revision(admin, unique_title)
    assert top["revid"] == line["revert_rev_id"] and top["user"] == sandbox.bot.name
    assert _text(admin, unique_title) == "A stable article. With a good new sentence."  # the good edit stays
    rc = admin.get(action="query", list="recentchanges", rctitle=unique_title, rcshow="!bot",
                   rcprop="ids", rclimit=10)["query"]["recentchanges"]
    assert top["revid"] in [c["revid"] for c in rc], "the undo must not be bot-flagged"
