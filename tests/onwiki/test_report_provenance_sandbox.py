"""Nobody steers the report page through someone else's hands (issue 26, items 1 and 3), tried
as an attacker would on the sandbox: autoconfirm at 10 edits, anonymous edits from several
addresses. A rollback of a blanking signs none of the forged confirmations it brings back; a
tampered preload is repaired before the next one-click report."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from automod.onwiki.i18n import load_messages
from automod.onwiki.report_page import preload_text
from automod.store import Store
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


def report(client, fp_page: str, heading: str, body: str) -> None:
    client.post(action="edit", title=fp_page, section="new", sectiontitle=heading, text=body, token=client.token())


def set_status(text: str, rev: int, status: str) -> str:
    changed = re.sub(rf"(automod — revision {rev} .*?status: )open\b", rf"\g<1>{status}", text, count=1)
    assert changed != text, f"no open line for r{rev}"
    return changed


@pytest.fixture
def autoconfirm_at_ten(sandbox) -> Iterator[None]:
    """As on Wikipedia: autoconfirmed after 10 edits (no age, so the test's accounts qualify by edits)."""
    extra = sandbox.dir / "conf/extra.php"
    before = extra.read_text()
    extra.write_text(before + "$wgAutoConfirmAge = 0;\n$wgAutoConfirmCount = 10;\n")
    try:
        yield
    finally:
        extra.write_text(before)


def passed_at(tmp_path, page: str, rev: int) -> bool:
    with Store(tmp_path / "automod.sqlite") as store:
        return sqlite_of(store).execute("SELECT 1 FROM actions WHERE kind = 'report-pass' AND detail = ? "
                                        "AND rev_id >= ?", (page, rev)).fetchone() is not None


def test_a_rollback_of_a_blanking_restores_no_forged_confirmation(sandbox, wiki, unique_title, bot_factory, tmp_path,
                                                                  autoconfirm_at_ten):
    admin, patroller = wiki(sandbox.admin), wiki(sandbox.patroller)
    fresh = wiki(ip="198.51.100.30").sign_up(f"Fresh {uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}")
    for i in range(10):  # the autoconfirmed forger: ten edits of its own
        patroller.edit(f"User:{sandbox.patroller.name}/Scratch {unique_title[-8:]}", f"Edit {i}.")
    groups = {name: set(u.get("groups", [])) for name, u in admin.user_info(fresh.name, patroller.name).items()}
    assert "autoconfirmed" in groups[patroller.name] and "autoconfirmed" not in groups[fresh.name], groups
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page))
    pages = [f"{unique_title} {i}" for i in range(3)]
    for page in pages:
        admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    vandals = [wiki(ip=f"198.51.100.{40 + i}") for i in range(3)]
    bad = [v.edit(p, f"Stable text. VANDALISM {i}") for i, (v, p) in enumerate(zip(vandals, pages))]
    reverts = []
    for rev, page in zip(bad, pages):
        assert bot.decision(rev)["decision"] == "reverted"
        reverts.append(top_revision(admin, page)["revid"])
    for vandal, rev in zip(vandals, bad):
        report(vandal, fp_page, f"Revert of r{rev}", f"<!-- automod-report rev={rev} -->\nIt was fine. ~~~~")
    wait_for(lambda: all(f"automod — revision {r} " in page_text(admin, fp_page) for r in bad), timeout=30)

    # Three forged confirmations: an IP, a fresh account, an autoconfirmed account. Each is ignored, answered once.
    for n, (forger, rev) in enumerate(zip([wiki(ip="203.0.113.60"), fresh, patroller], bad), start=1):
        forger.edit(fp_page, set_status(page_text(admin, fp_page), rev, "confirmed"))
        wait_for(lambda: page_text(admin, fp_page).count(IGNORED) == n, timeout=20)

    # An IP blanks the page; an admin rolls the blanking back (a routine patrol action).
    blanker = "203.0.113.61"
    forged = page_text(admin, fp_page).count("status: confirmed")  # the three, and the header's instructions
    wiki(ip=blanker).edit(fp_page, "")
    admin.rollback(fp_page, blanker)
    restored = top_revision(admin, fp_page)["revid"]
    assert page_text(admin, fp_page).count("status: confirmed") == forged >= 3
    wait_for(lambda: passed_at(tmp_path, fp_page, restored), timeout=30)

    for page, revert in zip(pages, reverts):
        assert top_revision(admin, page)["revid"] == revert, "a laundered confirmation restored vandalism"
    with Store(tmp_path / "automod.sqlite") as store:
        statuses = {r.status for rev in bad for r in store.reports_on("sandboxwiki", rev)}
    assert "confirmed" not in statuses and "reinstated" not in statuses, statuses
    text = page_text(admin, fp_page)
    assert " reinstated: " not in text and text.count(IGNORED) == 3, "the same forged changes answered again"


