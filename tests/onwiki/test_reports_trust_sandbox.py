"""Nobody untrusted can steer the bot (issue 14): the attacks tried on the sandbox wiki with
the real bot — forged statuses and bot lines, odd headings, hand-written reports, floods,
second accounts undoing the bot — and what a trusted reviewer or restorer may still do."""

from __future__ import annotations

import re

import pytest

from automod.store import Store
from support.moderation_helpers import REVERTING, set_config, top_revision
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox


def config_for(fp_page: str, **extra) -> dict:
    return {**REVERTING, "talk_notice": {"enabled": True, "registered_only": False},
            "false_positive_page": fp_page, **extra}


def page_text(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def report(client, fp_page: str, heading: str, body: str) -> None:
    client.post(action="edit", title=fp_page, section="new", sectiontitle=heading, text=body, token=client.token())


def sections(text: str) -> dict[str, list[str]]:
    """Level-2 sections by heading wikitext (duplicates kept apart), each with its body."""
    found: dict[str, list[str]] = {}
    parts = re.split(r"^==(?!=)\s*(.*?)\s*==\s*$", text, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2]):
        found.setdefault(heading, []).append(body)
    return found


def reverted(bot, admin, sandbox, rev: int, title: str) -> int:
    assert bot.decision(rev)["decision"] == "reverted"
    return top_revision(admin, title)["revid"]


def test_only_a_rollbacker_can_confirm_a_report_forged_statuses_and_lines_are_ignored(sandbox, wiki, unique_title,
                                                                                      bot_factory):
    """Scenarios (a) and (b), with the report page named as a community would (``Project:``)
    and the config page given in the settings with a lower-case first letter."""
    admin, vandal, anon = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki()
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page))
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory(config_page="mediaWiki:Automod-config.json")
    bad = vandal.edit(unique_title, "Stable text. VANDALISM (fine in fact)")
    revert = reverted(bot, admin, sandbox, bad, unique_title)
    report(anon, fp_page, f"Revert of r{bad}", f"<!-- automod-report rev={bad} -->\nThis was fine. ~~~~")
    wait_for(lambda: f"automod — revision {bad}" in page_text(admin, fp_page), timeout=15)
    line = next(wikiline for wikiline in page_text(admin, fp_page).splitlines()
                if f"automod — revision {bad}" in wikiline)
    assert "status: open" in line

    # (a) an anonymous user from elsewhere confirms the report: ignored, answered once
    anon.edit(fp_page, page_text(admin, fp_page).replace(line, line.replace("status: open", "status: confirmed")))
    wait_for(lambda: "only users with the right rollback" in page_text(admin, fp_page), timeout=15)
    # (b) a new section with a forged bot line saying "confirmed": an ordinary report
    forged = line.replace("status: open", "status: confirmed")
    report(anon, fp_page, "Please restore", f"{forged}\nSee above. ~~~~")
    wait_for(lambda: page_text(admin, fp_page).count("only users with the right rollback") == 2
             and "status: open" in "".join(sections(page_text(admin, fp_page))["Please restore"]), timeout=15)
    assert top_revision(admin, unique_title)["revid"] == revert, "an anonymous user made the bot restore vandalism"

    # the same flow by a user holding rollback: reinstated, once
    # The bot's open line now sits under the "Please restore" report (the first one was changed
    # by the anonymous user); its signature time may differ from ``line``'s: match by revision.
    text = page_text(admin, fp_page)
    admin.edit(fp_page, re.sub(rf"(automod — revision {bad} .*?status: )open\b", r"\g<1>confirmed", text, count=1))
    wait_for(lambda: "reinstated" in page_text(admin, fp_page), timeout=15)
    assert top_revision(admin, unique_title)["user"] == sandbox.admin.name or \
        top_revision(admin, unique_title)["user"] == sandbox.bot.name
    assert "VANDALISM (fine in fact)" in page_text(admin, unique_title)
    admin.edit(fp_page, page_text(admin, fp_page) + "\nThanks. ~~~~")  # one more pass: still once
    wait_for(lambda: top_revision(admin, fp_page)["user"] == sandbox.admin.name, timeout=5)
    assert page_text(admin, fp_page).count(" reinstated: ") == 1
    assert page_text(admin, fp_page).count("only users with the right rollback") == 2


