"""The red team's attack 6 on the central shared report page (issue 26 follow-up): the one-click
heading is predictable (``wiki: Title (rN)``). An IP files that very heading first and is
answered; the victim's real report comes while the shared page's budget is spent and waits; the
IP withdraws its own twin, so the victim's section now stands where the answered twin stood.
When the budget returns the victim's report is answered, in the victim's own section: the shared
page remembers an answered section by its lines, as a local page does, not by heading and position."""

from __future__ import annotations

import json

import pytest

from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import launch_bot, set_config
from support.multiwiki import BASE, anon, client_for, scorers_for, shared_setup, text_of
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox

BLOCK = {"enabled": True, "threshold": 0.9, "max_reverts_per_user_per_page": 0,
         "talk_notice": {"enabled": True, "registered_only": False}}


def waiting(path, page: str, kind: str = "report-waiting") -> list[str]:
    """The sections of ``page`` recorded as waiting for the budget (``kind``: or as waiting no more)."""
    with Store(path) as store:
        rows = sqlite_of(store).execute("SELECT detail FROM actions WHERE kind = ?", (kind,)).fetchall()
    details = [json.loads(r[0]) for r in rows if (r[0] or "").startswith("{")]
    return [d["section"] for d in details if d.get("page") == page]


def test_a_withdrawn_twin_heading_does_not_silence_the_victims_shared_report(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    setup = shared_setup(info, tmp_path, {second.name: BLOCK})
    shared, uid = setup.shared, setup.uid
    db = tmp_path / "automod.sqlite"
    central_admin, admin2 = client_for(info, first, info.admin), client_for(info, second, info.admin)
    set_config(central_admin, {"defaults": {**BASE, "report_answers_per_hour": 1},
                               "wikis": {second.name: BLOCK}, "shared_false_positive_page": shared},
               setup.central_page)
    page = f"Shared twin {uid}"
    admin2.edit(page, "Stable text.")
    victim_ip = "198.51.100.131"
    with running_standin(score_function=scorers_for(info)) as liftwing:
        bot = launch_bot(info, tmp_path, setup.settings(liftwing.url))
        try:
            good = anon(info, second, victim_ip).edit(page, "Stable text. VANDALISM (a good edit in fact)")
            assert bot.decision(good, timeout=20, wiki=second.name)["decision"] == "reverted"
            heading = f"{second.name}: {page} (r{good})"

            # Step one: the IP files the victim's predictable heading first, and spends the hour's line.
            attacker = anon(info, first, "203.0.113.77")
            attacker.post(action="edit", title=shared, section="new", sectiontitle=heading,
                          text="Was this really vandalism? ~~~~", token=attacker.token())
            wait_for(lambda: text_of(central_admin, shared).count(": automod") == 1, timeout=30)
            victim = anon(info, first, victim_ip)
            victim.post(action="edit", title=shared, section="new", sectiontitle=heading,
                        text=f"<!-- automod-report rev={good} wiki={second.name} -->\nI cited a source. ~~~~",
                        token=victim.token())
            wait_for(lambda: f"{heading}#2" in waiting(db, shared), timeout=30)

            # Step two: the IP withdraws its own (answered) twin; the victim's section moves up.
            text = text_of(central_admin, shared)
            one = text.index(f"== {heading} ==")
            two = text.index(f"== {heading} ==", one + 1)
            attacker.edit(shared, text[:one] + text[two:], summary="withdrawn")
            section = text_of(central_admin, shared)[one:]
            assert "I cited a source" in section and ": automod" not in section

            # The hour passes (the budget's line ages out): the victim's report is answered, under it.
            with Store(db) as store:
                sqlite_of(store).execute("UPDATE actions SET acted_at = acted_at - 3600 WHERE kind IN"
                                         " ('report-flood-answer', 'report-answer', 'report-no-match')")
            wait_for(lambda: f"automod — revision {good} " in text_of(central_admin, shared), timeout=45)
            section = text_of(central_admin, shared).split(f"== {heading} ==", 1)[1]
            assert "I cited a source" in section and f"automod — revision {good} " in section
            # The key it waited under names no section now: forgotten, so no pass runs for it again.
            wait_for(lambda: f"{heading}#2" in waiting(db, shared, "report-waiting-gone"), timeout=20)
        finally:
            bot.stop()

