"""A central config page on the first wiki governs the second (which has no local page):
its block reverts there, its defaults' ``"enabled": false`` stops it within one refresh, a
local page wins over it, and a page ordinary users could edit governs nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
import yaml

from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import launch_bot, score_from_wiki, set_config
from support.multiwiki import BASE, central_settings, client_for
from support.relay_helpers import wait_for
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox

def automod(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "automod", *args], capture_output=True, text=True, timeout=120)


def test_central_block_reverts_global_switch_stops_and_a_local_page_wins(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    uid = uuid.uuid4().hex[:8]
    central_page, local_page = f"MediaWiki:Automod-central-{uid}.json", f"MediaWiki:Automod-local-{uid}.json"
    label = f"{first.name}:{central_page}"
    central_admin = client_for(info, first, info.admin)
    admin, vandal = client_for(info, second, info.admin), client_for(info, second, info.vandals[0])
    pages = [f"Central test {uid} {i}" for i in range(3)]
    for page in pages:
        admin.edit(page, "Stable text.")
    governing = {"defaults": BASE, "wikis": {second.name: {"enabled": True, "threshold": 0.9}}}
    rev1 = set_config(central_admin, governing, central_page)
    scorers = {w.name.removesuffix("wiki"): score_from_wiki(w.api_url) for w in info.wikis}
    with running_standin(score_function=lambda lang, rev: scorers[lang](lang, rev)) as liftwing:
        settings = central_settings(info, tmp_path, liftwing.url, central_page, local_page)
        bot = launch_bot(info, tmp_path, settings)
        try:
            def applied(text: str) -> bool:
                return text in bot.log.read_text()

            # 1. No local page on the second wiki: its central block governs (threshold 0.9).
            rev = vandal.edit(pages[0], "Stable text. VANDALISM")
            line = bot.decision(rev, timeout=20, wiki=second.name)
            assert line["decision"] == "reverted", (line, bot.log.read_text()[-3000:])
            assert (line["config_page"], line["config_rev"], line["threshold"]) == (label, rev1, 0.9)
            with Store(tmp_path / "automod.sqlite") as store:
                row = store.decision(second.name, rev)
                assert row is not None and (row.config_page, row.config_rev) == (label, rev1)

            # 2. The global switch: the defaults say "enabled": false; within one refresh, off
            #    (the wiki's own block saying enabled cannot turn it back on).
            rev2 = set_config(central_admin, {**governing, "defaults": {**BASE, "enabled": False}}, central_page)
            wait_for(lambda: applied(f"central config: applied {label} revision {rev2}"), timeout=20)
            rev = vandal.edit(pages[1], "Stable text. VANDALISM")
            line = bot.decision(rev, timeout=20, wiki=second.name)
            assert (line["decision"], line["reason"], line["config_rev"]) == ("disabled", "disabled-by-config", rev2)
            assert vandal.revisions(pages[1], limit=1)[0]["revid"] == rev  # left alone

            # 3. A local {"enabled": false} opts the wiki out, whatever the central page says.
            local = set_config(admin, {"enabled": False}, local_page)
            wait_for(lambda: applied(f"{second.name}: applied config {local_page} revision {local}"), timeout=20)
            rev3 = set_config(central_admin, {**governing, "defaults": {**BASE, "minor": False}}, central_page)
            wait_for(lambda: applied(f"central config: applied {label} revision {rev3}"), timeout=20)
            rev = vandal.edit(pages[2], "Stable text. VANDALISM")
            line = bot.decision(rev, timeout=20, wiki=second.name)
            assert (line["decision"], line["config_page"], line["config_rev"]) == ("disabled", local_page, local)
        finally:
            bot.stop()

    # 4. The central summary page: one row per governed wiki, the last 1, 7 and 30 days.
    summary = f"Project:Automod summary {uid}"
    res = automod("stats", "--settings", str(settings), "--days", "7", "--publish", "--page", summary)
    assert res.returncode == 0, res.stderr
    assert {r["wiki"]: r["reverts"] for r in json.loads(res.stdout)} == {first.name: 0, second.name: 1}
    text = central_admin.revisions(summary, limit=1)[0]["slots"]["main"]["content"]
    assert "Last 1 day:" in text and "Last 7 days:" in text and "Last 30 days:" in text
    rows = {line.split("||")[0].strip("| "): line for line in text.splitlines() if "||" in line and "!!" not in line}
    assert set(rows) == {first.name, second.name}
    cells = [c.strip() for c in rows[second.name].split("||")]
    assert cells[1:4] == ["1 / 1 / 0 / 0 / 0 / 0 / 0"] * 3  # scored / reverted / undone / failed / reports
    assert cells[4].startswith("100.0% (") and local_page in cells[5]


def test_a_central_page_others_can_edit_governs_nothing_and_status_says_why(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    uid = uuid.uuid4().hex[:8]
    central_page = f"Project:Automod central {uid}"
    admin, vandal = client_for(info, first, info.admin), client_for(info, first, info.vandals[0])
    enabling = {"defaults": {**BASE, "enabled": True}, "wikis": {}}
    admin.post(action="edit", title=central_page, text=json.dumps({"defaults": {}, "wikis": {}}),
               contentmodel="json", token=admin.token())
    vandal.edit(central_page, json.dumps(enabling))  # unprotected: anyone can save it
    settings = central_settings(info, tmp_path, "http://127.0.0.1:9/", central_page,
                                f"MediaWiki:Automod-local-{uid}.json")

    def check() -> subprocess.CompletedProcess[str]:
        return automod("check-config", "--settings", str(settings), "--wiki", second.name)

    res = check()
    assert res.returncode == 1 and "is not protected" in res.stdout, res.stdout + res.stderr
    assert '"effective"' not in res.stdout
    status = automod("status", "--settings", str(settings))
    assert status.returncode == 1
    assert f"central config {first.name}:{central_page} governs nothing" in status.stderr
    assert "is not protected" in json.loads(status.stdout)["central_config"]["problems"][0]

    # Semi-protection still lets any autoconfirmed user edit it: refused.
    admin.post(action="protect", title=central_page, protections="edit=autoconfirmed", token=admin.token())
    res = check()
    assert res.returncode == 1 and "can be edited by groups outside interface-admin, sysop" in res.stdout

    # Fully protected, but the operator names only interface-admin: sysops could still edit it.
    admin.post(action="protect", title=central_page, protections="edit=sysop", token=admin.token())
    data = yaml.safe_load(settings.read_text())
    data["central_config"]["editor_groups"] = ["interface-admin"]
    write_settings(settings, data)
    res = check()
    assert res.returncode == 1 and "outside interface-admin: sysop" in res.stdout

    # Fully protected, sysops allowed, but its text is still the vandal's (saved while it was
    # open): refused.
    data["central_config"]["editor_groups"] = ["sysop", "interface-admin"]
    write_settings(settings, data)
    res = check()
    assert res.returncode == 1 and "saved by Vandal1" in res.stdout, res.stdout

    # An administrator saves it (fully protected, sysop named): honoured.
    admin.edit(central_page, json.dumps({**enabling, "defaults": {**BASE, "enabled": True, "minor": False}}))
    res = check()
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert report["page"].startswith(f"{first.name}:") and report["page"].endswith(f":Automod central {uid}")
    assert report["effective"]["enabled"] is True


def test_status_names_only_the_wikis_the_central_page_really_governs(two_wikis, tmp_path):
    """A wiki with its own config page is not governed (its page wins): `status` says so."""
    info = two_wikis
    first, second = info.wikis
    uid = uuid.uuid4().hex[:8]
    central_page, local_page = f"MediaWiki:Automod-central-{uid}.json", f"MediaWiki:Automod-local-{uid}.json"
    set_config(client_for(info, first, info.admin), {"defaults": BASE, "wikis": {}}, central_page)
    settings = central_settings(info, tmp_path, "http://127.0.0.1:9/", central_page, local_page)

    def central_config() -> dict:
        res = automod("status", "--settings", str(settings))
        return json.loads(res.stdout)["central_config"]

    assert central_config()["governs"] == [first.name, second.name]
    set_config(client_for(info, second, info.admin), {"enabled": False}, local_page)  # the second opts out
    seen = central_config()
    assert seen["governs"] == [first.name] and seen["own_page"] == [second.name], seen
