"""Two-step attacks (issue 26, acceptance: "any further two-step attack you found"), tried on the
real sandbox as a vandal would: an untrusted hand prepares the ground, and a trusted user's
routine action, or the bot's own rules, are meant to finish the job. Each test performs both
steps and asserts the safe outcome.

- A ``{{nobots}}`` planted inside a template an article has used for a long time (or that an
  administrator added): the template's own history says who wrote the exclusion.
- The same through a long-used template a vandal turns into a redirect to ``{{nobots}}``.
- A forged confirmation that an administrator's page-wide copyedit (a typo fixed on every line)
  rewrites: touching a line is not setting its status.
- A forged confirmation removed by an administrator's rollback and put back by an undo of that
  rollback, then kept through an administrator's unrelated edit: still the forger's.
- A forged confirmation brought back by an administrator pasting the text from before a
  blanking (a manual revert, not a rollback): an exact copy of earlier text authors nothing.
- A report section swapped above the victim's twin between two steps of a pass (passes run a
  step at a time between candidate edits): the bot's answer never lands under another's report.
- A report heading twinned by a vandal (the one-click heading is predictable: ``Title (rN)``), and
  the vandal's own twin withdrawn while the victim's report waits for the flood limits: the
  victim's report is still answered, under the victim's own section.
"""

from __future__ import annotations

import re
import uuid

import pytest

from automod.config import CommunityConfig
from automod.onwiki import process_report_page, report_page_steps, run_steps
from automod.store import Store
from support.api_log import backdate_revision
from support.moderation_helpers import REVERTING, set_config, top_revision
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox

IGNORED = "only users with the right rollback"


def config_for(fp_page: str, **extra) -> dict:
    return {**REVERTING, "max_reverts_per_user_per_page": 0,
            "talk_notice": {"enabled": True, "registered_only": False}, "false_positive_page": fp_page, **extra}


def page_text(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def report(client, fp_page: str, heading: str, body: str) -> int:
    return int(client.post(action="edit", title=fp_page, section="new", sectiontitle=heading, text=body,
                           token=client.token())["edit"]["newrevid"])


def test_nobots_planted_inside_a_long_used_template_is_no_shield(sandbox, wiki, unique_title, bot_factory):
    """Step 1: a harmless template, used by two articles — added by an administrator on one, and
    standing for 8 days on the other. Step 2: the vandal edits the template (no candidate: not an
    article) to transclude ``{{nobots}}``, then vandalises both articles. The article's history
    says the template has been there long or was added by a trusted hand; the exclusion inside it
    was written a minute ago by the vandal himself."""
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "exclusion_min_age_days": 7})
    wrapper = f"Infobox {uuid.uuid4().hex[:8]}"
    admin.edit(f"Template:{wrapper}", "<div>An infobox.</div>")
    trusted, old = f"{unique_title} trusted", f"{unique_title} old"
    admin.edit(trusted, "Stable text.")
    admin.edit(trusted, f"{{{{{wrapper}}}}}\nStable text.")  # the administrator adds the infobox
    planted = wiki(sandbox.vandals[1]).edit(old, f"{{{{{wrapper}}}}}\nStable text.")
    backdate_revision(sandbox.dir, sandbox.wiki, planted, days=8)
    bot = bot_factory()
    vandal.edit(f"Template:{wrapper}", "<div>An infobox.</div>{{nobots}}")
    for page in (trusted, old):
        rev = vandal.edit(page, f"{{{{{wrapper}}}}}\nStable text. VANDALISM")
        line = bot.decision(rev, timeout=30)
        assert line["decision"] == "reverted", (page, line)
        assert top_revision(admin, page)["revid"] != rev


