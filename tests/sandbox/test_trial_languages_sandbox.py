"""The trial's steps on a French and on a Russian wiki, through the `automod sandbox` commands
as a newcomer runs them: config, a vandal's edit, the report through the notice's link (the
reason typed where the form asks for it), a reviewer's confirmation and the bot's answer.

Each language is a sandbox of its own (``started_sandbox(lang=…)``, a few seconds); only Lift
Wing is stood in for (the score comes from the edit's text, as in the other sandbox tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from automod.onwiki.i18n import load_messages
from automod.sandbox import SandboxInfo
from support.liftwing_standin import running_standin
from support.moderation_helpers import REVERTING, bot_settings, launch_bot, score_from_wiki
from support.relay_helpers import wait_for
from support.wiki import WikiClient, started_sandbox

pytestmark = pytest.mark.sandbox

#: language → (article, false-positive page, the reason the reporter types)
CASES = {
    "fr": ("Rivière test", "Automod faux positifs", "J'ai corrigé une date."),
    "ru": ("Тестовая река", "Automod ложные срабатывания", "Я исправил дату."),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def localized(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    with started_sandbox(tmp_path_factory, f"trial-{request.param}", lang=request.param) as info:
        yield info


def automod(*args: str, timeout: float = 120) -> Any:
    res = subprocess.run([sys.executable, "-m", "automod", *args], capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"automod {' '.join(args)} failed:\n{res.stderr[-3000:]}"
    return json.loads(res.stdout)


def page_text(client: WikiClient, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def test_report_and_review_work_in_the_wikis_language(localized: SandboxInfo, tmp_path: Path) -> None:
    lang = localized.wikis[0].lang
    article, fp_page, reason = CASES[lang]
    messages = load_messages(lang)
    sandbox_dir = str(localized.dir)
    admin = WikiClient(localized, localized.admin)
    assert admin.get(action="query", meta="siteinfo")["query"]["general"]["lang"] == lang

    config = tmp_path / "config.json"
    config.write_text(json.dumps({**REVERTING, "talk_notice": {"enabled": True, "registered_only": False},
                                  "false_positive_page": fp_page}), encoding="utf-8")
    assert automod("sandbox", "config", "--dir", sandbox_dir, str(config))["rev_id"] > 0
    automod("sandbox", "edit", "--dir", sandbox_dir, "--as", "Admin", "--page", article, "--text", "Texte stable.")
    # check-config shows what the wiki will get: the summary and notices in its language.
    effective = automod("check-config", "--settings", str(localized.settings), "--wiki", "sandboxwiki")["effective"]
    assert effective["language"] == lang
    assert effective["summary"] == messages.text("automod-rollback-summary") != load_messages("en").text(
        "automod-rollback-summary")
    assert effective["messages"]["automod-notice"] == messages.text("automod-notice")
    with running_standin(score_function=score_from_wiki(localized.api_url)) as liftwing:
        bot = launch_bot(localized, tmp_path, bot_settings(localized, tmp_path, liftwing.url))
        try:
            bad = automod("sandbox", "edit", "--dir", sandbox_dir, "--as", "Vandal1", "--page", article,
                          "--text", "Texte stable. VANDALISM")["rev_id"]
            assert bot.decision(bad)["decision"] == "reverted"

            started = time.monotonic()
            report = automod("sandbox", "report", "--dir", sandbox_dir, "--as", "Vandal1", "--reason", reason)
            assert report["page"] == fp_page and report["reporter"] == "Vandal1"
            saved = wait_for(lambda: "status: open" in (t := page_text(admin, fp_page)) and t, timeout=30)
            assert f"== {report['section']} ==" in saved, (report, saved)
            section = saved[saved.index(f"== {report['section']} =="):]
            prompt = messages.text("automod-report-preload").rsplit("\n\n", 1)[-1].strip()
            # The reason is typed after the prompt of the wiki's language, signed by the reporter below it.
            assert f"{prompt} {reason}" in section, section
            assert section.index(f"[[Special:Diff/{bad}]]") < section.index(reason)
            assert "[[User:Vandal1|" in section or ":Vandal1|" in section.split(reason, 1)[1]

            reviewed = automod("sandbox", "review", "--dir", sandbox_dir, "--status", "confirmed",
                               "--timeout", "60")
            assert (reviewed["rev_id"], reviewed["reinstated"]) == (bad, True), reviewed
            assert time.monotonic() - started < 60, "review waited for an answer the bot had already given"
            assert page_text(admin, article) == "Texte stable. VANDALISM"
            assert messages.format("automod-report-reinstated", bad, "").split("[[", 1)[0] in page_text(admin, fp_page)
        finally:
            bot.stop()
