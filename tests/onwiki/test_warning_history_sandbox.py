"""Warning levels on a busy shared-IP talk page (issue 21), on the real sandbox wiki: the
history is read back to the window's start, not a fixed number of revisions, so a school IP
whose talk page is edited often still climbs the ladder — and a forged level buried deep in
that history still counts for nothing."""

from __future__ import annotations

import uuid

import pytest

from support.moderation_helpers import REVERTING, set_config
from support.patrol import ANON, LEVEL, NOTICES, delete_page, page_text
from support.wiki import WikiClient

pytestmark = pytest.mark.sandbox

FILLER = 64  # talk-page edits after the warning: past the 50 revisions once read


def append(client: WikiClient, title: str, text: str, token: str) -> None:
    """One small edit (the cheapest way to make a long history)."""
    result = client.post(action="edit", title=title, appendtext=text, summary="note", token=token)["edit"]
    assert result.get("result") == "Success", result


def revision_count(client: WikiClient, title: str) -> int:
    page = client.get(action="query", prop="revisions", titles=title, rvprop="ids",
                      rvlimit=500)["query"]["pages"][0]
    return len(page.get("revisions", []))


def test_a_warning_deep_in_a_busy_talk_page_still_escalates_and_a_buried_forgery_does_not(
        sandbox, wiki, unique_title, bot_factory):
    admin, anon = wiki(sandbox.admin), wiki()
    report_page = f"Project:Vandal reports {uuid.uuid4().hex[:8]}"
    set_config(admin, {**REVERTING, **NOTICES, "warnings": {"levels": 4, "window_days": 30},
                       "vandal_report_page": report_page})
    talk = f"User talk:{ANON}"
    delete_page(admin, talk)
    admin.edit(unique_title, "Stable text.")
    token = admin.token()
    try:
        # A patroller (autoconfirmed: trusted) gives level 2, as Twinkle marks it.
        append(admin, talk, "\n== Vandalism ==\n<!-- Template:uw-vandalism2 --> Please stop. ~~~~", token)
        for k in range(FILLER):
            if k == 8:  # an anonymous editor plants a final warning, then others edit on top of it
                append(anon, talk, "\n== Final ==\n<!-- Template:uw-vandalism4 --> Last warning. ~~~~",
                       anon.token())
            append(admin, talk, f"\n* Shared school address, note {k}.", token)
        assert revision_count(admin, talk) == FILLER + 2
        bot = bot_factory()
        assert bot.decision(anon.edit(unique_title, "Stable text. VANDALISM"))["decision"] == "reverted"
        assert LEVEL.findall(page_text(admin, talk) or "") == ["2", "4", "3"], \
            "the bot's notice is level 3: one above the patroller's, 66 revisions back"
        assert page_text(admin, report_page) is None, "the forged final warning got no one reported"
    finally:
        delete_page(admin, talk)


def test_a_patroller_undoing_a_blanking_does_not_launder_the_forged_warning_it_brings_back(
        sandbox, wiki, unique_title, bot_factory):
    """A vandal plants a final warning on an IP's talk page, then blanks the page; a patroller
    undoes the blanking. The patroller's revision "adds" the forged comment back, but it is a
    revert (MediaWiki tags it), so it authors nothing: the IP starts at level 1, unreported."""
    admin, anon = wiki(sandbox.admin), wiki()
    report_page = f"Project:Vandal reports {uuid.uuid4().hex[:8]}"
    set_config(admin, {**REVERTING, **NOTICES, "warnings": {"levels": 4, "window_days": 30},
                       "vandal_report_page": report_page})
    talk = f"User talk:{ANON}"
    delete_page(admin, talk)
    admin.edit(unique_title, "Stable text.")
    try:
        anon.edit(talk, "== Final ==\n<!-- Template:uw-vandalism4 --> Last warning. ~~~~")
        blanked = anon.edit(talk, "")
        undo = admin.post(action="edit", title=talk, undo=blanked, summary="undo blanking", token=admin.token())
        assert undo["edit"]["result"] == "Success", undo
        tags = admin.get(action="query", prop="revisions", titles=talk, rvprop="tags",
                         rvlimit=1)["query"]["pages"][0]["revisions"][0]["tags"]
        assert "mw-undo" in tags, tags
        bot = bot_factory()
        assert bot.decision(anon.edit(unique_title, "Stable text. VANDALISM"))["decision"] == "reverted"
        assert LEVEL.findall(page_text(admin, talk) or "") == ["4", "1"], "the restored forgery counted"
        assert page_text(admin, report_page) is None, "the IP was reported on a forged final warning"
    finally:
        delete_page(admin, talk)
