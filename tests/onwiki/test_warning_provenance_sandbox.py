"""Warnings and talk-page exclusion by provenance (issue 26, items 4 and 5), as an attacker
would try them on the real sandbox wiki (autoconfirm raised to 10 edits where it matters,
anonymous editors from documentation addresses): a level counts only if the bot gave it to
that editor or a user holding the trusted right wrote it; a talk page's {{bots}}/{{nobots}}
withholds a notice only if its owner or a trusted user added it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from automod.store import Store
from support.moderation_helpers import REVERTING, set_config, top_revision
from support.patrol import LEVEL, NOTICES, delete_page, fresh_account, page_text
from support.relay_helpers import wait_for
from support.wiki import WikiClient

pytestmark = pytest.mark.sandbox

LADDER = {"levels": 4, "window_days": 30}


@pytest.fixture
def autoconfirm_at_ten(sandbox) -> Iterator[None]:
    """As on Wikipedia: an account is autoconfirmed after 10 edits (restored afterwards)."""
    extra = sandbox.dir / "conf/extra.php"
    before = extra.read_text()
    extra.write_text(before + "$wgAutoConfirmCount = 10;\n")
    try:
        yield
    finally:
        extra.write_text(before)


def report_page_config(admin: WikiClient, **warnings) -> str:
    report_page = f"Project:Vandal reports {uuid.uuid4().hex[:8]}"
    set_config(admin, {**REVERTING, **NOTICES, "max_reverts_per_user_per_page": 0,
                       "warnings": {**LADDER, **warnings}, "vandal_report_page": report_page})
    return report_page


def rights(client: WikiClient) -> list[str]:
    return client.get(action="query", meta="userinfo", uiprop="rights")["query"]["userinfo"]["rights"]


def stable_pages(admin: WikiClient, base: str, count: int) -> list[str]:
    pages = [f"{base} {k}" for k in range(count)]
    for page in pages:
        admin.edit(page, "Stable text.")
    return pages


def levels_given(tmp_path: Path, user: str) -> int:
    with Store(tmp_path / "automod.sqlite") as store:
        return store.warning_level_given("sandboxwiki", user, 0)


def test_an_autoconfirmed_accounts_planted_final_warning_gives_level_one_and_no_report(
        sandbox, wiki, unique_title, bot_factory, autoconfirm_at_ten):
    admin, planter, innocent = wiki(sandbox.admin), fresh_account(sandbox), fresh_account(sandbox)
    report_page = report_page_config(admin)  # warnings.trusted_right left at its default
    assert "autoconfirmed" not in rights(planter)
    for k in range(10):
        planter.edit(f"User:{planter.name}/Notes", f"Note {k}.")
    wait_for(lambda: "autoconfirmed" in rights(planter), timeout=10)
    talk = f"User talk:{innocent.name}"
    planter.edit(talk, "== Vandalism ==\n<!-- Template:uw-vandalism4 --> Final warning. ~~~~")
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    assert bot.decision(innocent.edit(unique_title, "Stable text. VANDALISM"))["decision"] == "reverted"
    assert LEVEL.findall(page_text(admin, talk) or "") == ["4", "1"], "the bot's notice is a first warning"
    assert page_text(admin, report_page) is None, "an innocent reported after one false positive"


def test_a_moved_talk_page_brings_none_of_the_bots_levels(sandbox, wiki, unique_title, bot_factory):
    admin, throwaway, newcomer = wiki(sandbox.admin), fresh_account(sandbox), fresh_account(sandbox)
    report_page = report_page_config(admin, trusted_right="rollback")
    pages = stable_pages(admin, unique_title, 5)
    bot = bot_factory()
    for page in pages[:4]:  # the throwaway earns the bot's levels 1-4 on its own talk page
        assert bot.decision(throwaway.edit(page, "Stable text. VANDALISM"))["decision"] == "reverted"
    old_talk, new_talk = f"User talk:{throwaway.name}", f"User talk:{newcomer.name}"
    assert LEVEL.findall(page_text(admin, old_talk) or "") == ["1", "2", "3", "4"]
    assert page_text(admin, new_talk) is None
    moved = throwaway.post(action="move", **{"from": old_talk}, to=new_talk, reason="archive",
                           token=throwaway.token())
    assert "move" in moved, moved
    assert bot.decision(newcomer.edit(pages[4], "Stable text. VANDALISM"))["decision"] == "reverted"
    assert LEVEL.findall(page_text(admin, new_talk) or "") == ["1", "2", "3", "4", "1"], \
        "the newcomer's first revert gives a first warning"
    assert page_text(admin, report_page) is None, "a newcomer reported on someone else's warnings"


def test_a_vandals_nobots_withholds_the_notices_not_the_levels_nor_the_report(
        sandbox, wiki, unique_title, bot_factory, tmp_path):
    admin = wiki(sandbox.admin)
    ip = f"198.51.100.{uuid.uuid4().int % 200 + 20}"
    vandal = wiki(ip=ip)
    report_page = report_page_config(admin)
    talk = f"User talk:{ip}"
    delete_page(admin, talk)
    try:
        optout = vandal.edit(talk, "{{nobots}}\nNo bots here.")
        pages = stable_pages(admin, unique_title, 5)
        bot = bot_factory()
        for k, page in enumerate(pages[:4], 1):
            assert bot.decision(vandal.edit(page, "Stable text. VANDALISM"))["decision"] == "reverted"
            assert levels_given(tmp_path, ip) == k, "the level climbs though the notice is withheld"
        assert page_text(admin, report_page) is None
        assert bot.decision(vandal.edit(pages[4], "Stable text. VANDALISM"))["decision"] == "reverted"
        report = page_text(admin, report_page) or ""
        assert len([line for line in report.splitlines() if ip in line]) == 1, report
        assert top_revision(admin, talk)["revid"] == optout, "its owner's {{nobots}} is honoured: no notice"
    finally:
        delete_page(admin, talk)


def test_an_ips_bots_deny_on_a_newcomers_talk_page_does_not_hide_the_notice(sandbox, wiki, unique_title,
                                                                            bot_factory):
    admin, newcomer, meddler = wiki(sandbox.admin), fresh_account(sandbox), wiki(ip="203.0.113.77")
    set_config(admin, {**REVERTING, **NOTICES, "warnings": LADDER})
    talk = f"User talk:{newcomer.name}"
    planted = meddler.edit(talk, f"{{{{bots|deny={sandbox.bot.name}}}}}\nWelcome!")
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    rev = newcomer.edit(unique_title, "Stable text. A GOOD EDIT THAT LOOKS LIKE VANDALISM")
    assert bot.decision(rev)["decision"] == "reverted"
    wait_for(lambda: top_revision(admin, talk)["revid"] != planted, timeout=10)
    text = page_text(admin, talk) or ""
    assert LEVEL.findall(text) == ["1"], text
    assert "section=new" in text and f"preloadparams%5B%5D={rev}" in text, "the notice carries its report link"


def test_moving_ones_own_talk_page_to_an_archive_and_back_sheds_no_patrollers_warning(
        sandbox, wiki, unique_title, bot_factory):
    """The other side of "a moved talk page brings no levels": a move from the editor's own
    talk page (or a subpage of it) is no change of owner."""
    admin, vandal = wiki(sandbox.admin), fresh_account(sandbox)
    report_page_config(admin, trusted_right="rollback")
    talk, archive = f"User talk:{vandal.name}", f"User talk:{vandal.name}/Archive"
    admin.edit(talk, "== Vandalism ==\n<!-- Template:uw-vandalism3 --> Please stop. ~~~~")  # a rollbacker's
    for source, target in ((talk, archive), (archive, talk)):
        moved = vandal.post(action="move", **{"from": source}, to=target, reason="archiving",
                            ignorewarnings=1, token=vandal.token())
        assert "move" in moved, moved
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    assert bot.decision(vandal.edit(unique_title, "Stable text. VANDALISM"))["decision"] == "reverted"
    assert LEVEL.findall(page_text(admin, talk) or "") == ["3", "4"], "the patroller's level 3 still counts"