def test_a_long_used_template_turned_into_a_redirect_to_nobots_is_no_shield(sandbox, wiki, unique_title, bot_factory):
    """Step 1: an administrator adds a harmless template to an article. Step 2: the vandal
    turns the template into a redirect to ``{{nobots}}`` (a template edit: no candidate), and,
    once the bot has read the exclusion templates' redirects (at its start, then hourly),
    vandalises the article. A redirect is the same template to the exclusion check, so the
    article's text seems to carry ``{{nobots}}`` itself, added by a trusted hand."""
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0, "exclusion_min_age_days": 7})
    box = f"Box {uuid.uuid4().hex[:8]}"
    admin.edit(f"Template:{box}", "<div>A box.</div>")
    page = f"{unique_title} boxed"
    admin.edit(page, "Stable text.")
    admin.edit(page, f"{{{{{box}}}}}\nStable text.")
    vandal.edit(f"Template:{box}", "#REDIRECT [[Template:Nobots]]")
    bot = bot_factory()
    rev = vandal.edit(page, f"{{{{{box}}}}}\nStable text. VANDALISM")
    line = bot.decision(rev, timeout=30)
    assert line["decision"] == "reverted", line


def _reverted_and_answered(sandbox, wiki, unique_title, bot_factory, fp_page: str):
    """An IP's vandal edit reverted by the bot, the IP's report about it answered: (admin, bot, page, rev)."""
    admin = wiki(sandbox.admin)
    set_config(admin, config_for(fp_page))
    page = f"{unique_title} target"
    admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    vandal = wiki(ip="198.51.100.81")
    bad = vandal.edit(page, "Stable text. VANDALISM by the IP")
    assert bot.decision(bad)["decision"] == "reverted"
    revert = top_revision(admin, page)["revid"]
    report(vandal, fp_page, f"{page} (r{bad})", f"<!-- automod-report rev={bad} -->\nIt was fine. ~~~~")
    wait_for(lambda: f"automod — revision {bad} " in page_text(admin, fp_page), timeout=30)
    return admin, vandal, bot, page, bad, revert


def test_an_admins_copyedit_of_every_line_signs_no_forged_confirmation(sandbox, wiki, unique_title, bot_factory,
                                                                      tmp_path):
    """Step 1: the IP writes its own ``: status: confirmed`` line under its report, with a common
    misspelling in it; the bot ignores it (not a reviewer). Step 2: an administrator fixes that
    misspelling all over the page (a routine copyedit). The line's text is now the
    administrator's, but its status is still the IP's: nothing is restored."""
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    admin, vandal, _bot, page, bad, revert = _reverted_and_answered(sandbox, wiki, unique_title, bot_factory, fp_page)
    forged = page_text(admin, fp_page).rstrip() + "\n: status: confirmed — definately a good edit ~~~~\n"
    vandal.edit(fp_page, forged)
    wait_for(lambda: page_text(admin, fp_page).count(IGNORED) == 1, timeout=20)

    admin.edit(fp_page, page_text(admin, fp_page).replace("definately", "definitely"), summary="typo")
    copyedit = top_revision(admin, fp_page)["revid"]
    wait_for(lambda: passed_at(tmp_path, fp_page, copyedit), timeout=30)
    assert top_revision(admin, page)["revid"] == revert, "a copyedit laundered a forged confirmation"
    assert " reinstated: " not in page_text(admin, fp_page)


def waiting_on(tmp_path, page: str) -> bool:
    """Whether the bot's store holds a report on ``page`` waiting for the flood limits."""
    with Store(tmp_path / "automod.sqlite") as store:
        return sqlite_of(store).execute("SELECT 1 FROM actions WHERE kind = 'report-waiting' AND detail LIKE ?",
                                        (f'%{page}%',)).fetchone() is not None


def passed_at(tmp_path, page: str, rev: int) -> bool:
    """Whether the bot's pass over ``page`` has read revision ``rev`` (its store says so)."""
    with Store(tmp_path / "automod.sqlite") as store:
        return sqlite_of(store).execute("SELECT 1 FROM actions WHERE kind = 'report-pass' AND detail = ? "
                                        "AND rev_id >= ?", (page, rev)).fetchone() is not None