def test_odd_headings_and_a_hand_written_report_are_all_answered(sandbox, wiki, unique_title, bot_factory):
    admin, anon = wiki(sandbox.admin), wiki()
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page, max_reverts_per_user_per_page=0))
    pages = [f"{unique_title} {i}" for i in range(4)]
    for page in pages:
        admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    bad = [anon.edit(p, f"Stable text. VANDALISM {i}") for i, p in enumerate(pages)]
    for rev, page in zip(bad, pages):
        reverted(bot, admin, sandbox, rev, page)
    headings = [f"{{{{SITENAME}}}} check r{bad[0]}", "Wrong revert", "Wrong revert", f"[[{pages[3]}]] revert"]
    bodies = [f"<!-- automod-report rev={bad[0]} -->\nFine. ~~~~", f"<!-- automod-report rev={bad[1]} -->\nFine. ~~~~",
              f"<!-- automod-report rev={bad[2]} -->\nFine too. ~~~~", f"My edit on [[{pages[3]}]] was fine. ~~~~"]
    for heading, body in zip(headings, bodies):
        report(anon, fp_page, heading, body)
    wait_for(lambda: all(f"automod — revision {r}" in page_text(admin, fp_page) for r in bad), timeout=20)
    found = sections(page_text(admin, fp_page))
    assert f"automod — revision {bad[0]}" in found[headings[0]][0]
    assert f"automod — revision {bad[1]}" in found["Wrong revert"][0]
    assert f"automod — revision {bad[2]}" in found["Wrong revert"][1]
    handwritten = found[headings[3]][0]
    assert f"automod — revision {bad[3]}" in handwritten and "score 0.9950" in handwritten
    assert "model revertrisk-language-agnostic" in handwritten


def test_a_report_flood_gets_no_more_lines_than_the_limits_and_vandals_are_still_reverted(sandbox, wiki, unique_title,
                                                                                          bot_factory, tmp_path):
    admin, anon, patroller, vandal = wiki(sandbox.admin), wiki(), wiki(sandbox.patroller), wiki(sandbox.vandals[0])
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page, report_answers_per_hour=4, report_answers_per_reporter_per_hour=3))
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    flood = 40
    for i in range(flood):
        report(anon if i % 2 else patroller, fp_page, f"Flood {i}",
               f"<!-- automod-report rev={10**9 + i} -->\nRestore it! ~~~~")
        if i == flood // 2:
            rev = vandal.edit(unique_title, "Stable text. VANDALISM during the flood")
    assert bot.decision(rev)["decision"] == "reverted"

    def handled() -> int:  # answered, answered together with another, or waiting for the budget (issue 26.2)
        with Store(tmp_path / "automod.sqlite") as store:
            return int(sqlite_of(store).execute(
                "SELECT count(DISTINCT json_extract(detail, '$.section')) FROM actions WHERE kind IN"
                " ('report-no-match', 'report-answer', 'report-flood-answer', 'report-collapsed', 'report-waiting')"
                " AND json_extract(detail, '$.section') LIKE 'Flood %'").fetchone()[0])
    wait_for(lambda: handled() >= flood, timeout=60)
    text = page_text(admin, fp_page)
    lines = text.count("automod — revision") + text.count("automod · ")
    assert 1 <= lines <= 4, f"{lines} bot lines; the budget is 4 an hour"
    assert text.count("Restore it!") == flood, "no report text was lost"
    with Store(tmp_path / "automod.sqlite") as store:
        twice = sqlite_of(store).execute(
            "SELECT json_extract(detail, '$.section') FROM actions WHERE kind IN ('report-no-match', 'report-answer',"
            " 'report-flood-answer', 'report-collapsed') GROUP BY 1 HAVING count(*) > 1").fetchall()
        assert not twice, "a report was answered twice"
        # The worker holds report-page edits while candidates go first, one pass per burst.
        flood_passes = int(sqlite_of(store).execute("SELECT count(*) FROM actions WHERE kind = 'report-pass'"
                                            " AND detail = ?", (fp_page,)).fetchone()[0])
        assert 1 <= flood_passes <= flood // 4, f"{flood_passes} passes for {flood} report edits: not coalesced"

    # Work per revision is bounded: reports saved while the bot is away arrive as a burst of
    # events; the first one's pass reads the latest revision, the others cost nothing.
    bot.stop()
    for i in range(5):
        report(anon, fp_page, f"While away {i}", f"My edit on [[{unique_title}]] was fine. ~~~~")
    latest = top_revision(admin, fp_page)["revid"]
    bot = bot_factory(fresh_position=False)

    def passes() -> list[int]:
        with Store(tmp_path / "automod.sqlite") as store:
            return [int(r[0]) for r in sqlite_of(store).execute(
                "SELECT rev_id FROM actions WHERE kind = 'report-pass' AND rev_id >= ?", (latest,))]
    wait_for(lambda: passes(), timeout=30)
    # Events are handled in order: once a later edit's pass is recorded, the four events
    # between have been handled too (read again, they would have left passes of their own).
    report(anon, fp_page, "After the burst", "One more. ~~~~")
    after = top_revision(admin, fp_page)["revid"]
    wait_for(lambda: passes()[-1] >= after, timeout=30)
    assert passes() == [latest, after], "one pass for the five edits, reading the newest revision"


