"""The central shared report page's pass runs a step at a time, as a local page's does (issue 26
follow-up): a flood of reports on the shared page never makes the central wiki's own vandal edit
wait for the whole pass — it is reverted between two steps, before the flood's answer line."""

from __future__ import annotations

import json
import signal

import pytest

from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import launch_bot, set_config
from support.multiwiki import BASE, anon, client_for, scorers_for, shared_setup
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox

FLOOD = 40
BLOCK = {"enabled": True, "threshold": 0.9, "max_reverts_per_user_per_page": 0}


def flood_lines(path, page: str) -> list[dict]:
    with Store(path) as store:
        rows = sqlite_of(store).execute("SELECT result_rev_id, detail FROM actions WHERE kind = 'report-flood-answer'"
                                        ).fetchall()
    found = [{"bot_rev": r[0], **json.loads(r[1] or "{}")} for r in rows if (r[1] or "{}").startswith("{")]
    return [a for a in found if a.get("page") == page]


def test_a_central_vandal_edit_during_a_shared_page_flood_is_reverted_before_the_floods_line(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    blocks = {first.name: BLOCK, second.name: BLOCK}
    setup = shared_setup(info, tmp_path, blocks)
    shared, uid = setup.shared, setup.uid
    db = tmp_path / "automod.sqlite"
    central_admin = client_for(info, first, info.admin)
    set_config(central_admin, {"defaults": {**BASE, "report_answers_per_hour": 100,
                                            "report_answers_per_reporter_per_hour": 60},
                               "wikis": blocks, "shared_false_positive_page": shared}, setup.central_page)
    page = f"Shared steps {uid}"
    central_admin.edit(page, "Stable text.")
    with running_standin(score_function=scorers_for(info)) as liftwing:
        settings = setup.settings(liftwing.url)
        bot = launch_bot(info, tmp_path, settings)
        wait_for(lambda: "reading the shared report page" in bot.log.read_text(), timeout=60)  # the start pass
        try:
            # While the bot is paused (its stream connection open): a flood on the shared page, then
            # a vandal edit on the central wiki. On resume the stream brings them at once, the flood first.
            bot.proc.send_signal(signal.SIGSTOP)
            try:
                for i in range(FLOOD):
                    flooder = anon(info, first, f"203.0.113.{i + 101}")
                    flooder.post(action="edit", title=shared, section="new", sectiontitle=f"Flood {i}",
                                 text=f"<!-- automod-report rev={10**9 + i} wiki={second.name} -->\nRestore it! ~~~~",
                                 token=flooder.token())
                bad = anon(info, first, "198.51.100.141").edit(page, "Stable text. VANDALISM central")
            finally:
                bot.proc.send_signal(signal.SIGCONT)
            line = bot.decision(bad, timeout=60, wiki=first.name)
            assert line["decision"] == "reverted"
            wait_for(lambda: flood_lines(db, shared), timeout=90)
            last = max(a["bot_rev"] for a in flood_lines(db, shared))
            assert line["revert_rev_id"] < last, (
                f"the revert (r{line['revert_rev_id']}) waited for the whole pass (the flood's line r{last})")
        finally:
            bot.stop()
