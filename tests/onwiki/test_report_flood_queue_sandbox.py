"""Issue 26.2: a report flood drops no genuine report. Reports past the flood limits wait in
the store and are answered when the limits allow again (after a restart too), the reporter's
own reverted edit first; flood reports are credited to the addresses that filed them, however
deep in the page's history, and answered together."""

from __future__ import annotations

import json
import re
import time

import pytest

from automod.sandbox import file_report
from automod.store import Store
from support.moderation_helpers import REVERTING, set_config, top_revision
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox

#: As in the issue: 200 reports from 200 addresses (documentation ranges).
FLOOD = 200
IPS = [f"198.51.100.{i + 1}" if i < 200 else f"203.0.113.{i - 199}" for i in range(FLOOD)]


def config_for(fp_page: str, **extra) -> dict:
    return {**REVERTING, "talk_notice": {"enabled": True, "registered_only": False},
            "false_positive_page": fp_page, **extra}


def page_text(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def report(client, fp_page: str, heading: str, body: str) -> None:
    client.post(action="edit", title=fp_page, section="new", sectiontitle=heading, text=body, token=client.token())


def actions(path, kinds: tuple[str, ...]) -> list[dict]:
    with Store(path) as store:
        rows = sqlite_of(store).execute(
            f"SELECT kind, result, result_rev_id, detail FROM actions WHERE kind IN ({','.join('?' * len(kinds))})"
            " ORDER BY id", kinds).fetchall()
    return [{"kind": r[0], "result": r[1], "bot_rev": r[2], **json.loads(r[3] or "{}")} for r in rows
            if (r[3] or "{}").startswith("{")]


def genuine_heading(text: str, bad: int) -> str:
    """The heading the one-click report was saved under (its preloaded subject names the revision)."""
    return next(h for h in re.findall(r"^== (.*?) ==$", text, re.M) if f"r{bad}" in h and not h.startswith("Flood"))


def section_of(text: str, heading: str) -> str:
    start = text.index(f"== {heading} ==")
    following = text.find("\n== ", start + 1)
    return text[start:following if following >= 0 else len(text)]


def test_a_genuine_report_after_a_200_report_flood_waits_and_is_answered_first_across_a_restart(
        sandbox, wiki, unique_title, bot_factory, tmp_path):
    admin, victim = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    db = tmp_path / "automod.sqlite"
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page, report_answers_per_hour=3, report_answers_per_reporter_per_hour=3))
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    bad = victim.edit(unique_title, "Stable text. VANDALISM (fine in fact)")
    assert bot.decision(bad)["decision"] == "reverted"

    started = time.monotonic()
    for i, ip in enumerate(IPS):
        report(wiki(ip=ip), fp_page, f"Flood {i}", f"<!-- automod-report rev={10**9 + i} -->\nRestore it! ~~~~")
    flood_seconds = time.monotonic() - started
    flood_keys = {f"Flood {i}#1" for i in range(FLOOD)}

    def handled() -> set[str]:
        return {a["section"] for a in actions(db, ("report-flood-answer", "report-collapsed", "report-waiting"))}
    wait_for(lambda: flood_keys <= handled(), timeout=120)
    lines = actions(db, ("report-flood-answer", "report-answer", "report-no-match"))
    assert len(lines) == 3, f"{len(lines)} bot lines: the budget is 3 an hour"

    # The genuine one-click report, right after: the budget is spent, so it waits (never dropped).
    filed = file_report(sandbox.dir, sandbox.vandals[1].name, "It was fine.", timeout=30)
    heading = genuine_heading(page_text(admin, fp_page), bad)
    key = f"{heading}#1"
    wait_for(lambda: key in {a["section"] for a in actions(db, ("report-waiting",))}, timeout=60)
    assert f"automod — revision {bad}" not in section_of(page_text(admin, fp_page), heading)
    assert filed["reporter"] == sandbox.vandals[1].name

    # A restart loses nothing; an hour later (the budget's lines aged out) the genuine report
    # is answered first, then the waiting flood together in one line.
    bot.stop()
    with Store(db) as store:
        sqlite_of(store).execute("UPDATE actions SET acted_at = acted_at - 3600 WHERE kind IN"
                                 " ('report-flood-answer', 'report-answer', 'report-no-match')")
    bot = bot_factory(fresh_position=False)
    wait_for(lambda: f"automod — revision {bad}" in section_of(page_text(admin, fp_page), heading),
             timeout=60)
    line = next(a for a in actions(db, ("report-answer",)) if a["section"] == key)
    assert line["reporter"] == sandbox.vandals[1].name
    wait_for(lambda: flood_keys <= {a["section"] for a in actions(db, ("report-flood-answer", "report-collapsed"))}
             | {a["section"] for a in lines}, timeout=60)
    later = [a for a in actions(db, ("report-flood-answer",)) if a not in lines]
    assert len(later) == 1 and later[0]["bot_rev"] > line["bot_rev"], "the genuine report goes first"

    # Every flood report is credited to the address that filed it, 200 revisions deep.
    credited = {a["section"]: a["reporter"] for a in actions(db, ("report-flood-answer", "report-collapsed"))}
    waited_then_answered = {k: credited[k] for k in flood_keys if k in credited}
    assert waited_then_answered and all(r == IPS[int(k.split()[1].split("#")[0])]
                                        for k, r in waited_then_answered.items()), waited_then_answered
    assert "?" not in credited.values()
    text = page_text(admin, fp_page)
    assert text.count("Restore it!") == FLOOD, "no report text was lost"
    assert top_revision(admin, fp_page)["user"] == sandbox.bot.name
    print(f"flood of {FLOOD} reports saved in {flood_seconds:.1f} s")


def test_a_report_past_the_limit_is_answered_when_the_window_lets_the_bot_write_again(
        sandbox, wiki, unique_title, bot_factory, tmp_path):
    """The window itself (lowered in the operator settings): no edit of the page is needed."""
    admin, victim = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    db = tmp_path / "automod.sqlite"
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page, report_answers_per_hour=1))
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory(report_budget_window_seconds=20)
    bad = victim.edit(unique_title, "Stable text. VANDALISM (fine in fact)")
    assert bot.decision(bad)["decision"] == "reverted"
    report(wiki(ip="203.0.113.9"), fp_page, "Spam", "Restore everything! ~~~~")
    wait_for(lambda: actions(db, ("report-no-match", "report-flood-answer")), timeout=30)  # the one line
    spent = time.monotonic()
    file_report(sandbox.dir, sandbox.vandals[1].name, "It was fine.", timeout=30)
    heading = genuine_heading(page_text(admin, fp_page), bad)
    wait_for(lambda: f"{heading}#1" in {a["section"] for a in actions(db, ("report-waiting",))}, timeout=30)
    wait_for(lambda: f"automod — revision {bad}" in section_of(page_text(admin, fp_page), heading), timeout=60)
    assert time.monotonic() - spent >= 15, "answered before the window let the bot write again"
