"""The sandbox is the real wiki every I/O test relies on: check it is what it claims to be."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import pytest
import yaml

from automod.errors import SandboxError
from automod.sandbox import SandboxInfo, down, is_running, up
from automod.sandbox.accounts import BOT_PASSWORD_ALPHABET
from support.wiki import ApiError, WikiClient

wiki_test = pytest.mark.sandbox


def _refused(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) != 0


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "192.168.0.1", "::", "example.org", ""])
def test_non_loopback_host_refused(tmp_path: Path, host: str) -> None:
    target = tmp_path / "sb"
    with pytest.raises(SandboxError, match="loopback"):
        up(target, host=host)
    assert not target.exists()


@wiki_test
def test_siteinfo(sandbox: SandboxInfo, wiki: Callable[..., WikiClient]) -> None:
    general = wiki().get(action="query", meta="siteinfo")["query"]["general"]
    assert general["generator"].startswith("MediaWiki 1.39")
    assert general["wikiid"] == "sandboxwiki" == sandbox.wiki
    assert general["server"] == f"http://127.0.0.1:{sandbox.port}"


@wiki_test
def test_anonymous_edits_come_from_the_address_the_test_names(
        wiki: Callable[..., WikiClient], unique_title: str) -> None:
    """Attack scenarios need IP editors other than 127.0.0.1: each client is seen as its own IP."""
    first, second = wiki(ip="198.51.100.7"), wiki(ip="2001:db8::42")
    first.edit(unique_title, "one")
    second.edit(unique_title, "one two")
    users = [r["user"] for r in wiki().revisions(unique_title)]
    assert users == ["2001:DB8:0:0:0:0:0:42", "198.51.100.7"]


def test_to_json_shape(sandbox: SandboxInfo) -> None:
    data = json.loads(json.dumps(sandbox.to_json()))
    assert set(data) == {"api_url", "index_url", "stream_url", "settings", "pywikibot_dir", "accounts"}
    assert data["api_url"] == f"http://127.0.0.1:{sandbox.port}/api.php"
    assert data["stream_url"].endswith("/v2/stream/recentchange")
    accounts = data["accounts"]
    assert [v["botpassword_login"] for v in accounts["vandals"]] == ["Vandal1@test", "Vandal2@test"]
    assert accounts["bot"]["botpassword_login"] == "AutomodBot@automod"
    for acc in [accounts["admin"], accounts["bot"], accounts["patroller"], *accounts["vandals"]]:
        assert set(acc) == {"name", "password", "botpassword_login", "botpassword"}
        assert len(acc["botpassword"]) == 32 and set(acc["botpassword"]) <= set(BOT_PASSWORD_ALPHABET)


@wiki_test
def test_accounts_have_their_groups(sandbox: SandboxInfo, wiki: Callable[..., WikiClient]) -> None:
    names = ["Admin", "AutomodBot", "Patroller", "Vandal1", "Vandal2"]
    users = wiki().user_info(*names)
    assert set(users) == set(names)
    bot = users["AutomodBot"]
    assert {"bot", "rollbacker"} <= set(bot["groups"])
    assert {"rollback", "bot"} <= set(bot["rights"])
    assert "editinterface" not in bot["rights"]
    assert "autopatroller" in users["Patroller"]["groups"]
    assert "autopatrol" in users["Patroller"]["rights"]
    assert {"sysop", "bureaucrat", "interface-admin"} <= set(users["Admin"]["groups"])
    for vandal in ("Vandal1", "Vandal2"):
        assert not {"rollback", "autopatrol", "bot"} & set(users[vandal]["rights"])


@wiki_test
def test_every_account_logs_in_with_its_botpassword(
    sandbox: SandboxInfo, wiki: Callable[..., WikiClient]
) -> None:
    for account in [sandbox.admin, sandbox.bot, sandbox.patroller, *sandbox.vandals]:
        info = wiki(account).get(action="query", meta="userinfo", uiprop="rights")["query"]["userinfo"]
        assert info["name"] == account.name
    bot_rights = set(wiki(sandbox.bot).get(action="query", meta="userinfo", uiprop="rights")
                     ["query"]["userinfo"]["rights"])
    assert {"rollback", "edit", "bot"} <= bot_rights
    admin_rights = set(wiki(sandbox.admin).get(action="query", meta="userinfo", uiprop="rights")
                       ["query"]["userinfo"]["rights"])
    assert {"editinterface", "editsitejson", "rollback", "patrol"} <= admin_rights


@wiki_test
def test_edits_rollback_and_anonymous_edit(
    sandbox: SandboxInfo, wiki: Callable[..., WikiClient], unique_title: str
) -> None:
    admin, vandal, bot = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.bot)
    good = admin.edit(unique_title, "A fine article.", "create")
    bad = vandal.edit(unique_title, "A fine article. LOL", "vandalism")
    assert bad > good
    res = bot.rollback(unique_title, "Vandal1", summary="revert test")
    assert res["old_revid"] == bad and res["last_revid"] == good
    anon = wiki()
    anon_rev = anon.edit(unique_title, "A fine article. anon was here")
    revs = anon.revisions(unique_title)
    assert revs[0]["revid"] == anon_rev and revs[0]["user"] == "127.0.0.1"
    assert "mw-rollback" in revs[1]["tags"]
    with pytest.raises(ApiError) as err:
        bot.rollback(unique_title, "Vandal1")
    assert err.value.code == "alreadyrolled"
    bot.run_jobs()  # raises CalledProcessError on failure


@wiki_test
def test_edit_reaches_relay_history(
    sandbox: SandboxInfo, wiki: Callable[..., WikiClient], unique_title: str
) -> None:
    revid = wiki(sandbox.vandals[1]).edit(unique_title, "Some text for the stream.", "stream test")
    deadline = time.monotonic() + 5
    found = ""
    while time.monotonic() < deadline and not found:
        if sandbox.history.exists():
            found = next((line for line in sandbox.history.read_text().splitlines()
                          if unique_title in line), "")
        time.sleep(0.05)
    assert found, f"{unique_title!r} not in {sandbox.history}"
    assert "sandboxwiki" in found and str(revid) in found


@wiki_test
def test_settings_file(sandbox: SandboxInfo) -> None:
    settings = yaml.safe_load(sandbox.settings.read_text())
    assert settings["user_agent"] == "automod-sandbox/0.1 (local test wiki; no contact)"
    assert settings["store"] == str(sandbox.dir / "automod.sqlite")
    assert settings["stream"] == {"url": sandbox.stream_url}
    assert settings["liftwing"]["token_env"] == "LIFTWING_TOKEN"
    assert settings["liftwing"]["url"].startswith("http://127.0.0.1:1/")
    assert settings["wikis"] == [{"name": "sandboxwiki", "api": sandbox.api_url,
                                  "config_page": "MediaWiki:Automod-config.json", "lang": "en"}]
    assert settings["pywikibot_dir"] == str(sandbox.pywikibot_dir)
    assert "password" not in sandbox.settings.read_text().lower()
    mode = (sandbox.pywikibot_dir / "user-password.py").stat().st_mode & 0o777
    assert mode == 0o600
    assert (sandbox.dir / "sandbox.json").stat().st_mode & 0o077 == 0


@wiki_test
def test_pywikibot_logs_in_as_the_bot(sandbox: SandboxInfo) -> None:
    # A subprocess: pywikibot's configuration is process-global.
    script = textwrap.dedent("""
        import json, pywikibot
        site = pywikibot.Site()
        site.login()
        print(json.dumps({"user": site.user(), "family": site.family.name, "code": site.code,
                          "rollback": site.has_right("rollback"), "bot": site.has_group("bot")}))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWIKIBOT")}
    env["PYWIKIBOT_DIR"] = str(sandbox.pywikibot_dir)
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=120, cwd=sandbox.dir)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout.strip().splitlines()[-1])
    assert data == {"user": "AutomodBot", "family": "sandboxwiki", "code": "sandboxwiki",
                    "rollback": True, "bot": True}


