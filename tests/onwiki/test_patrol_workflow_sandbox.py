"""What patrollers expect of an anti-vandalism bot (issue 21), on the real sandbox wiki:
exclusion compliance, escalating warnings, reports to administrators, trust by experience."""

from __future__ import annotations

import uuid

import pytest

from support.moderation_helpers import REVERTING, set_config, top_revision
from support.patrol import ANON, LEVEL, NOTICES, delete_page, fresh_account, page_text

pytestmark = pytest.mark.sandbox


def test_bots_exclusion_is_honoured_on_talk_pages_and_parent_revisions_only(sandbox, wiki, unique_title, bot_factory):
    admin, anon, vandal = wiki(sandbox.admin), wiki(), wiki(sandbox.vandals[0])
    set_config(admin, {**REVERTING, **NOTICES, "max_reverts_per_user_per_page": 0})
    talk = f"User talk:{ANON}"
    delete_page(admin, talk)
    optout = admin.edit(talk, "{{nobots}}\nPlease no bot messages here.")
    pages = {k: f"{unique_title} {k}" for k in ("talk", "parent", "added")}
    admin.edit(pages["talk"], "Stable text.")
    admin.edit(pages["parent"], "{{nobots}} Stable text.")
    admin.edit(pages["added"], "Stable text.")
    try:
        bot = bot_factory()
        reverted = anon.edit(pages["talk"], "Stable text. VANDALISM")
        assert bot.decision(reverted)["decision"] == "reverted"
        assert top_revision(admin, talk)["revid"] == optout, "no notice on a {{nobots}} talk page"

        excluded = vandal.edit(pages["parent"], "{{nobots}} Stable text. VANDALISM")
        assert (bot.decision(excluded)["decision"], bot.decision(excluded)["reason"]) == ("skip", "excluded-by-page")
        assert top_revision(admin, pages["parent"])["revid"] == excluded

        escaped = vandal.edit(pages["added"], "{{nobots}} Stable text. VANDALISM")
        assert bot.decision(escaped)["decision"] == "reverted", "a vandal cannot opt out by adding {{nobots}}"
        assert page_text(admin, pages["added"]) == "Stable text."
    finally:
        delete_page(admin, talk)


def test_warnings_escalate_across_pages_and_the_fifth_revert_is_reported_once(sandbox, wiki, unique_title, bot_factory):
    admin, anon = wiki(sandbox.admin), wiki()
    report_page = f"Project:Vandal reports {uuid.uuid4().hex[:8]}"
    config = {**REVERTING, **NOTICES, "warnings": {"levels": 4, "window_days": 30}, "vandal_report_page": report_page}
    set_config(admin, config)
    talk = f"User talk:{ANON}"
    delete_page(admin, talk)
    pages = [f"{unique_title} {k}" for k in range(6)]
    for page in pages:
        admin.edit(page, "Stable text.")
    bot = bot_factory()
    for page in pages[:5]:
        assert bot.decision(anon.edit(page, "Stable text. VANDALISM"))["decision"] == "reverted"
    levels = [int(n) for n in LEVEL.findall(page_text(admin, talk) or "")]
    assert levels[:4] == [1, 2, 3, 4]
    report = page_text(admin, report_page) or ""
    assert len([line for line in report.splitlines() if ANON in line]) == 1, report

    bot.stop()  # a restart must not report the same editor again within the window
    bot = bot_factory()
    assert bot.decision(anon.edit(pages[5], "Stable text. VANDALISM"))["decision"] == "reverted"
    assert page_text(admin, report_page) == report
    delete_page(admin, talk)


def test_a_planted_final_warning_does_not_raise_the_level(sandbox, wiki, unique_title, bot_factory):
    admin, anon = wiki(sandbox.admin), wiki()
    editor = fresh_account(sandbox)
    report_page = f"Project:Vandal reports {uuid.uuid4().hex[:8]}"
    set_config(admin, {**REVERTING, **NOTICES, "warnings": {"levels": 4, "window_days": 30},
                       "vandal_report_page": report_page})
    talk = f"User talk:{editor.name}"
    anon.edit(talk, "== Warning ==\n<!-- Template:uw-vandalism4 --> Final warning. ~~~~")
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    assert bot.decision(editor.edit(unique_title, "Stable text. VANDALISM"))["decision"] == "reverted"
    assert LEVEL.findall(page_text(admin, talk) or "") == ["4", "1"], "the bot's notice is a first warning"
    assert page_text(admin, report_page) is None, "no report after one revert"


def test_experienced_editors_are_left_alone_and_newcomers_are_not(sandbox, wiki, unique_title, bot_factory):
    admin = wiki(sandbox.admin)
    set_config(admin, {**REVERTING, "skip_editors_with_edits_at_least": 3, "max_reverts_per_user_per_page": 0,
                       "skip_editors_min_account_days": 0})  # sandbox accounts are minutes old
    veteran, newcomer = fresh_account(sandbox), fresh_account(sandbox)
    for k in range(3):  # article edits nobody reverted (userspace edits no longer count)
        veteran.edit(f"{unique_title} notes {k}", f"Note {k}.")
    pages = [f"{unique_title} {k}" for k in "AB"]
    for page in pages:
        admin.edit(page, "Stable text.")
    bot = bot_factory()
    kept = veteran.edit(pages[0], "Stable text. VANDALISM")
    assert (bot.decision(kept)["decision"], bot.decision(kept)["reason"]) == ("skip", "experienced-editor")
    assert bot.decision(newcomer.edit(pages[1], "Stable text. VANDALISM"))["decision"] == "reverted"
