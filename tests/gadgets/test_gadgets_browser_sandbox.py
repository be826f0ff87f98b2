"""The review and config gadgets in a real headless Chromium against the sandbox wiki, with the
real bot: a reviewer's click reinstates an edit, others see no buttons; an admin moves the
threshold, sees the expected reverts per day change, saves, and the bot applies it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from automod.evidence import with_labels
from automod.schemas import COMMUNITY_CONFIG, schema_problems
from automod.store import MIGRATIONS, Store
from support.browser import chromium, log_in, screenshot, wait_for
from support.moderation_helpers import REVERTING, set_config, top_revision
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
MODEL = "revertrisk-language-agnostic"


def automod(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "automod", *args], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def gadgets(sandbox):
    """The gadgets, installed once as the interface admin by the operator's own command."""
    automod("install-gadgets", "--settings", str(sandbox.settings), "--wiki", "sandboxwiki", "--as",
            sandbox.admin.name)


@pytest.fixture(scope="module")
def browser(gadgets):
    with chromium() as driver:
        yield driver


def page_url(sandbox, title: str) -> str:
    return f"{sandbox.index_url}?title={title.replace(' ', '_')}"


def text_of(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def test_a_reviewer_confirms_with_one_click_and_the_bot_reinstates_others_see_no_buttons(
        sandbox, wiki, unique_title, bot_factory, browser):
    from selenium.webdriver.common.by import By

    admin, anon = wiki(sandbox.admin), wiki()
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, {**REVERTING, "talk_notice": {"enabled": True, "registered_only": False},
                       "false_positive_page": fp_page})
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    bad = anon.edit(unique_title, "Stable text. VANDALISM (a good edit in fact)")
    assert bot.decision(bad)["decision"] == "reverted"
    revert = top_revision(admin, unique_title)["revid"]
    # The page the revert's summary links existed before the revert, with its instructions.
    first = admin.revisions(fp_page, limit=50)[-1]
    assert first["revid"] < revert and first["user"] == sandbox.bot.name
    assert "To review" in first["slots"]["main"]["content"] and "rollback" in first["slots"]["main"]["content"]

    anon.post(action="edit", title=fp_page, section="new", sectiontitle=f"Revert on {unique_title}",
              text=f"<!-- automod-report rev={bad} -->\nI fixed a typo. ~~~~", token=anon.token())
    wait_for(lambda: f"automod — revision {bad}" in text_of(admin, fp_page), timeout=20)

    log_in(browser, sandbox.index_url, sandbox.patroller.name, sandbox.patroller.password)
    browser.get(page_url(sandbox, fp_page))
    wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-automod-review"),
             "the review gadget's verdict on the patroller", 30)
    assert browser.find_elements(By.CSS_SELECTOR, ".automod-review button") == []

    log_in(browser, sandbox.index_url, sandbox.admin.name, sandbox.admin.password)
    browser.get(page_url(sandbox, fp_page))
    confirm = wait_for(lambda: browser.find_element(
        By.CSS_SELECTOR, f".automod-review[data-rev='{bad}'] .automod-review-confirm"), "the Confirm button", 30)
    screenshot(browser, IMAGES / "review-gadget.png")
    confirm.click()
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, f".automod-review[data-rev='{bad}']")
             .get_attribute("data-saved") == "confirmed", "the reviewer's line saved", 30)
    # The bot reads the reviewer's own line (credited to the Admin by the page history) and reinstates.
    wait_for(lambda: "VANDALISM (a good edit in fact)" in text_of(admin, unique_title), "the reinstated edit", 30)
    assert top_revision(admin, unique_title)["user"] == sandbox.bot.name
    reviewed = admin.revisions(fp_page, limit=10)
    line = next(r for r in reviewed if "status: confirmed" in r["slots"]["main"]["content"]
                and r["user"] == sandbox.admin.name)
    assert "Confirm false positive" in line["comment"]
    page = text_of(admin, fp_page)
    assert f": status: confirmed — confirm false positive (review gadget) [[User:{sandbox.admin.name}" in page
    assert "status: open" in page  # the bot's own line was not touched