@wiki_test
def test_up_on_a_running_sandbox_is_refused(sandbox: SandboxInfo, wiki: Callable[..., WikiClient]) -> None:
    assert is_running(sandbox.dir)
    with pytest.raises(SandboxError, match="already running"):
        up(sandbox.dir)
    assert wiki().get(action="query", meta="siteinfo")["query"]["general"]["wikiid"] == "sandboxwiki"


@wiki_test
def test_down_leaves_nothing_running_and_up_restarts(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("sandbox-throwaway")
    first = up(path)
    try:
        pids, ports = (first.php_pid, first.relay_pid), (first.port, first.relay_port)
        assert not any(_refused("127.0.0.1", p) for p in ports)
        down(path)
        assert all(_dead(pid) for pid in pids)
        assert all(_refused("127.0.0.1", p) for p in ports)
        assert not is_running(path)
        down(path)  # idempotent
        assert (path / "conf/LocalSettings.php").exists() and first.settings.exists()

        second = up(path)  # reuses the installed wiki and its accounts
        assert second.accounts == first.accounts
        assert second.startup_seconds < first.startup_seconds + 1
        client = WikiClient(second, second.vandals[0])
        assert client.get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Vandal1"
        down(path)
        assert _dead(second.php_pid) and _dead(second.relay_pid)
        assert _refused("127.0.0.1", second.port) and _refused("127.0.0.1", second.relay_port)
    finally:
        down(path)
