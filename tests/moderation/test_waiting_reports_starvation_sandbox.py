"""Issue 26 follow-up: reports waiting for the flood limits are not starved by a steady trickle
of candidate edits. Such a pass runs while no candidate waits; once candidates have kept it back
for the held passes' ``MAX_WAIT_SECONDS``, it takes a step between candidates, as a held pass does."""

from __future__ import annotations

import json
import threading

import pytest

from automod.store import Store
from support.moderation_helpers import REVERTING, set_config
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox

#: The trickle gives up after this long (the bot answers within ~30 s of the budget's return).
TRICKLE_SECONDS = 45.0
#: Between two vandal edits: faster than the bot decides a revert with its talk notice, slow
#: enough to stay under the breaker's 500 reverts an hour.
PACE_SECONDS = 0.1


def actions(path, kind: str) -> list[dict]:
    with Store(path) as store:
        rows = sqlite_of(store).execute("SELECT result_rev_id, acted_at, detail FROM actions WHERE kind = ?"
                                        " ORDER BY id", (kind,)).fetchall()
    return [{"bot_rev": r[0], "at": r[1], **json.loads(r[2] or "{}")} for r in rows if (r[2] or "{}").startswith("{")]


def decided_after(path, revs: list[int], at: float) -> list[int]:
    """Which of ``revs`` the bot decided after ``at`` (its store's clock)."""
    with Store(path) as store:
        rows = sqlite_of(store).execute("SELECT rev_id, decided_at FROM decisions").fetchall()
    wanted = set(revs)
    return [r[0] for r in rows if r[0] in wanted and r[1] > at]


def page_text(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def test_a_trickle_of_vandal_edits_does_not_starve_a_waiting_report(sandbox, wiki, unique_title, bot_factory,
                                                                     tmp_path):
    admin, victim = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    db = tmp_path / "automod.sqlite"
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "max_reverts_per_hour": 500,
                       "talk_notice": {"enabled": True, "registered_only": False}, "false_positive_page": fp_page,
                       "report_answers_per_hour": 1})
    mine = f"{unique_title} victim"
    admin.edit(mine, "Stable text.")
    targets = [f"{unique_title} trickle {i}" for i in range(4)]
    for title in targets:
        admin.edit(title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    good = victim.edit(mine, "Stable text. VANDALISM (a good edit in fact)")
    assert bot.decision(good)["decision"] == "reverted"

    # The hour's one line goes to an IP's report; the victim's report waits for the budget.
    ip = wiki(ip="198.51.100.91")
    ip.post(action="edit", title=fp_page, section="new", sectiontitle="Question",
            text="Why was anything reverted? ~~~~", token=ip.token())
    wait_for(lambda: actions(db, "report-no-match"), timeout=30)
    heading = f"{mine} (r{good})"
    victim.post(action="edit", title=fp_page, section="new", sectiontitle=heading,
                text=f"<!-- automod-report rev={good} -->\nI cited a source. ~~~~", token=victim.token())
    wait_for(lambda: actions(db, "report-waiting"), timeout=30)

    # A steady trickle of vandal edits from many addresses keeps a candidate edit waiting.
    stop, saved = threading.Event(), []

    def trickle() -> None:
        i = 0
        while not stop.wait(PACE_SECONDS):
            client = wiki(ip=f"203.0.113.{i % 200 + 20}")
            try:
                saved.append(client.edit(targets[i % len(targets)], f"Stable text. VANDALISM trickle {i}"))
            except Exception:  # an edit conflict with the bot's revert: the next one goes on
                pass
            i += 1

    vandal = threading.Thread(target=trickle, daemon=True)
    vandal.start()
    try:
        wait_for(lambda: len(saved) >= 10, timeout=30)
        # The budget returns (the hour's line ages out) while the trickle goes on.
        with Store(db) as store:
            sqlite_of(store).execute("UPDATE actions SET acted_at = acted_at - 3600 WHERE kind IN"
                                     " ('report-flood-answer', 'report-answer', 'report-no-match')")
        answered_during_trickle = True
        try:
            wait_for(lambda: any(a["section"] == f"{heading}#1" for a in actions(db, "report-answer")),
                     timeout=TRICKLE_SECONDS)
        except AssertionError:
            answered_during_trickle = False
    finally:
        stop.set()
        vandal.join(timeout=30)
    after = len(saved)
    assert answered_during_trickle, f"the waiting report was starved by {after} vandal edits"
    answer = next(a for a in actions(db, "report-answer") if a["section"] == f"{heading}#1")
    # The ordering fact: vandal edits saved before the answer were still waiting for their
    # decision when the bot wrote it (the answer did not wait for the trickle to dry up).
    before = [rev for rev in saved if rev < answer["bot_rev"]]
    assert wait_for(lambda: decided_after(db, before, answer["at"]), timeout=60)
    wait_for(lambda: f"automod — revision {good} " in page_text(admin, fp_page), timeout=10)
    print(f"answered while {after} vandal edits trickled in")
