"""When the bot is wrong: talk-page notices, one-click reports and their on-wiki log,
end to end on the sandbox wiki with the real bot."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from automod.store import Store
from support.moderation_helpers import (
    REVERTING,
    set_config,
    top_revision,
)
from support.relay_helpers import wait_for
from support.wiki import WikiClient

pytestmark = pytest.mark.sandbox



@pytest.fixture
def fp_page(unique_title, sandbox):
    return f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"



def notices_config(fp_page: str, **talk) -> dict:
    return {**REVERTING, "talk_notice": {"enabled": True, "registered_only": False, **talk},
            "false_positive_page": fp_page}


def heading_now(sandbox) -> str:
    return time.strftime("%B %Y", time.gmtime()) + f": {sandbox.bot.name} reverted your edit"


def talk_text(client: WikiClient, user: str) -> str:
    revs = client.revisions(f"User talk:{user}", limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def wait_reverted(client, sandbox, title):
    wait_for(lambda: top_revision(client, title)["user"] == sandbox.bot.name, timeout=10)
    return top_revision(client, title)["revid"]


def test_reverted_editors_get_one_notice_section_a_month_with_the_report_link(sandbox, wiki, unique_title, fp_page,
                                                                              bot_factory):
    admin, vandal, anon = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki()
    set_config(admin, notices_config(fp_page))
    pages = [f"{unique_title} {i}" for i in range(3)]
    for page in pages:
        admin.edit(page, "Stable text.")
    ip_sections_before = talk_text(admin, "127.0.0.1").count(heading_now(sandbox))
    # Earlier tests may have warned this vandal this month: start from an empty talk page, so
    # that this month's first revert opens the section.
    if heading_now(sandbox) in talk_text(admin, sandbox.vandals[1].name):
        admin.edit(f"User talk:{sandbox.vandals[1].name}", "Archived.")
    bot_factory()
    first = vandal.edit(pages[0], "Stable text. VANDALISM")
    revert = wait_reverted(admin, sandbox, pages[0])
    # The month's section may exist already (earlier tests): wait for this revert's own line.
    text = wait_for(lambda: f"[[Special:Diff/{revert}|your edit]]" in talk_text(admin, sandbox.vandals[1].name)
                    and talk_text(admin, sandbox.vandals[1].name))
    assert heading_now(sandbox) in text and f"[[{pages[0]}]]" in text
    link = [url for url in re.findall(r"\[(http://\S+)", text) if f"preloadparams%5B%5D={first}" in url][-1]
    params = dict(parse_qsl(urlsplit(link).query))
    assert params["title"] == fp_page and params["preload"] == f"{fp_page}/Preload" and params["section"] == "new"
    assert [v for k, v in parse_qsl(urlsplit(link).query) if k == "preloadparams[]"] == [str(first), pages[0]]

    vandal.edit(pages[1], "Stable text. VANDALISM again")  # same month: a line, not a section
    wait_for(lambda: f"[[{pages[1]}]]" in talk_text(admin, sandbox.vandals[1].name))
    assert "another of your edits" in talk_text(admin, sandbox.vandals[1].name)
    assert talk_text(admin, sandbox.vandals[1].name).count(heading_now(sandbox)) == 1

    anon.edit(pages[2], "Stable text. VANDALISM from an IP")
    wait_reverted(admin, sandbox, pages[2])
    wait_for(lambda: f"[[{pages[2]}]]" in talk_text(admin, "127.0.0.1"))
    assert talk_text(admin, "127.0.0.1").count(heading_now(sandbox)) == max(1, ip_sections_before)


def test_no_notice_for_ips_when_registered_only_in_log_only_mode_or_after_a_lost_race(
        sandbox, wiki, liftwing, unique_title, fp_page, bot_factory):
    admin, vandal, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    set_config(admin, notices_config(fp_page, registered_only=True))
    pages = [f"{unique_title} {i}" for i in range(3)]
    for page in pages:
        admin.edit(page, "Stable text.")
    bot = bot_factory()
    ip_talk_before = talk_text(admin, "127.0.0.1")
    rev = anon.edit(pages[0], "Stable text. VANDALISM from an IP")
    assert bot.decision(rev)["decision"] == "reverted"
    vandal_talk_before = talk_text(admin, sandbox.vandals[0].name)
    liftwing.hang_next(1.0)  # meanwhile a human fixes the page: the bot's rollback loses the race
    rev = vandal.edit(pages[1], "Stable text. VANDALISM")
    time.sleep(0.3)
    admin.edit(pages[1], "Stable text. Fixed by a human.")
    assert bot.decision(rev)["decision"] == "beaten"
    bot.stop()
    set_config(admin, {**notices_config(fp_page), "mode": "log-only"})
    bot = bot_factory()
    rev = vandal.edit(pages[2], "Stable text. VANDALISM")
    assert bot.decision(rev)["decision"] == "would-revert"
    bot.stop()
    assert talk_text(admin, "127.0.0.1") == ip_talk_before
    assert talk_text(admin, sandbox.vandals[0].name) == vandal_talk_before


def preload_form(sandbox, link: str) -> tuple[str, str]:
    """What a browser following the link shows: the pre-filled section title and text."""
    client = WikiClient(sandbox)
    page = client.session.get(link, timeout=30).text
    text = html.unescape(re.search(r'<textarea[^>]*id="wpTextbox1"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    summary = html.unescape(re.search(r"<input[^>]*name='wpSummary' value='([^']*)'", page).group(1))
    return summary, text.lstrip("\n")


def test_one_click_report_gets_the_bots_line_and_reviewers_status_comes_back(sandbox, wiki, unique_title, fp_page,
                                                                             bot_factory, tmp_path):
    admin, anon = wiki(sandbox.admin), wiki()
    set_config(admin, notices_config(fp_page))
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports of edits automod should not have reverted.\n")
    bot = bot_factory()
    bad = anon.edit(unique_title, "Stable text. VANDALISM (a good edit in fact)")
    assert bot.decision(bad)["decision"] == "reverted"
    text = wait_for(lambda: f"[[{unique_title}]]" in talk_text(admin, "127.0.0.1") and talk_text(admin, "127.0.0.1"))
    link = [url for url in re.findall(r"\[(http://\S+)", text) if f"preloadparams%5B%5D={bad}" in url][-1]
    section_title, preloaded = preload_form(sandbox, link)
    assert f"Special:Diff/{bad}" in preloaded and f"automod-report rev={bad}" in preloaded
    anon.post(action="edit", title=fp_page, section="new", sectiontitle=section_title,
              text=preloaded.replace("Why it was a good edit: ", "Why it was a good edit: I fixed a typo."),
              token=anon.token())
    page_text = lambda: admin.revisions(fp_page, limit=1)[0]["slots"]["main"]["content"]  # noqa: E731
    wait_for(lambda: f"automod — revision {bad}" in page_text(), timeout=10)
    line = next(wikiline for wikiline in page_text().splitlines() if f"automod — revision {bad}" in wikiline)
    assert "score 0.9950" in line and "model revertrisk-language-agnostic 3" in line and "threshold 0.99" in line
    assert "status: open" in line and "I fixed a typo." in page_text()
    settings = sorted(tmp_path.glob("settings*"))[-1]
    listed = subprocess.run([sys.executable, "-m", "automod", "reports", "--settings", str(settings),
                             "--wiki", "sandboxwiki"], capture_output=True, text=True, timeout=60)
    report = [json.loads(out) for out in listed.stdout.splitlines() if json.loads(out)["rev_id"] == bad][0]
    assert (report["status"], report["kind"], report["probability"]) == ("open", "explicit", 0.995)

    admin.edit(fp_page, page_text().replace(f"{line}", line.replace("status: open", "status: confirmed")))
    def status() -> str:
        with Store(tmp_path / "automod.sqlite") as store:
            return store.reports("sandboxwiki")[0].status
    # A confirmed report of an untouched page is reinstated at once: both mean "confirmed".
    wait_for(lambda: status() in ("confirmed", "reinstated"), timeout=10)


def test_a_report_about_an_edit_the_bot_never_reverted_gets_a_polite_answer(sandbox, wiki, unique_title, fp_page,
                                                                            bot_factory):
    admin, patroller = wiki(sandbox.admin), wiki(sandbox.patroller)
    set_config(admin, notices_config(fp_page))
    rev = admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot_factory()
    patroller.post(action="edit", title=fp_page, section="new", sectiontitle="Wrong revert?",
                   text=f"<!-- automod-report rev={rev} -->\nWhy was [[Special:Diff/{rev}]] reverted? ~~~~",
                   token=patroller.token())
    text = lambda: admin.revisions(fp_page, limit=1)[0]["slots"]["main"]["content"]  # noqa: E731
    wait_for(lambda: "I find no revert of this revision by me" in text(), timeout=10)


def test_an_admin_undoing_the_bots_revert_is_logged_as_a_probable_false_positive(sandbox, wiki, unique_title, fp_page,
                                                                                 bot_factory, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, notices_config(fp_page))
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    bad = vandal.edit(unique_title, "Stable text. VANDALISM but actually fine")
    assert bot.decision(bad)["decision"] == "reverted"
    revert = top_revision(admin, unique_title)["revid"]
    admin.post(action="edit", title=unique_title, undo=revert, summary="this was fine", token=admin.token())
    text = lambda: admin.revisions(fp_page, limit=1)[0]["slots"]["main"]["content"]  # noqa: E731
    wait_for(lambda: f"Probable false positive: {unique_title}" in text(), timeout=10)
    assert f"automod — revision {bad} · [[Special:Diff/{revert}|revert]]" in text() and "status: open" in text()
    with Store(tmp_path / "automod.sqlite") as store:
        row = store.reports("sandboxwiki")[0]
    assert (row.rev_id, row.kind, row.status, row.reporter) == (bad, "implicit", "open", sandbox.admin.name)


def test_concurrent_human_edits_to_the_report_page_lose_no_text(sandbox, wiki, unique_title, fp_page, bot_factory):
    admin, anon, patroller = wiki(sandbox.admin), wiki(), wiki(sandbox.patroller)
    set_config(admin, {**notices_config(fp_page), "max_reverts_per_user_per_page": 0})
    pages = [f"{unique_title} {i}" for i in range(4)]
    for page in pages:
        admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    bad = [anon.edit(p, "Stable text. VANDALISM") for p in pages]
    for rev in bad:
        assert bot.decision(rev)["decision"] == "reverted"
    comments = [f"Human comment {i} {unique_title[-8:]}" for i in range(6)]

    def humans() -> None:
        for c in comments:
            patroller.post(action="edit", title=fp_page, appendtext=f"\n\n{c} ~~~~", token=patroller.token())
            time.sleep(0.05)

    thread = threading.Thread(target=humans)
    thread.start()
    for rev, page in zip(bad, pages):
        anon.post(action="edit", title=fp_page, section="new", sectiontitle=f"{page} (r{rev})",
                  text=f"<!-- automod-report rev={rev} -->\nThis was fine. ~~~~", token=anon.token())
    thread.join(30)
    text = lambda: admin.revisions(fp_page, limit=1)[0]["slots"]["main"]["content"]  # noqa: E731
    wait_for(lambda: all(f"automod — revision {r}" in text() for r in bad), timeout=20)
    final = text()
    assert all(c in final for c in comments), "a human comment was lost"
    assert final.count("This was fine.") == len(bad)
    assert all(final.count(f"automod — revision {r}") == 1 for r in bad)


def test_a_community_override_of_the_notice_text_is_used_with_parameters_filled(sandbox, wiki, unique_title, fp_page,
                                                                                bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    set_config(admin, notices_config(fp_page))
    admin.edit(unique_title, "Stable text.")
    admin.edit("MediaWiki:Automod-notice",
               "Custom notice from $1: I undid [[Special:Diff/$2]] on [[$3]] (score $4). ~~~~")
    admin.edit("MediaWiki:Automod-notice-heading", "Automod note $1 $2 " + unique_title[-8:])
    try:
        bot = bot_factory()
        rev = vandal.edit(unique_title, "Stable text. VANDALISM")
        assert bot.decision(rev)["decision"] == "reverted"
        revert = top_revision(admin, unique_title)["revid"]
        text = wait_for(lambda: unique_title[-8:] in talk_text(admin, sandbox.vandals[1].name)
                        and talk_text(admin, sandbox.vandals[1].name))
        assert (f"Custom notice from {sandbox.bot.name}: I undid [[Special:Diff/{revert}]]"
                f" on [[{unique_title}]] (score 0.995)") in text
        assert time.strftime("Automod note %B %Y ", time.gmtime()) + unique_title[-8:] in text
    finally:
        for page in ("MediaWiki:Automod-notice", "MediaWiki:Automod-notice-heading"):
            admin.post(action="delete", title=page, token=admin.token())
