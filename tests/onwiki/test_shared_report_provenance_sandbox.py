"""The central shared report page is steered by nobody through someone else's hands (issue 26,
items 1 and 3), on the two-wiki sandbox with autoconfirm at 10 edits on the central wiki: a
rollback of a blanking signs none of the forged confirmations it brings back, and a preload an
untrusted user changed is put back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from automod.onwiki.i18n import load_messages
from automod.onwiki.shared_reports import shared_preload_text
from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import launch_bot, top_revision
from support.multiwiki import client_for, scorers_for, shared_setup, text_of
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of
from support.wiki import WikiClient

pytestmark = pytest.mark.sandbox

IGNORED = "only users with the right rollback"
BLOCK = {"enabled": True, "threshold": 0.9, "max_reverts_per_user_per_page": 0,
         "talk_notice": {"enabled": True, "registered_only": False}}


@pytest.fixture
def central_autoconfirm_at_ten(two_wikis) -> Iterator[None]:
    """As on Wikipedia: autoconfirmed after 10 edits on the central wiki (no age)."""
    extra = two_wikis.wikis[0].extra_file
    before = extra.read_text() if extra.exists() else ""
    extra.write_text((before or "<?php\n") + "$wgAutoConfirmAge = 0;\n$wgAutoConfirmCount = 10;\n")
    try:
        yield
    finally:
        extra.write_text(before)


def anon(info, wiki, ip: str) -> WikiClient:
    client = WikiClient(info, ip=ip)
    client.api_url = wiki.api_url
    return client


def passed_at(tmp_path, wiki: str, page: str, rev: int) -> bool:
    with Store(tmp_path / "automod.sqlite") as store:
        return sqlite_of(store).execute("SELECT 1 FROM actions WHERE wiki = ? AND kind = 'report-pass' AND detail = ? "
                                        "AND rev_id >= ?", (wiki, page, rev)).fetchone() is not None


def test_a_rollback_of_a_blanking_of_the_shared_page_restores_nothing(two_wikis, tmp_path,
                                                                      central_autoconfirm_at_ten):
    info = two_wikis
    first, second = info.wikis
    setup = shared_setup(info, tmp_path, {second.name: BLOCK})
    shared, uid = setup.shared, setup.uid
    central_admin, admin2 = client_for(info, first, info.admin), client_for(info, second, info.admin)
    patroller = client_for(info, first, info.patroller)
    for i in range(10):  # the autoconfirmed forger: ten edits of its own on the central wiki
        patroller.edit(f"User:{info.patroller.name}/Scratch {uid}", f"Edit {i}.")
    fresh = anon(info, first, "198.51.100.130").sign_up(f"Fresh {uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}")
    groups = {n: set(u.get("groups", [])) for n, u in central_admin.user_info(fresh.name, patroller.name).items()}
    assert "autoconfirmed" in groups[patroller.name] and "autoconfirmed" not in groups[fresh.name], groups
    pages = [f"Shared laundering {uid} {i}" for i in range(3)]
    for page in pages:
        admin2.edit(page, "Stable text.")
    with running_standin(score_function=scorers_for(info)) as liftwing:
        bot = launch_bot(info, tmp_path, setup.settings(liftwing.url))
        try:
            vandals = [anon(info, second, f"198.51.100.{140 + i}") for i in range(3)]
            bad = [v.edit(p, f"Stable text. VANDALISM {i}") for i, (v, p) in enumerate(zip(vandals, pages))]
            reverts = []
            for rev, page in zip(bad, pages):
                assert bot.decision(rev, timeout=20, wiki=second.name)["decision"] == "reverted"
                reverts.append(top_revision(admin2, page)["revid"])
            reporter = anon(info, first, "198.51.100.150")
            for rev in bad:
                reporter.post(action="edit", title=shared, section="new", sectiontitle=f"{second.name}: r{rev}",
                              text=f"<!-- automod-report rev={rev} wiki={second.name} -->\nIt was fine. ~~~~",
                              token=reporter.token())

            def line_of(rev: int) -> str | None:
                return next((line for line in text_of(central_admin, shared).splitlines()
                             if f"automod — revision {rev} " in line and f"(wiki={second.name})" in line), None)
            wait_for(lambda: all(line_of(r) for r in bad), timeout=40)

            # Three forged confirmations: an IP, a fresh account, an autoconfirmed account. Each is ignored.
            for n, (forger, rev) in enumerate(zip([anon(info, first, "203.0.113.160"), fresh, patroller], bad),
                                              start=1):
                line = line_of(rev)
                assert line is not None and "status: open" in line
                forger.edit(shared, text_of(central_admin, shared).replace(
                    line, line.replace("status: open", "status: confirmed")))
                wait_for(lambda: text_of(central_admin, shared).count(IGNORED) == n, timeout=30)

            # An IP blanks the page; an admin of the central wiki rolls the blanking back.
            blanker = "203.0.113.161"
            anon(info, first, blanker).edit(shared, "")
            central_admin.rollback(shared, blanker)
            restored = top_revision(central_admin, shared)["revid"]
            assert text_of(central_admin, shared).count("status: confirmed") == 3
            wait_for(lambda: passed_at(tmp_path, first.name, shared, restored), timeout=30)

            for page, revert in zip(pages, reverts):
                assert top_revision(admin2, page)["revid"] == revert, "a laundered confirmation restored vandalism"
            assert " reinstated" not in text_of(central_admin, shared)
        finally:
            bot.stop()


def test_a_tampered_shared_preload_is_put_back(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    setup = shared_setup(info, tmp_path, {second.name: BLOCK})
    preload = f"{setup.shared}/Preload"
    central_admin = client_for(info, first, info.admin)
    wanted = shared_preload_text(load_messages("en"))
    with running_standin(score_function=scorers_for(info)) as liftwing:
        bot = launch_bot(info, tmp_path, setup.settings(liftwing.url))
        try:
            wait_for(lambda: text_of(central_admin, preload).strip() == wanted.strip(), timeout=30)
            # An IP makes the marker name its own reverted edit on the second wiki.
            forged = text_of(central_admin, preload).replace("rev=$1 wiki=$3", f"rev=12345 wiki={second.name}")
            anon(info, first, "198.51.100.170").edit(preload, forged)
            assert "rev=12345" in text_of(central_admin, preload)
            wait_for(lambda: text_of(central_admin, preload).strip() == wanted.strip(), timeout=30)
            assert top_revision(central_admin, preload)["user"] == info.bot.name
            # A reviewer's rewording stays (a trusted hand), as on a local preload.
            reworded = wanted.replace("\n\n", "\n\nPlease explain: ", 1)
            central_admin.edit(preload, reworded)
            central_admin.edit(setup.shared, text_of(central_admin, setup.shared) + "\nA note. ~~~~\n")
            latest = top_revision(central_admin, setup.shared)["revid"]
            wait_for(lambda: passed_at(tmp_path, first.name, setup.shared, latest), timeout=30)
            assert text_of(central_admin, preload).strip() == reworded.strip()
        finally:
            bot.stop()
