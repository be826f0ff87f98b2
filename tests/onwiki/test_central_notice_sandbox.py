"""An edit to the central config page gets one notice on its talk page, with the expected
impact on each governed wiki: once per revision (across a restart, including a revision
saved while the bot was down), and a refused revision only when it replaces an honoured one
(saving a refused page again and again cannot make the bot write again and again)."""

from __future__ import annotations

import re
import uuid

import pytest
import yaml

from support.moderation_helpers import Bot, launch_bot, set_config, start_at_stream_end
from support.multiwiki import BASE, central_settings, client_for
from support.relay_helpers import wait_for
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


def test_each_central_revision_gets_one_notice_with_the_impact_per_wiki(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    uid = uuid.uuid4().hex[:8]
    central_page, local_page = f"MediaWiki:Automod-central-{uid}.json", f"MediaWiki:Automod-local-{uid}.json"
    talk = f"MediaWiki talk:Automod-central-{uid}.json"
    label = f"{first.name}:{central_page}"
    central_admin, admin = client_for(info, first, info.admin), client_for(info, second, info.admin)
    governing = {"defaults": BASE, "wikis": {second.name: {"enabled": True, "threshold": 0.9}}}
    rev1 = set_config(central_admin, governing, central_page)
    summary, stats = f"Project:Automod summary {uid}", f"Project:Automod statistics {uid}"
    settings = central_settings(info, tmp_path, "http://127.0.0.1:9/", central_page, local_page, summary_page=summary)
    data = yaml.safe_load(settings.read_text())
    data["wikis"][1]["stats_page"] = stats
    write_settings(settings, data)

    def talk_text() -> str:
        revisions = central_admin.revisions(talk, limit=1)
        return revisions[0]["slots"]["main"]["content"] if revisions else ""

    def notice(rev: int, kind: str = "applied") -> str:
        """The body of revision ``rev``'s notice, once it is on the talk page."""
        heading = f"== Central configuration revision {rev} {kind}"
        text = wait_for(lambda: heading in (found := talk_text()) and found, timeout=20)
        return text.split(heading, 1)[1].split("\n== ", 1)[0]

    bot = launch_bot(info, tmp_path, settings)
    try:
        # The global switch: the notice names who saved it, the changed key, and each wiki's
        # estimate before (reverting at 0.9 on the second wiki) and after (off).
        rev2 = set_config(central_admin, {**governing, "defaults": {**BASE, "enabled": False}}, central_page)
        body = notice(rev2)
        assert f"[[User:{info.admin.name}|" in body and "<code>defaults.enabled</code>" in body
        wiki_lines = body.split(f"'''{second.name}'''", 1)[1].splitlines()
        assert "above 0.9 (revert)" in wiki_lines[1] and "(off)" in wiki_lines[2], body
        assert f"'''{first.name}'''" in body  # the central wiki has no local page either

        # A wiki with its own page is named as unaffected.
        local = set_config(admin, {"enabled": False}, local_page)
        wait_for(lambda: f"{second.name}: applied config {local_page} revision {local}" in bot.log.read_text(),
                 timeout=20)
        rev3 = set_config(central_admin, {**governing, "defaults": {**BASE, "minor": False}}, central_page)
        assert f"{second.name} has its own configuration page" in notice(rev3)

        # A refused revision (a threshold below the schema's floor) after an honoured one: one
        # notice; another refused one: none (rev6's notice shows rev5 was handled before).
        rev4 = set_config(central_admin, {"defaults": {"threshold": 0.2}, "wikis": {}}, central_page)
        assert "$.defaults.threshold" in notice(rev4, "refused")
        rev5 = set_config(central_admin, {"defaults": {"threshold": 0.1}, "wikis": {}}, central_page)
        rev6 = set_config(central_admin, governing, central_page)
        notice(rev6)
        assert f"revision {rev5} " not in talk_text()
    finally:
        bot.stop()

    # Saved while the bot was down: noticed once after the restart; nothing noticed twice.
    rev7 = set_config(central_admin, {**governing, "defaults": {**BASE, "mode": "log-only"}}, central_page)
    start_at_stream_end(info, tmp_path)  # the edit is not replayed: the startup read sees it
    bot = Bot(settings)
    try:
        notice(rev7)
    finally:
        bot.stop()
    # The running bot published the central summary once (not again after the restart) and
    # the second wiki's statistics page, which shows its 1/7/30-day figures.
    assert len(central_admin.revisions(summary)) == 1
    rows = [line for line in central_admin.revisions(summary)[0]["slots"]["main"]["content"].splitlines()
            if line.startswith((f"| {first.name} ", f"| {second.name} "))]
    assert [r.split("||")[0].strip("| ") for r in rows] == [first.name, second.name]
    assert "{{:" + stats + "/Windows}}" in admin.revisions(stats)[0]["slots"]["main"]["content"]
    rendered = admin.get(action="parse", page=stats, prop="text")["parse"]["text"]
    assert all(f"{d} day" in rendered for d in (1, 7, 30)) and "Daily activity" in rendered
    headings = re.findall(r"^== Central configuration revision (\d+) \w+", talk_text(), re.M)
    # rev1 was saved before the bot ever ran: it too got its notice (once), at the first start.
    assert headings == [str(r) for r in (rev1, rev2, rev3, rev4, rev6, rev7)], (headings, label)