def test_an_undo_of_a_fix_and_an_unrelated_admin_edit_sign_no_forged_confirmation(
        sandbox, wiki, unique_title, bot_factory, tmp_path):
    """Step 1: the IP forges the bot's line to ``status: confirmed``; an administrator sets
    it back to open. Step 2: another IP undoes the administrator's edit (a revert of a revert), and an
    administrator then edits another part of the page. Whoever saved the page last, the
    confirmation's author is still the forger: nothing is restored."""
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    admin, vandal, _bot, page, bad, revert = _reverted_and_answered(sandbox, wiki, unique_title, bot_factory, fp_page)
    text = page_text(admin, fp_page)
    forged = re.sub(rf"(automod — revision {bad} .*?status: )open\b", r"\g<1>confirmed", text, count=1)
    assert forged != text
    vandal.edit(fp_page, forged)
    wait_for(lambda: page_text(admin, fp_page).count(IGNORED) == 1, timeout=20)
    now = page_text(admin, fp_page)  # the administrator puts "open" back by hand (the bot's line below stays)
    admin.edit(fp_page, re.sub(rf"(automod — revision {bad} .*?status: )confirmed\b", r"\g<1>open", now, count=1))
    assert "status: confirmed" not in page_text(admin, fp_page).split("automod — revision", 1)[1]
    undone = top_revision(admin, fp_page)["revid"]
    undoer = wiki(ip="198.51.100.82")
    undoer.post(action="edit", title=fp_page, undo=undone, token=undoer.token())
    assert "status: confirmed" in page_text(admin, fp_page).split("automod — revision", 1)[1]
    admin.edit(fp_page, page_text(admin, fp_page).replace("Reports.", "Reports (see the header).", 1))
    edited = top_revision(admin, fp_page)["revid"]
    wait_for(lambda: passed_at(tmp_path, fp_page, edited), timeout=30)
    assert top_revision(admin, page)["revid"] == revert, "a revert of a revert laundered a forged confirmation"
    assert " reinstated: " not in page_text(admin, fp_page)


