"""The bot writes in the wiki's language, and a one-click report is signed by its reporter.

A French wiki is a sandbox of its own (installed with ``lang="fr"``, a few seconds); the
report test uses the session's English wiki.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from automod.errors import SandboxError
from automod.onwiki.i18n import load_messages
from automod.onwiki.reports import preload_text
from automod.sandbox import SandboxInfo, down, up
from support.liftwing_standin import running_standin
from support.moderation_helpers import (
    REVERTING,
    bot_settings,
    launch_bot,
    score_from_wiki,
    set_config,
    top_revision,
)
from support.relay_helpers import wait_for
from support.wiki import WikiClient, started_sandbox

pytestmark = pytest.mark.sandbox

FRENCH_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                 "octobre", "novembre", "décembre"]


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    with started_sandbox(tmp_path_factory, "sandbox-fr", lang="fr") as info:
        yield info


def page_text(client: WikiClient, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def preload_form(sandbox: SandboxInfo, link: str, client: WikiClient) -> tuple[str, str]:
    """What a browser following the link shows: the pre-filled section title and edit box."""
    page = client.session.get(link, timeout=30).text
    text = html.unescape(re.search(r'<textarea[^>]*id="wpTextbox1"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    summary = html.unescape(re.search(r"<input[^>]*name='wpSummary' value='([^']*)'", page).group(1))
    return summary, text.lstrip("\n")


def test_a_french_wiki_gets_the_french_notice_with_its_parameters_filled(french: SandboxInfo, tmp_path: Path) -> None:
    admin, vandal = WikiClient(french, french.admin), WikiClient(french, french.vandals[0])
    assert admin.get(action="query", meta="siteinfo")["query"]["general"]["lang"] == "fr"
    fp_page = "Automod faux positifs"
    set_config(admin, {**REVERTING, "talk_notice": {"enabled": True, "registered_only": False},
                       "false_positive_page": fp_page, "help_page": "Aide:Automod"})
    title = f"Page de test {time.time_ns()}"
    admin.edit(title, "Texte stable.")
    with running_standin(score_function=score_from_wiki(french.api_url)) as liftwing:
        bot = launch_bot(french, tmp_path, bot_settings(french, tmp_path, liftwing.url))
        try:
            bad = vandal.edit(title, "Texte stable. VANDALISM")
            assert bot.decision(bad)["decision"] == "reverted"
            talk = f"User talk:{french.vandals[0].name}"
            text = wait_for(lambda: page_text(admin, talk))
        finally:
            bot.stop()
    revert = top_revision(admin, title)
    assert revert["user"] == french.bot.name
    fr = load_messages("fr")
    link = re.search(r"\[(http://\S+)", text).group(1)
    help_line = fr.format("automod-notice-help", "Aide:Automod")
    expected = fr.format("automod-notice", french.bot.name, revert["revid"], title, "0.995", link, help_line, bad)
    # The saved notice is the French message, parameters filled, signed by the bot.
    body = expected.removesuffix("~~~~")
    assert body in text and "J'ai annulé [[Special:Diff/" in body
    assert f"[[Special:Diff/{revert['revid']}|votre modification]] de [[{title}]]" in text
    assert re.search(rf"{re.escape(body)}\[\[(Utilisateur|User):{french.bot.name}\|", text)
    moment = time.gmtime()
    assert (f"== {FRENCH_MONTHS[moment.tm_mon - 1]} {moment.tm_year} : {french.bot.name}"
            " a annulé votre modification ==") in text
    params = dict(parse_qsl(urlsplit(link).query))
    assert params["preload"] == f"{fp_page}/Preload" and params["section"] == "new"
    # Edit summaries too: the rollback's and the notice's.
    assert revert["comment"] == fr.format("automod-rollback-summary", title, french.vandals[0].name, "0.995",
                                          "revertrisk-language-agnostic", fp_page, bad)
    assert admin.revisions(talk, limit=1)[0]["comment"] == f"Avis d'annulation automatique sur [[{title}]]"
    # The report form a French editor opens is French and ends with their own signature to come.
    _, preloaded = preload_form(french, link, vandal)
    assert preloaded.startswith(f"<!-- automod-report rev={bad} -->\nModification annulée : [[Special:Diff/{bad}]]")
    assert preloaded.rstrip().endswith("~~~~")


def test_a_one_click_report_is_signed_by_the_reporter_not_the_bot(sandbox, wiki, unique_title, bot_factory) -> None:
    admin, reporter = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    fp_page = f"User:{sandbox.bot.name}/Reports {unique_title[-8:]}"
    set_config(admin, {**REVERTING, "talk_notice": {"enabled": True, "registered_only": False},
                       "false_positive_page": fp_page})
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports of edits automod should not have reverted.\n")
    # An older release saved the preload with a bare ~~~~, which MediaWiki signed with the bot's name.
    wiki(sandbox.bot).edit(f"{fp_page}/Preload", "<!-- automod-report rev=$1 -->\nReverted edit: "
                           "[[Special:Diff/$1]] on [[$2]].\n\nWhy it was a good edit: \n\n~~~~\n")
    assert f"[[User:{sandbox.bot.name}|" in page_text(admin, f"{fp_page}/Preload")
    bot = bot_factory()
    bad = reporter.edit(unique_title, "Stable text. VANDALISM (a good edit in fact)")
    assert bot.decision(bad)["decision"] == "reverted"
    talk = f"User talk:{sandbox.vandals[1].name}"
    text = wait_for(lambda: f"preloadparams%5B%5D={bad}" in page_text(admin, talk) and page_text(admin, talk))
    link = [url for url in re.findall(r"\[(http://\S+)", text) if f"preloadparams%5B%5D={bad}" in url][-1]
    # The bot repaired its own preload page; no signature is stored in it.
    assert page_text(admin, f"{fp_page}/Preload").strip() == preload_text(load_messages("en")).strip()

    # The reporter follows the link in a browser, writes a reason and saves, as MediaWiki does.
    section_title, preloaded = preload_form(sandbox, link, reporter)
    assert preloaded.rstrip().endswith("~~~~") and sandbox.bot.name not in preloaded
    reporter.post(action="edit", title=fp_page, section="new", sectiontitle=section_title,
                  text=preloaded.replace("Why it was a good edit: ", "Why it was a good edit: I fixed a typo."),
                  token=reporter.token())
    saved = wait_for(lambda: f"automod — revision {bad} ·" in page_text(admin, fp_page) and page_text(admin, fp_page))
    report = saved[saved.index(f"== {section_title} =="):saved.index(f"automod — revision {bad} ·")]
    assert "I fixed a typo." in report
    assert re.search(rf"I fixed a typo\.\s*\[\[User:{sandbox.vandals[1].name}\|", report), report
    assert f"[[User:{sandbox.bot.name}|" not in report, "the report is signed by the bot"


def test_languages_are_checked_first_and_kept_across_restarts(french: SandboxInfo, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="unknown content language 'xx'"):
        up(tmp_path / "xx", lang="xx")
    with pytest.raises(SandboxError, match="2 languages for 1 wikis"):
        up(tmp_path / "two", lang="en,fr")
    assert not (tmp_path / "xx").exists() and not (tmp_path / "two").exists()
    down(french.dir)
    again = up(french.dir)  # no language given: the one it ran with
    assert WikiClient(again).get(action="query", meta="siteinfo")["query"]["general"]["lang"] == "fr"
    assert yaml.safe_load(again.settings.read_text())["wikis"][0]["lang"] == "fr"
