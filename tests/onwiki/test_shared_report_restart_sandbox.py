"""The shared false-positive page across restarts (issue 22): a confirmation saved while the bot
was stopped is acted on at its next start — an anonymous one is still only answered, a
rollbacker's reinstates the edit on the second wiki once — and the restoring edit's summary
links to the central wiki's page, never to a page of that name missing on the second wiki."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import Bot, launch_bot, top_revision
from support.multiwiki import client_for, scorers_for, shared_setup, text_of
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox


def test_confirmations_saved_while_the_bot_was_stopped_are_acted_on_at_start(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    setup = shared_setup(info, tmp_path, {second.name: {"enabled": True, "threshold": 0.9}})
    shared = setup.shared
    central_admin, anon_central = client_for(info, first, info.admin), client_for(info, first)
    reporter = client_for(info, first, info.vandals[1])
    admin2, vandal = client_for(info, second, info.admin), client_for(info, second, info.vandals[1])
    page = f"Shared restart test {setup.uid}"
    admin2.edit(page, "Stable text.")
    with running_standin(score_function=scorers_for(info)) as liftwing:
        settings = setup.settings(liftwing.url)

        def start() -> Bot:  # from the stream's end: only the start pass can see what was saved meanwhile
            return launch_bot(info, tmp_path, settings)

        bot = start()
        try:
            bad = vandal.edit(page, "Stable text. VANDALISM (fine in fact)")
            assert bot.decision(bad, timeout=20, wiki=second.name)["decision"] == "reverted"
            revert = top_revision(admin2, page)["revid"]
            reporter.post(action="edit", title=shared, section="new", sectiontitle=f"{second.name}: {page} (r{bad})",
                          text=f"<!-- automod-report rev={bad} wiki={second.name} -->\nIt was fine. ~~~~",
                          token=reporter.token())
            line = wait_for(lambda: next((wikiline for wikiline in text_of(central_admin, shared).splitlines()
                                          if f"automod — revision {bad}" in wikiline and "status: open" in wikiline),
                                         None), timeout=20)
        finally:
            bot.stop()

        # While the bot is stopped, an anonymous user confirms: at start it is answered, nothing restored.
        confirmed = line.replace("status: open", "status: confirmed")
        anon_central.edit(shared, text_of(central_admin, shared).replace(line, confirmed))
        bot = start()
        try:
            wait_for(lambda: "only users with the right rollback" in text_of(central_admin, shared), timeout=30)
        finally:
            bot.stop()
        assert top_revision(admin2, page)["revid"] == revert

        # While it is stopped again, a rollbacker reopens and confirms: at start, reinstated once.
        opened = text_of(central_admin, shared).replace("status: confirmed", "status: open")
        central_admin.edit(shared, opened)
        # The confirmation is the reviewer's own edit, signed: a text identical to the forged one
        # would be a revert to it (MediaWiki tags it mw-manual-revert), which authors nothing (issue 26).
        central_admin.edit(shared, opened.replace(f"status: open (wiki={second.name})",
                                                  f"status: confirmed (wiki={second.name})")
                           + "\n: Checked: a good edit. ~~~~")
        bot = start()
        try:
            wait_for(lambda: f"automod — revision {bad} reinstated" in text_of(central_admin, shared), timeout=30)
        finally:
            bot.stop()
        restored = top_revision(admin2, page)
        assert restored["user"] == info.bot.name and "VANDALISM (fine in fact)" in text_of(admin2, page)

        # The summary points at the report on the first wiki (this wiki has no interwiki prefix for it):
        # its full URL, and no [[…]] that would be a red link here.
        comment = admin2.get(action="query", prop="revisions", revids=restored["revid"],
                             rvprop="comment|parsedcomment")["query"]["pages"][0]["revisions"][0]
        url = f"{first.index_url}?title={quote(shared.replace(' ', '_'), safe=':/')}#{second.name}:_"
        assert url in comment["comment"], comment
        assert re.findall(r"\[\[([^|\]]*)", comment["comment"]) == [f"Special:Diff/{bad}"], comment
        assert 'class="new"' not in comment["parsedcomment"], comment

        # One more start, as if the bot had stopped right after writing the outcome line but before
        # remembering it: the line is not written again (the history shows the bot saved it), nor is
        # the confirmation acted on or the anonymous change answered again.
        with Store(tmp_path / "automod.sqlite") as store:
            assert sqlite_of(store).execute(
                "DELETE FROM actions WHERE wiki = ? AND rev_id = ? AND kind = 'shared-outcome'",
                (second.name, bad)).rowcount == 1
        bot = start()
        try:
            central_admin.edit(shared, text_of(central_admin, shared) + "\nThanks. ~~~~")
            thanks = top_revision(central_admin, shared)["revid"]

            def settled() -> bool:  # the outcome remembered again, and a pass read the edit after the start
                with Store(tmp_path / "automod.sqlite") as store:
                    remembered = any(r.kind == "shared-outcome" for r in store.actions_for(second.name, bad))
                    return remembered and sqlite_of(store).execute(
                        "SELECT 1 FROM actions WHERE wiki = ? AND kind = 'report-pass' AND rev_id >= ? AND detail = ?",
                        (first.name, thanks, shared)).fetchone() is not None
            wait_for(settled, timeout=30)
        finally:
            bot.stop()
        final = text_of(central_admin, shared)
        assert final.count(f"automod — revision {bad} reinstated") == 1
        assert final.count("only users with the right rollback") == 1
        assert top_revision(admin2, page)["revid"] == restored["revid"]
        with Store(tmp_path / "automod.sqlite") as store:
            assert [r.result for r in store.actions_for(second.name, bad) if r.kind == "reinstate"] == ["done"]
