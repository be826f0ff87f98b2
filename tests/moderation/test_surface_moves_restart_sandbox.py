"""Moves of the bot's pages outlive a restart, and a move of the central shared report page is
caught too (issue 26, item 3, "Moves"): the wikis using a moved page stay off — no reverts,
reports left alone, one note, one log line — until a trusted user saves the config again."""

from __future__ import annotations

import uuid

import pytest

from support.liftwing_standin import running_standin
from support.moderation_helpers import REVERTING, launch_bot, set_config, top_revision
from support.multiwiki import anon, client_for, scorers_for, shared_setup, text_of
from support.relay_helpers import wait_for

pytestmark = pytest.mark.sandbox

CONFIG_TALK = "MediaWiki talk:Automod-config.json"
BLOCK = {"enabled": True, "threshold": 0.9, "max_reverts_per_user_per_page": 0,
         "talk_notice": {"enabled": True, "registered_only": False}}


def notes_naming(text: str, word: str) -> int:
    """How many talk-page sections name ``word``."""
    return sum(1 for section in text.split("\n== ") if word in section)


def move(client, source: str, target: str) -> None:
    client.post(action="move", **{"from": source}, to=target, reason="tidying up", token=client.token())


def test_a_moved_report_page_keeps_the_wiki_off_across_a_restart(sandbox, wiki, unique_title, bot_factory):
    admin, mover = wiki(sandbox.admin), wiki(sandbox.patroller)
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    config = {**REVERTING, "max_reverts_per_user_per_page": 0,
              "talk_notice": {"enabled": True, "registered_only": False}, "false_positive_page": fp_page}
    set_config(admin, config)
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    first = wiki(ip="198.51.100.101").edit(unique_title, "Stable text. VANDALISM one")
    assert bot.decision(first)["decision"] == "reverted"
    revert = top_revision(admin, unique_title)["revid"]
    mine = f"User:{sandbox.patroller.name}/Reports {unique_title[-8:]}"
    try:
        # Step one: an autoconfirmed account moves the report page into its user space.
        move(mover, fp_page, mine)
        wait_for(lambda: unique_title[-8:] in text_of(admin, CONFIG_TALK), timeout=20)
        # Step two: the bot restarts (an upgrade, a crash) from after the move event.
        bot.stop()
        bot = bot_factory()
        second = wiki(ip="198.51.100.102").edit(unique_title, "Stable text. VANDALISM two")
        line = bot.decision(second)
        assert line["decision"] == "disabled" and mine in line["reason"], line
        assert "VANDALISM two" in text_of(admin, unique_title)
        # A reviewer's confirmation on the moved page is not acted on after the restart either.
        admin.edit(mine, text_of(admin, mine) + f"\n== Revert of r{first} ==\n"
                   f"<!-- automod-report rev={first} -->\nIt was fine. ~~~~\n")
        wiki(ip="198.51.100.103").post(action="edit", title=fp_page, section="new", sectiontitle=f"Revert of r{first}",
                                       text=f"<!-- automod-report rev={first} -->\nFine. ~~~~",
                                       token=wiki(ip="198.51.100.103").token())
        wait_for(lambda: "left alone" in bot.log.read_text(), timeout=30)
        assert f"automod — revision {first} " not in text_of(admin, fp_page)
        assert notes_naming(text_of(admin, CONFIG_TALK), unique_title[-8:]) == 1, "one note per move"

        # Set right: the config saved again at its title (and naming a report page it owns).
        set_config(admin, {**config, "false_positive_page": f"{fp_page} new",
                           "summary": f"Revert {uuid.uuid4().hex[:6]}"})
        third = wiki(ip="198.51.100.104").edit(unique_title, "Stable text. VANDALISM three")
        assert bot.decision(third)["decision"] == "reverted"
        # ... and stays set right across the next restart.
        bot.stop()
        bot = bot_factory()
        fourth = wiki(ip="198.51.100.105").edit(unique_title, "Stable text. VANDALISM four")
        assert bot.decision(fourth)["decision"] == "reverted"
        assert top_revision(admin, unique_title)["revid"] not in (revert, fourth)
    finally:
        set_config(admin, REVERTING)