def publish_evidence(sandbox, tmp_path: Path) -> None:
    """A week of scores with outcome labels in a store, published by `automod thresholds --publish`."""
    store_path = tmp_path / "evidence" / "automod.sqlite"
    store_path.parent.mkdir()
    now = time.time()
    with Store(store_path, migrations=with_labels(MIGRATIONS)) as store:
        for i in range(400):
            p = 0.80 + 0.2 * i / 400
            store.record_score("sandboxwiki", 10_000 + i, MODEL, "3", p)
            store.record_label("sandboxwiki", 10_000 + i, "human-reverted" if p > 0.9 or i % 3 else "kept",
                               "test", observed_at=now)
    settings = yaml.safe_load(sandbox.settings.read_text())
    settings["store"] = str(store_path)
    path = write_settings(tmp_path / "evidence-settings.yaml", settings)
    automod("thresholds", "--settings", str(path), "--wiki", "sandboxwiki", "--no-files", "--days", "7",
            "--publish", f"User:{sandbox.bot.name}/Thresholds.json")


def test_an_admin_moves_the_threshold_sees_reverts_per_day_change_saves_and_the_bot_applies_it(
        sandbox, wiki, unique_title, bot_factory, browser, tmp_path):
    from selenium.webdriver.common.by import By

    admin, anon = wiki(sandbox.admin), wiki()
    publish_evidence(sandbox, tmp_path)
    set_config(admin, {**REVERTING})  # no threshold: the very-cautious level, 0.99
    admin.edit(unique_title, "Stable text.")
    log_in(browser, sandbox.index_url, sandbox.admin.name, sandbox.admin.password)
    browser.get(page_url(sandbox, "MediaWiki:Automod-config.json"))
    field = wait_for(lambda: browser.find_element(By.ID, "automod-config-threshold"), "the config form", 30)

    def typed(value: str) -> str:
        field.clear()
        field.send_keys(value)
        return wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".automod-config-typed .automod-per-day").text,
                        "the expected reverts per day", 10)

    high = typed("0.98")
    low = typed("0.9")
    assert float(low) > float(high) > 0  # a lower threshold: more reverts a day, from the published evidence
    assert "95% interval" in browser.find_element(By.CSS_SELECTOR, ".automod-config-typed .automod-precision").text
    assert browser.find_elements(By.CSS_SELECTOR, "svg.automod-config-plot .automod-config-marker")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".automod-config-level")) == 4

    field.clear()
    field.send_keys("0.5")  # the bot's own message for it, and no saving
    shown = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".automod-config-problems li").text, "a problem")
    assert shown == str(schema_problems({**REVERTING, "threshold": 0.5}, COMMUNITY_CONFIG)[0])
    assert not browser.find_element(By.CSS_SELECTOR, ".automod-config-save").is_enabled()

    typed("0.9")
    browser.execute_script("arguments[0].scrollIntoView()", field)
    screenshot(browser, IMAGES / "config-gadget.png")
    bot = bot_factory()  # running at the old threshold: the saved page is what moves it
    browser.find_element(By.CSS_SELECTOR, ".automod-config-save").click()
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".automod-config-status").get_attribute("data-saved"),
             "the config saved", 30)
    saved = json.loads(text_of(admin, "MediaWiki:Automod-config.json"))
    assert saved["threshold"] == 0.9 and saved["mode"] == "revert"
    top = admin.revisions("MediaWiki:Automod-config.json", limit=1)[0]
    assert top["user"] == sandbox.admin.name and "threshold 0.9" in top["comment"]

    rev = anon.edit(unique_title, "Stable text. SCORE=0.95")  # below 0.99, above the new 0.9
    verdict = bot.decision(rev)
    assert verdict["decision"] == "reverted" and verdict["threshold"] == 0.9
