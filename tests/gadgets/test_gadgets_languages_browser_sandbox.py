"""The gadgets in the wiki's language, in a real headless Chromium against French and Russian
sandbox wikis with the real bot: the review buttons and summaries come from the bot's message
files (a wiki's own ``MediaWiki:Automod-gadget-…`` page wins), a click still reinstates; the
config form shows nested keys as fieldsets built from the schema, validates them with the bot's
messages, and a nested key saved through it is what the bot applies."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automod.onwiki.i18n import fill, load_messages
from automod.sandbox import SandboxInfo
from automod.schemas import COMMUNITY_CONFIG, schema_problems
from support.browser import chromium, log_in, wait_for
from support.liftwing_standin import running_standin
from support.moderation_helpers import REVERTING, bot_settings, launch_bot, score_from_wiki, set_config, top_revision
from support.wiki import WikiClient, started_sandbox

pytestmark = pytest.mark.sandbox

CONFIG_PAGE = "MediaWiki:Automod-config.json"


def install(info: SandboxInfo) -> SandboxInfo:
    """The gadgets, installed as the interface admin by the operator's own command."""
    done = subprocess.run([sys.executable, "-m", "automod", "install-gadgets", "--settings", str(info.settings),
                           "--wiki", "sandboxwiki", "--as", info.admin.name],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return info


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    with started_sandbox(tmp_path_factory, "gadgets-fr", lang="fr") as info:
        yield install(info)


@pytest.fixture(scope="module")
def russian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    with started_sandbox(tmp_path_factory, "gadgets-ru", lang="ru") as info:
        yield install(info)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as driver:
        yield driver


def page_url(info: SandboxInfo, title: str) -> str:
    return f"{info.index_url}?title={title.replace(' ', '_')}"


def text_of(client: WikiClient, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


@pytest.mark.parametrize("lang", ["fr", "ru"])
def test_review_buttons_and_summary_in_the_wikis_language_and_a_click_reinstates(
        lang: str, request: pytest.FixtureRequest, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    info: SandboxInfo = request.getfixturevalue({"fr": "french", "ru": "russian"}[lang])
    messages = load_messages(lang)
    admin, anon = WikiClient(info, info.admin), WikiClient(info, ip="198.51.100.28")
    assert admin.get(action="query", meta="siteinfo")["query"]["general"]["lang"] == lang
    fp_page = f"Automod {lang} {time.time_ns()}"
    title = f"Page {lang} {time.time_ns()}"
    set_config(admin, {**REVERTING, "false_positive_page": fp_page})
    # A wiki's admins reword a gadget text on the wiki, as they do the bot's notices.
    own_decline = {"fr": "Refuser (texte de la communauté)", "ru": "Отклонить (текст сообщества)"}[lang]
    admin.edit("MediaWiki:Automod-gadget-decline", own_decline)
    admin.edit(title, "Texte stable.")
    with running_standin(score_function=score_from_wiki(info.api_url)) as liftwing:
        bot = launch_bot(info, tmp_path, bot_settings(info, tmp_path, liftwing.url))
        try:
            bad = anon.edit(title, "Texte stable. VANDALISM (une bonne modification en fait)")
            assert bot.decision(bad)["decision"] == "reverted"
            anon.post(action="edit", title=fp_page, section="new", sectiontitle=f"Annulation sur {title}",
                      text=f"<!-- automod-report rev={bad} -->\nUne correction. ~~~~", token=anon.token())
            wait_for(lambda: "status: open" in text_of(admin, fp_page) and str(bad) in text_of(admin, fp_page),
                     "the bot's line under the report", 30)

            log_in(browser, info.index_url, info.admin.name, info.admin.password)
            browser.get(page_url(info, fp_page))
            box = f".automod-review[data-rev='{bad}']"
            confirm = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, f"{box} .automod-review-confirm"),
                               "the Confirm button", 30)
            decline = browser.find_element(By.CSS_SELECTOR, f"{box} .automod-review-decline")
            assert confirm.text == messages.text("automod-gadget-confirm") != load_messages("en").text(
                "automod-gadget-confirm")
            assert decline.text == own_decline
            confirm.click()
            wait_for(lambda: browser.find_element(By.CSS_SELECTOR, f".automod-review[data-rev='{bad}']")
                     .get_attribute("data-saved") == "confirmed", "the reviewer's line saved", 30)
            note = browser.find_element(By.CSS_SELECTOR, f".automod-review[data-rev='{bad}'] .automod-review-note")
            assert note.text == messages.format("automod-gadget-review-saved", "confirmed")
            # The bot still reads the reviewer's line (its "status: confirmed" stays the bot's own word).
            wait_for(lambda: "une bonne modification en fait" in text_of(admin, title), "the reinstated edit", 40)
            assert top_revision(admin, title)["user"] == info.bot.name
        finally:
            bot.stop()
    line = next(r for r in admin.revisions(fp_page, limit=10) if r["user"] == info.admin.name)
    assert line["comment"] == fill(messages.text("automod-gadget-review-summary-confirmed"), f"[[Special:Diff/{bad}]]")
    assert (f": status: confirmed — {messages.text('automod-gadget-review-line-confirmed')} [["
            in text_of(admin, fp_page))


def test_a_nested_key_is_a_fieldset_validated_like_the_bot_and_the_bot_applies_it(
        french: SandboxInfo, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    info, fr = french, load_messages("fr")
    admin, vandal = WikiClient(french, french.admin), WikiClient(french, ip="198.51.100.29")
    # talk_notice left at its default (no notices); a report page, which notices require.
    set_config(admin, {**REVERTING, "false_positive_page": f"Automod faux positifs {time.time_ns()}"})
    title = f"Page imbriquée {time.time_ns()}"
    other = f"{title} bis"  # the revert cap allows one revert per editor per page
    admin.edit(title, "Texte stable.")
    admin.edit(other, "Texte stable.")
    talk = "User talk:198.51.100.29"
    log_in(browser, info.index_url, info.admin.name, info.admin.password)
    browser.get(page_url(info, CONFIG_PAGE))
    wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-automod-config") == "ready",
             "the config form", 30)
    assert browser.find_element(By.CSS_SELECTOR, ".automod-config-form h3").text == fr.text(
        "automod-gadget-config-heading")
    assert browser.find_element(By.CSS_SELECTOR, ".automod-config-save").text == fr.text("automod-gadget-config-save")
    # Nested objects are fieldsets of their keys; only the array of objects (models) stays raw JSON.
    for group in ("talk_notice", "warnings"):
        assert browser.find_element(By.CSS_SELECTOR, f"fieldset#automod-config-{group} legend").text == group
    assert browser.find_elements(By.CSS_SELECTOR, "textarea#automod-config-warnings") == []
    assert [t.get_attribute("id") for t in browser.find_elements(By.CSS_SELECTOR, ".automod-config-form textarea")] \
        == ["automod-config-models"]
    levels = browser.find_element(By.ID, "automod-config-warnings-levels")
    assert levels.get_attribute("value") == "1"  # the schema's default
    levels.clear()
    levels.send_keys("9")  # the bot's own message for it, and no saving
    shown = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".automod-config-problems li").text, "a problem")
    assert shown == str(schema_problems({**REVERTING, "warnings": {"levels": 9}}, COMMUNITY_CONFIG)[0])
    assert not browser.find_element(By.CSS_SELECTOR, ".automod-config-save").is_enabled()
    levels.clear()
    levels.send_keys("1")
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".automod-config-save").is_enabled(), "saving allowed")

    with running_standin(score_function=score_from_wiki(info.api_url)) as liftwing:
        bot = launch_bot(info, tmp_path, bot_settings(info, tmp_path, liftwing.url))
        try:
            before = vandal.edit(title, "Texte stable. VANDALISM")
            assert bot.decision(before)["decision"] == "reverted"
            assert text_of(admin, talk) == ""  # notices off: none
            enabled = browser.find_element(By.ID, "automod-config-talk_notice-enabled")
            browser.execute_script("arguments[0].scrollIntoView()", enabled)
            enabled.click()
            browser.find_element(By.CSS_SELECTOR, ".automod-config-save").click()
            status = browser.find_element(By.CSS_SELECTOR, ".automod-config-status")
            wait_for(lambda: status.get_attribute("data-saved"), "the config saved", 30)
            saved = json.loads(text_of(admin, CONFIG_PAGE))
            assert saved["talk_notice"] == {"enabled": True} and "warnings" not in saved  # only what changed
            top = admin.revisions(CONFIG_PAGE, limit=1)[0]
            assert top["user"] == info.admin.name and top["comment"] == fr.text("automod-gadget-config-summary")
            after = vandal.edit(other, "Texte stable. VANDALISM encore")
            assert bot.decision(after)["decision"] == "reverted"
            notice = wait_for(lambda: text_of(admin, talk), "the notice the saved nested key turned on", 30)
        finally:
            bot.stop()
    assert "[[Special:Diff/" in notice and other in notice
