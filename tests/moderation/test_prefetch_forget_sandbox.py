"""A queued edit scored ahead (``scoring.max_in_flight``) but then skipped leaves nothing behind
in the bot: its prefetched answer is dropped when it is decided, instead of waiting in the memo for
hundreds of decisions (issue 29: the soak's live-object growth). Built in-process against the
sandbox wiki, so the scorer the moderator holds can be looked at after the decisions."""

from __future__ import annotations

import io
import time

import pytest
import yaml

from automod.moderation.moderator import Moderator
from automod.moderation.prefetch import ConcurrentPrefetch
from automod.records import EventMeta, HandleResult, RecentChange
from automod.settings import load_settings
from automod.store import Store
from support.moderation_helpers import bot_settings, set_config
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


def _change(rev_id: int, parent_id: int, title: str, user: str) -> RecentChange:
    return RecentChange(meta=EventMeta(id="", dt="", domain="", stream=""), wiki="sandboxwiki", server_name="",
                        type="edit", namespace=0, title=title, user=user, bot=False, timestamp=int(time.time()),
                        comment="", minor=False, rc_id=None, rev_id=rev_id, parent_id=parent_id, length_old=None,
                        length_new=None)


def test_a_skipped_edit_scored_ahead_keeps_no_answer_in_the_bot(sandbox, wiki, liftwing, unique_title, tmp_path):
    admin = wiki(sandbox.admin)
    set_config(admin, {"enabled": True, "mode": "log-only", "max_reverts_per_user_per_page": 0,
                       "skip_rights": ["bot", "autopatrol"]})
    editors = [wiki(ip=f"198.51.100.{60 + i}") for i in range(3)]
    changes = []
    for i, editor in enumerate(editors):
        title = f"{unique_title} {i}"
        parent = admin.edit(title, "Stable text.")
        rev = editor.edit(title, f"Stable text. An edit {i}.")
        changes.append(_change(rev, parent, title, editor.name))
        if i != 1:  # someone edited on top: the bot skips it (not-top-editor) after scoring it ahead
            admin.edit(title, f"Stable text. An edit {i}, tidied.")
    path = bot_settings(sandbox, tmp_path, liftwing.url)
    data = yaml.safe_load(path.read_text())
    data["scoring"] = {"max_in_flight": 3}
    write_settings(path, data)
    settings = load_settings(path)
    with Store(settings.store) as store:
        moderator = Moderator(settings, store, io.StringIO(), dry_run=False)
        try:
            served = moderator.wikis["sandboxwiki"]
            served.refresh_config(force=True)
            moderator.prefetch(changes)
            scorers = [s for s in served.scorers_made() if isinstance(s, ConcurrentPrefetch)]
            assert scorers and len(scorers[0]._memo) == 3, "all three were scored ahead"
            assert [moderator.handle(c) for c in changes] == [HandleResult.DECIDED] * 3
            outcomes = [getattr(store.decision("sandboxwiki", c.rev_id), "outcome", None) for c in changes]
            assert outcomes == ["skip", "below-threshold", "skip"], outcomes
            assert len(scorers[0]._memo) == 0, "the skipped edits' answers were dropped, not kept for later"
        finally:
            moderator.close()
