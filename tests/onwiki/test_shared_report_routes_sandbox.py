"""Reports that do not come through the one-click link reach the shared page too (issue 22):
on wikis with no report page of their own, a human undoing the bot's revert is logged on the
central wiki's shared page, naming the wiki and linking to it; a report written by hand there
is answered as on a local page — for the wiki it names, or the only wiki where the bot
reverted the reporter on that page, else the bot asks which wiki — within the flood limits."""

from __future__ import annotations

import pytest

from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import launch_bot, top_revision
from support.multiwiki import client_for, scorers_for, shared_setup, text_of
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox


def test_undone_reverts_and_hand_written_reports_are_answered_on_the_shared_page(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    block = {"enabled": True, "threshold": 0.9}
    setup = shared_setup(info, tmp_path, {first.name: block, second.name: block})
    shared, uid = setup.shared, setup.uid
    central_admin = client_for(info, first, info.admin)
    reporter = client_for(info, first, info.vandals[1])  # one account on both wikis, as with SUL
    admins = {w.name: client_for(info, w, info.admin) for w in info.wikis}
    vandals = {w.name: client_for(info, w, info.vandals[1]) for w in info.wikis}
    undone, named, unnamed, both = (f"Shared route {kind} {uid}" for kind in ("undone", "named", "unnamed", "both"))
    edits = [(second.name, undone), (second.name, named), (second.name, unnamed), (second.name, both),
             (first.name, both)]
    for wiki, page in edits:
        admins[wiki].edit(page, "Stable text.")
    with running_standin(score_function=scorers_for(info)) as liftwing:
        bot = launch_bot(info, tmp_path, setup.settings(liftwing.url))
        try:
            bad = {}
            for wiki, page in edits:
                bad[wiki, page] = vandals[wiki].edit(page, "Stable text. VANDALISM (fine in fact)")
                assert bot.decision(bad[wiki, page], timeout=20, wiki=wiki)["decision"] == "reverted"

            # (a) An admin undoes the revert on the second wiki, which has no report page: the shared page says so.
            admin2 = admins[second.name]
            revert = top_revision(admin2, undone)["revid"]
            admin2.post(action="edit", title=undone, undo=revert, summary="this was fine", token=admin2.token())
            heading = f"== {second.name}: Probable false positive: {undone} (r{bad[second.name, undone]}) =="
            wait_for(lambda: heading in text_of(central_admin, shared), timeout=30)
            section = text_of(central_admin, shared).split(heading, 1)[1].split("\n==", 1)[0]
            assert f"{second.index_url}?title=User:{info.admin.name.replace(' ', '_')} " in section
            assert f"{second.index_url}?diff={revert} " in section and f"[[{undone}]]" not in section
            assert f"automod — revision {bad[second.name, undone]}" in section
            assert f"status: open (wiki={second.name})" in section

            # (b) Hand-written reports: the wiki named, the only wiki where it happened, or a question.
            def report(title: str, text: str) -> None:
                reporter.post(action="edit", title=shared, section="new", sectiontitle=title, text=text,
                              token=reporter.token())
            report(f"Wrong revert {uid}", f"My edit on [[{named}]] on {second.name} was fine. ~~~~")
            report(f"Please check {uid}", f"My edit on [[{unnamed}]] was fine. ~~~~")
            report(f"Revert of my edit {uid}", f"My edit on [[{both}]] was fine. ~~~~")

            def answer(heading_text: str, wanted: str) -> str | None:
                text = text_of(central_admin, shared)
                part = text.split(f"== {heading_text} ==", 1)[-1].split("\n==", 1)[0]
                return part if wanted in part else None
            for page in (named, unnamed):
                rev = bad[second.name, page]
                heading_text = f"Wrong revert {uid}" if page == named else f"Please check {uid}"
                line = wait_for(lambda: answer(heading_text, f"automod — revision {rev}"), timeout=30)
                assert f"status: open (wiki={second.name})" in line and "score 0.9950" in line
            asked = wait_for(lambda: answer(f"Revert of my edit {uid}", "more than one wiki"), timeout=30)
            assert f"({', '.join(sorted((first.name, second.name)))})" in asked and "status: no-match" in asked

            # Flood-safe: one no-match line per reporter an hour; the next such report is answered
            # with the flood's line (never dropped, issue 26.2).
            report(f"Another one {uid}", "My edit on [[No such page here]] was fine. ~~~~")

            def flood_answered() -> bool:
                with Store(tmp_path / "automod.sqlite") as store:
                    return sqlite_of(store).execute("SELECT 1 FROM actions WHERE kind = 'report-flood-answer' AND"
                                                    " detail LIKE ?", (f"%Another one {uid}%",)).fetchone() is not None
            wait_for(flood_answered, timeout=30)
            wait_for(lambda: "I answer them together here" in (answer(f"Another one {uid}", "") or ""), timeout=30)
            with Store(tmp_path / "automod.sqlite") as store:
                assert sqlite_of(store).execute("SELECT 1 FROM actions WHERE kind = 'report-dropped' AND detail LIKE ?",
                                                (f"%Another one {uid}%",)).fetchone() is None
            assert "automod —" not in (answer(f"Another one {uid}", "") or "")
        finally:
            bot.stop()
    with Store(tmp_path / "automod.sqlite") as store:
        rows = {(r.rev_id, r.kind): r for r in store.reports(second.name)}
    implicit = rows[bad[second.name, undone], "implicit"]
    assert (implicit.page, implicit.status, implicit.reporter) == (f"{first.name}:{shared}", "open", info.admin.name)
    for page in (named, unnamed):
        assert rows[bad[second.name, page], "explicit"].status == "open"
