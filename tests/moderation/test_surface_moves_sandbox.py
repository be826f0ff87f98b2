"""A move of one of the bot's own pages is noticed from the move log within one stream event
(issue 26, item 3): the wiki is off — no reverts, reports left alone, one note on the config
talk page — until the config page is saved again at its title with a valid config (only those
who may edit the config page can do that)."""

from __future__ import annotations

import uuid

import pytest

from support.moderation_helpers import CONFIG_PAGE, REVERTING, set_config, top_revision
from support.relay_helpers import wait_for

pytestmark = pytest.mark.sandbox

CONFIG_TALK = "MediaWiki talk:Automod-config.json"


def page_text(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def move(client, source: str, target: str) -> None:
    client.post(action="move", **{"from": source}, to=target, reason="tidying up", token=client.token())


def test_moving_the_config_page_away_stops_reverting_at_once(sandbox, wiki, unique_title, bot_factory):
    admin = wiki(sandbox.admin)
    set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0})
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    first = wiki(ip="198.51.100.81").edit(unique_title, "Stable text. VANDALISM one")
    assert bot.decision(first)["decision"] == "reverted"
    away = f"MediaWiki:Automod-config-old-{uuid.uuid4().hex[:8]}.json"
    try:
        move(admin, CONFIG_PAGE, away)
        second = wiki(ip="198.51.100.82").edit(unique_title, "Stable text. VANDALISM two")
        line = bot.decision(second)
        assert line["decision"] == "disabled" and "moved to" in line["reason"] and away in line["reason"], line
        assert "VANDALISM two" in page_text(admin, unique_title)
        wait_for(lambda: away[-13:-5] in page_text(admin, CONFIG_TALK), timeout=20)
        assert bot.log.read_text().count(f"{CONFIG_PAGE} was moved to {away}") == 1

        # Set right: the config saved again at its title by an administrator.
        set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0,
                           "summary": f"Revert {uuid.uuid4().hex[:6]}"})
        third = wiki(ip="198.51.100.83").edit(unique_title, "Stable text. VANDALISM three")
        assert bot.decision(third)["decision"] == "reverted"
        assert page_text(admin, CONFIG_TALK).count(away[-13:-5]) == 1, "one note per move"
    finally:
        set_config(admin, REVERTING)


def test_a_report_page_moved_into_user_space_answers_nothing(sandbox, wiki, unique_title, bot_factory):
    admin, mover = wiki(sandbox.admin), wiki(sandbox.patroller)
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    config = {**REVERTING, "max_reverts_per_user_per_page": 0,
              "talk_notice": {"enabled": True, "registered_only": False}, "false_positive_page": fp_page}
    set_config(admin, config)
    pages = [f"{unique_title} {i}" for i in range(2)]
    for page in pages:
        admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    vandals = [wiki(ip=f"198.51.100.{90 + i}") for i in range(2)]
    bad = [v.edit(p, f"Stable text. VANDALISM {i}") for i, (v, p) in enumerate(zip(vandals, pages))]
    reverts = []
    for rev, page in zip(bad, pages):
        assert bot.decision(rev)["decision"] == "reverted"
        reverts.append(top_revision(admin, page)["revid"])
    vandals[0].post(action="edit", title=fp_page, section="new", sectiontitle=f"Revert of r{bad[0]}",
                    text=f"<!-- automod-report rev={bad[0]} -->\nIt was fine. ~~~~", token=vandals[0].token())
    wait_for(lambda: f"automod — revision {bad[0]} " in page_text(admin, fp_page), timeout=30)

    # An autoconfirmed account moves the report page into its user space (a redirect is left).
    mine = f"User:{sandbox.patroller.name}/Reports {unique_title[-8:]}"
    try:
        move(mover, fp_page, mine)
        assert page_text(admin, fp_page).lstrip().upper().startswith("#REDIRECT")
        wait_for(lambda: unique_title[-8:] in page_text(admin, CONFIG_TALK), timeout=20)

        # A new report under the redirect: not answered there.
        vandals[1].post(action="edit", title=fp_page, section="new", sectiontitle=f"Revert of r{bad[1]}",
                        text=f"<!-- automod-report rev={bad[1]} -->\nIt was fine too. ~~~~", token=vandals[1].token())
        # The open report, confirmed on the moved page by an administrator: not acted on.
        admin.edit(mine, page_text(admin, mine).replace("status: open", "status: confirmed", 1))
        wait_for(lambda: "report page edit" in bot.log.read_text() and "left alone" in bot.log.read_text(),
                 timeout=30)
        probe = wiki(ip="198.51.100.95").edit(pages[1], "Stable text. VANDALISM probe")
        assert bot.decision(probe)["decision"] == "disabled"
        assert f"automod — revision {bad[1]} " not in page_text(admin, fp_page), "answered under the redirect"
        assert f"automod — revision {bad[1]} " not in page_text(admin, mine)
        assert top_revision(admin, pages[0])["revid"] == reverts[0], "a report out of the bot's reach was acted on"
        assert " reinstated: " not in page_text(admin, mine)
    finally:
        set_config(admin, REVERTING)
