"""Issue 26.2 on the central shared report page: a flood drops no genuine report. Reports past
the shared page's flood limits wait in the store — across a restart too — and are answered once
the limits allow a line again, the reporter's own reverted edit first; the flood of reports by
addresses the bot never reverted is answered together."""

from __future__ import annotations

import json

import pytest

from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import launch_bot, set_config, top_revision
from support.multiwiki import BASE, anon, client_for, scorers_for, shared_setup, text_of
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox

FLOOD = 40
BLOCK = {"enabled": True, "threshold": 0.9, "max_reverts_per_user_per_page": 0,
         "talk_notice": {"enabled": True, "registered_only": False}}
LINE_KINDS = ("report-answer", "report-no-match", "report-flood-answer")


def actions(path, page: str, kinds: tuple[str, ...]) -> list[dict]:
    with Store(path) as store:
        rows = sqlite_of(store).execute(
            f"SELECT kind, result, result_rev_id, detail FROM actions WHERE kind IN ({','.join('?' * len(kinds))})"
            " ORDER BY id", kinds).fetchall()
    found = [{"kind": r[0], "result": r[1], "bot_rev": r[2], **json.loads(r[3] or "{}")} for r in rows
             if (r[3] or "{}").startswith("{")]
    return [a for a in found if a.get("page") == page]


def section_of(text: str, heading: str) -> str:
    start = text.index(f"== {heading} ==")
    following = text.find("\n== ", start + 1)
    return text[start:following if following >= 0 else len(text)]


def test_a_genuine_shared_report_after_a_flood_waits_across_a_restart_and_is_answered(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    setup = shared_setup(info, tmp_path, {second.name: BLOCK})
    shared, uid = setup.shared, setup.uid
    db = tmp_path / "automod.sqlite"
    central_admin, admin2 = client_for(info, first, info.admin), client_for(info, second, info.admin)
    set_config(central_admin, {"defaults": {**BASE, "report_answers_per_hour": 3,
                                            "report_answers_per_reporter_per_hour": 3},
                               "wikis": {second.name: BLOCK}, "shared_false_positive_page": shared},
               setup.central_page)
    page = f"Shared flood {uid}"
    admin2.edit(page, "Stable text.")
    victim_ip = "198.51.100.121"
    with running_standin(score_function=scorers_for(info)) as liftwing:
        settings = setup.settings(liftwing.url)
        bot = launch_bot(info, tmp_path, settings)
        try:
            bad = anon(info, second, victim_ip).edit(page, "Stable text. VANDALISM (fine in fact)")
            assert bot.decision(bad, timeout=20, wiki=second.name)["decision"] == "reverted"
            revert = top_revision(admin2, page)["revid"]

            # Step one: a flood from many addresses spends the shared page's budget (3 lines an hour).
            for i in range(FLOOD):
                flooder = anon(info, first, f"203.0.113.{i + 1}")
                flooder.post(action="edit", title=shared, section="new", sectiontitle=f"Flood {i}",
                             text=f"<!-- automod-report rev={10**9 + i} wiki={second.name} -->\nRestore it! ~~~~",
                             token=flooder.token())
            flood_keys = {f"Flood {i}#1" for i in range(FLOOD)}
            wait_for(lambda: flood_keys <= {a["section"] for a in actions(
                db, shared, ("report-flood-answer", "report-collapsed", "report-waiting", "report-dropped",
                             "report-no-match"))}, timeout=120)
            assert len(actions(db, shared, LINE_KINDS)) == 3, "the budget is 3 lines an hour"

            # Step two: the victim's genuine report, right after: it waits (never dropped) ...
            reporter = anon(info, first, victim_ip)
            heading = f"{second.name}: r{bad}"
            reporter.post(action="edit", title=shared, section="new", sectiontitle=heading,
                          text=f"<!-- automod-report rev={bad} wiki={second.name} -->\nIt was fine. ~~~~",
                          token=reporter.token())
            key = f"{heading}#1"
            wait_for(lambda: key in {a["section"] for a in actions(db, shared, ("report-waiting",))}, timeout=60)
            assert f"automod — revision {bad} " not in section_of(text_of(central_admin, shared), heading)

            # ... across a restart, while the budget is still spent ...
            bot.stop()
            bot = launch_bot(info, tmp_path, settings, fresh_position=False)
            wait_for(lambda: "reading the shared report page" in bot.log.read_text(), timeout=60)
            assert f"automod — revision {bad} " not in section_of(text_of(central_admin, shared), heading)

            # ... and is answered first once the hour has passed (the budget's lines aged out).
            with Store(db) as store:
                sqlite_of(store).execute("UPDATE actions SET acted_at = acted_at - 3600 WHERE kind IN"
                                         " ('report-flood-answer', 'report-answer', 'report-no-match')")
            wait_for(lambda: f"automod — revision {bad} " in section_of(text_of(central_admin, shared), heading),
                     timeout=60)
            answered = [a for a in actions(db, shared, ("report-answer",)) if a["section"] == key]
            assert len(answered) == 1 and answered[0]["reporter"] == victim_ip, answered
            assert "status: open" in section_of(text_of(central_admin, shared), heading)
            assert not [a for a in actions(db, shared, ("report-dropped",))], "a report was stored as dropped"
            wait_for(lambda: flood_keys <= {a["section"] for a in actions(
                db, shared, ("report-flood-answer", "report-collapsed"))} | {a["section"] for a in actions(
                    db, shared, LINE_KINDS)}, timeout=60)
            assert top_revision(admin2, page)["revid"] == revert, "a report alone restores nothing"
        finally:
            bot.stop()