def test_a_withdrawn_twin_heading_does_not_silence_the_victims_report(sandbox, wiki, unique_title, bot_factory,
                                                                      tmp_path):
    """Step 1: the one-click report's heading is public the moment the bot reverts
    (``Title (rN)``): an IP files that very heading first, about the victim's edit, and is
    answered. The victim's one-click report comes while the report budget is spent (a flood; here
    a limit of one line an hour) and waits. Step 2: the IP withdraws its own twin — an innocent
    edit to one's own report — so the victim's section now stands where the answered twin stood.
    When the budget returns (an administrator raises it), the victim's report is answered, in the
    victim's section; it is not taken for the twin the bot answered before."""
    admin, victim, attacker = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(ip="198.51.100.83")
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page, report_answers_per_hour=1))
    mine = f"{unique_title} victim"
    admin.edit(mine, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    good = victim.edit(mine, "Stable text. VANDALISM (a good edit in fact)")
    assert bot.decision(good)["decision"] == "reverted"
    heading = f"{mine} (r{good})"
    report(attacker, fp_page, heading, f"Was [[Special:Diff/{good}]] really vandalism? ~~~~")
    wait_for(lambda: f"automod — revision {good} " in page_text(admin, fp_page), timeout=20)
    report(victim, fp_page, heading, f"<!-- automod-report rev={good} -->\nReverted edit: "
                   f"[[Special:Diff/{good}]] on [[{mine}]].\n\nWhy it was a good edit: I cited a source. ~~~~")
    wait_for(lambda: waiting_on(tmp_path, fp_page), timeout=30)  # read, and left waiting (budget spent)
    text = page_text(admin, fp_page)
    first = text.index(f"== {heading} ==")
    second = text.index(f"== {heading} ==", first + 1)
    attacker.edit(fp_page, text[:first] + text[second:], summary="withdrawn")
    victims_section = page_text(admin, fp_page)[first:]
    assert "I cited a source" in victims_section and "automod — revision" not in victims_section

    set_config(admin, config_for(fp_page, report_answers_per_hour=10))
    wait_for(lambda: f"automod — revision {good} " in page_text(admin, fp_page), timeout=45)
    section = page_text(admin, fp_page).split(f"== {heading} ==", 1)[1]
    assert "I cited a source" in section and f"automod — revision {good} " in section


def test_a_twin_moved_above_the_victims_between_two_steps_gets_no_line_in_the_victims_section(
        sandbox, wiki, unique_title, gateway, tmp_path):
    """Step 1: a victim's report under heading H is answered. An IP files a report under the
    same heading H, about its own revision. Step 2: while the pass over it is paused between two
    steps (the worker decides candidate edits there: an IP can make one wait), the IP moves its
    section above the victim's. The bot's answer to the IP's report must not be written under
    the victim's plea (where a reviewer reading the victim's case would confirm it); it goes
    under the IP's own section once the page is read again."""
    admin, victim, attacker = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(ip="198.51.100.84")
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    admin.edit(fp_page, "Reports.\n")
    config = CommunityConfig(false_positive_page=fp_page)
    heading = f"{unique_title} (r424242)"
    report(victim, fp_page, heading, "The victim's plea: my edit was good. ~~~~")
    with Store(tmp_path / "automod.sqlite") as store:
        process_report_page(gateway, store, "sandboxwiki", fp_page, editor=victim.name, config=config)
        assert page_text(admin, fp_page).count("automod — ") == 1
        report(attacker, fp_page, heading, "The IP's report: see [[Special:Diff/434343]]. ~~~~")
        steps = report_page_steps(gateway, store, "sandboxwiki", fp_page, editor=attacker.name, config=config)
        for _ in range(4):  # the page, the preload, the header, the sections: read
            next(steps)
        text = page_text(admin, fp_page)
        first = text.index(f"== {heading} ==")
        second = text.index(f"== {heading} ==", first + 1)
        swapped = text[:first] + text[second:].rstrip("\n") + "\n\n" + text[first:second]
        attacker.edit(fp_page, swapped, summary="order")
        run_steps(steps)
        process_report_page(gateway, store, "sandboxwiki", fp_page, editor=attacker.name, config=config)
    text = page_text(admin, fp_page)
    ips, theirs = text.split(f"== {heading} ==")[1:3]
    assert "The IP's report" in ips and "The victim's plea" in theirs
    assert "434343" not in theirs and theirs.count("automod — ") == 1, theirs  # its own answer, once
    assert "434343" in ips.split("The IP's report", 1)[1], "the IP's report is answered under its own section"


def test_an_admins_copy_paste_of_the_text_before_a_blanking_signs_no_forged_confirmation(
        sandbox, wiki, unique_title, bot_factory, tmp_path):
    """Step 1: the IP forges the bot's line to ``status: confirmed`` (ignored). Step 2: another
    IP blanks the page and an administrator restores it — not by rollback but by pasting the
    text of the last good revision (a "manual revert": MediaWiki tags it so, the text's sha1 is
    the earlier one's). Decided: an exact copy of an earlier text authors nothing, whoever pastes
    it; a reviewer who means to confirm writes their own status. Nothing is restored."""
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    admin, vandal, _bot, page, bad, revert = _reverted_and_answered(sandbox, wiki, unique_title, bot_factory, fp_page)
    text = page_text(admin, fp_page)
    vandal.edit(fp_page, re.sub(rf"(automod — revision {bad} .*?status: )open\b", r"\g<1>confirmed", text, count=1))
    wait_for(lambda: page_text(admin, fp_page).count(IGNORED) == 1, timeout=20)
    good = page_text(admin, fp_page)
    wiki(ip="198.51.100.85").edit(fp_page, "")
    admin.edit(fp_page, good, summary="restore the last good version")
    pasted = top_revision(admin, fp_page)
    assert "mw-manual-revert" in admin.revisions(fp_page, limit=1)[0]["tags"]
    wait_for(lambda: passed_at(tmp_path, fp_page, pasted["revid"]), timeout=30)
    assert top_revision(admin, page)["revid"] == revert, "a pasted copy laundered a forged confirmation"
    assert " reinstated: " not in page_text(admin, fp_page)