def test_moving_the_shared_report_page_turns_off_the_wikis_using_it(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    setup = shared_setup(info, tmp_path, {second.name: BLOCK})
    shared, uid = setup.shared, setup.uid
    central_admin, admin2 = client_for(info, first, info.admin), client_for(info, second, info.admin)
    mover = client_for(info, first, info.patroller)
    pages = [f"Shared move {uid} {i}" for i in range(4)]
    for page in pages:
        admin2.edit(page, "Stable text.")
    central_talk = f"MediaWiki talk:Automod-local-{uid}.json"  # the central wiki's own config page's talk
    mine = f"User:{info.patroller.name}/Reports {uid}"
    with running_standin(score_function=scorers_for(info)) as liftwing:
        settings = setup.settings(liftwing.url)
        bot = launch_bot(info, tmp_path, settings)
        try:
            bad = anon(info, second, "198.51.100.110").edit(pages[0], "Stable text. VANDALISM 0")
            assert bot.decision(bad, timeout=20, wiki=second.name)["decision"] == "reverted"
            revert = top_revision(admin2, pages[0])["revid"]
            wait_for(lambda: "automod-report" in text_of(central_admin, f"{shared}/Preload"), timeout=30)

            # An autoconfirmed account moves the shared page into its user space.
            move(mover, shared, mine)
            wait_for(lambda: mine in bot.log.read_text(), timeout=20)
            wait_for(lambda: uid in text_of(central_admin, central_talk), timeout=20)
            probe = anon(info, second, "198.51.100.111").edit(pages[1], "Stable text. VANDALISM 1")
            line = bot.decision(probe, timeout=20, wiki=second.name)
            assert line["decision"] == "disabled" and mine in line["reason"], line
            assert "VANDALISM 1" in text_of(admin2, pages[1])

            # A report under the redirect is not answered; a confirmation on the moved page restores nothing.
            reporter = anon(info, first, "198.51.100.112")
            reporter.post(action="edit", title=shared, section="new", sectiontitle=f"{second.name}: r{bad}",
                          text=f"<!-- automod-report rev={bad} wiki={second.name} -->\nFine. ~~~~",
                          token=reporter.token())
            wait_for(lambda: "shared report page edit" in bot.log.read_text(), timeout=30)
            assert f"automod — revision {bad} " not in text_of(central_admin, shared)
            assert top_revision(admin2, pages[0])["revid"] == revert

            said = f"was moved to {mine} by {info.patroller.name}; every wiki using it"
            assert bot.log.read_text().count(said) == 1, "one log line"

            # A restart keeps the wikis using it off.
            bot.stop()
            bot = launch_bot(info, tmp_path, settings)
            probe = anon(info, second, "198.51.100.113").edit(pages[2], "Stable text. VANDALISM 2")
            line = bot.decision(probe, timeout=20, wiki=second.name)
            assert line["decision"] == "disabled" and mine in line["reason"], line
            assert notes_naming(text_of(central_admin, central_talk), uid) == 1, "one note per move"

            # Set right: an administrator saves the central page again (naming a shared page it owns).
            central_admin.edit(f"{shared} 2", "Reports about the small wikis.\n")
            set_config(central_admin, {"defaults": {"mode": "revert", "max_reverts_per_user_per_page": 1,
                                                    "skip_rights": ["bot", "autopatrol"]},
                                       "wikis": {second.name: BLOCK}, "shared_false_positive_page": f"{shared} 2"},
                       setup.central_page)
            later = anon(info, second, "198.51.100.114")

            def reverted_again() -> bool:
                rev = later.edit(pages[3], f"Stable text. VANDALISM 3 {uuid.uuid4().hex[:6]}")
                return bot.decision(rev, timeout=20, wiki=second.name)["decision"] == "reverted"
            wait_for(reverted_again, timeout=60)
        finally:
            bot.stop()