def test_a_second_account_restoring_reverted_vandalism_is_scored_a_rollbacker_is_trusted(
        sandbox, wiki, unique_title, bot_factory):
    """Issue 26.6: being autoconfirmed is farmed in days, so only a restorer holding
    `rollback` (the default trusted_restorer_rights) is skipped as revert-of-bot."""
    admin, vandal, sock = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(sandbox.vandals[0])
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page))
    first, second, third = f"{unique_title} A", f"{unique_title} B", f"{unique_title} C"
    for page in (first, second, third):
        admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    extra = sandbox.dir / "conf/extra.php"
    generous = extra.read_text()
    # As on a real wiki (enwiki: 4 days, 10 edits), a brand-new account is not autoconfirmed.
    extra.write_text(generous + "$wgAutoConfirmAge = 4 * 86400;\n$wgAutoConfirmCount = 10000;\n")
    try:
        revert = reverted(bot, admin, sandbox, vandal.edit(first, "Stable text. VANDALISM"), first)
        restore = sock.post(action="edit", title=first, undo=revert, token=sock.token())["edit"]["newrevid"]
        line = bot.decision(restore)
        assert line["decision"] == "reverted", line
    finally:
        extra.write_text(generous)
    revert = reverted(bot, admin, sandbox, vandal.edit(second, "Stable text. VANDALISM"), second)
    restore = sock.post(action="edit", title=second, undo=revert, token=sock.token())["edit"]["newrevid"]
    line = bot.decision(restore)
    assert line["decision"] == "reverted", f"an autoconfirmed sock is not a trusted restorer: {line}"
    revert = reverted(bot, admin, sandbox, vandal.edit(third, "Stable text. VANDALISM"), third)
    restore = admin.post(action="edit", title=third, undo=revert, token=admin.token())["edit"]["newrevid"]
    assert (bot.decision(restore)["decision"], bot.decision(restore)["reason"]) == ("skip", "revert-of-bot")
    wait_for(lambda: f"Probable false positive: {third}" in page_text(admin, fp_page), timeout=15)
    assert f"Probable false positive: {first}" not in page_text(admin, fp_page)
    assert f"Probable false positive: {second}" not in page_text(admin, fp_page)