def test_a_tampered_preload_is_repaired_before_the_victims_one_click_report(sandbox, wiki, unique_title, bot_factory):
    admin, victim, attacker = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(ip="198.51.100.50")
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page))
    theirs, mine = f"{unique_title} attacker", f"{unique_title} victim"
    for page in (theirs, mine):
        admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    vandalism = attacker.edit(theirs, "Stable text. VANDALISM by the attacker")
    assert bot.decision(vandalism)["decision"] == "reverted"
    preload = f"{fp_page}/Preload"
    wanted = preload_text(load_messages("en"))
    wait_for(lambda: page_text(admin, preload).strip() == wanted.strip(), timeout=20)
    good = victim.edit(mine, "Stable text. VANDALISM (a good edit in fact)")
    assert bot.decision(good)["decision"] == "reverted"

    # The attacker makes the preload's marker name their own reverted edit.
    attacker.edit(preload, page_text(admin, preload).replace("rev=$1", f"rev={vandalism}"))
    assert f"rev={vandalism}" in page_text(admin, preload)
    wait_for(lambda: page_text(admin, preload).strip() == wanted.strip(), timeout=20)
    assert top_revision(admin, preload)["user"] == sandbox.bot.name

    # The victim's one-click report: MediaWiki fills the preload's $1 and $2 from the link.
    form = page_text(admin, preload).replace("$1", str(good)).replace("$2", mine).replace(
        "~~<includeonly>~~</includeonly>", "~~~~")
    report(victim, fp_page, f"{mine} (r{good})", form)
    wait_for(lambda: f"automod — revision {good} " in page_text(admin, fp_page), timeout=20)
    assert f"automod — revision {vandalism} " not in page_text(admin, fp_page)
    admin.edit(fp_page, set_status(page_text(admin, fp_page), good, "confirmed"))
    wait_for(lambda: " reinstated: " in page_text(admin, fp_page), timeout=20)
    assert "VANDALISM (a good edit in fact)" in page_text(admin, mine)
    assert "VANDALISM by the attacker" not in page_text(admin, theirs)


def test_a_header_changed_by_an_untrusted_hand_is_put_back(sandbox, wiki, unique_title, bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    fp_page = f"Project:Automod/False positives {unique_title[-8:]}"
    set_config(admin, config_for(fp_page))
    header = "Report edits the bot should not have reverted, with the link in its notice."
    admin.edit(fp_page, f"{header}\n\n== Earlier ==\nA report. ~~~~\n")
    bot_factory()
    evil = f"Reports go to [[User:{sandbox.vandals[0].name}]] now."
    vandal.edit(fp_page, page_text(admin, fp_page).replace(header, evil))
    wait_for(lambda: page_text(admin, fp_page).startswith(header), timeout=20)
    assert "== Earlier ==\nA report." in page_text(admin, fp_page)
    new = "Reports: use the link in the bot's notice. Reviewers: set the status."
    admin.edit(fp_page, page_text(admin, fp_page).replace(header, new))  # a trusted hand's change stays
    report(wiki(ip="198.51.100.70"), fp_page, "Some report", "Hello. ~~~~")
    latest = top_revision(admin, fp_page)["revid"]
    wait_for(lambda: top_revision(admin, fp_page)["revid"] > latest, timeout=20)  # the bot's no-match line
    assert page_text(admin, fp_page).startswith(new)
