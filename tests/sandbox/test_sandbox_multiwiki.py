"""A sandbox with two wikis feeding one relay, as EventStreams carries every wiki in one stream.

The module runs its own two-wiki sandbox (the session ``sandbox`` fixture stays one-wiki).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from automod.errors import SandboxError
from automod.sandbox import SandboxInfo, WikiInstance, down, is_running, up
from support.relay_helpers import wait_for
from support.settings_files import write_settings
from support.wiki import WikiClient, started_sandbox

pytestmark = pytest.mark.sandbox

NAMES = ["sandboxwiki", "sandbox2wiki"]


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    with started_sandbox(tmp_path_factory, "sandbox-multiwiki", limits=None, wikis=2) as info:
        yield info


def client(info: SandboxInfo, wiki: WikiInstance, account: Any = None) -> WikiClient:
    """A WikiClient on ``wiki`` (WikiClient talks to the sandbox's first-wiki fields)."""
    return WikiClient(dataclasses.replace(info, port=wiki.port), account)


def _refused(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("count", [0, -1, 10, True, 2.0])
def test_invalid_number_of_wikis_refused(tmp_path: Path, count: Any) -> None:
    target = tmp_path / "sb"
    with pytest.raises(SandboxError, match="number of wikis"):
        up(target, wikis=count)
    assert not target.exists()


def test_up_describes_both_wikis(multi: SandboxInfo) -> None:
    assert [w.name for w in multi.wikis] == NAMES
    first, second = multi.wikis
    assert (first.name, first.port, first.api_url, first.index_url, first.php_pid, first.conf_dir) == (
        multi.wiki, multi.port, multi.api_url, multi.index_url, multi.php_pid, multi.dir / "conf")
    assert second.conf_dir == multi.dir / "wikis/sandbox2wiki/conf"
    assert (second.conf_dir.parent / "data/sandbox2wiki.sqlite").exists()
    assert len({first.port, second.port, multi.relay_port}) == 3
    assert len({first.php_pid, second.php_pid, multi.relay_pid}) == 3
    assert multi.instance("sandbox2wiki") == second

    data = json.loads(json.dumps(multi.to_json()))
    assert {"api_url", "index_url", "stream_url", "settings", "pywikibot_dir", "accounts"} < set(data)
    assert data["api_url"] == first.api_url
    assert data["wikis"] == [{"name": w.name, "api_url": w.api_url, "index_url": w.index_url}
                             for w in multi.wikis]

    settings = yaml.safe_load(multi.settings.read_text())
    assert settings["wikis"] == [{"name": w.name, "api": w.api_url,
                                  "config_page": "MediaWiki:Automod-config.json", "lang": "en"}
                                 for w in multi.wikis]
    assert settings["stream"] == {"url": multi.stream_url}


def test_each_api_answers_with_its_own_dbname(multi: SandboxInfo) -> None:
    for wiki in multi.wikis:
        general = client(multi, wiki).get(action="query", meta="siteinfo")["query"]["general"]
        assert general["wikiid"] == wiki.name
        assert general["server"] == wiki.server == f"http://127.0.0.1:{wiki.port}"


def test_accounts_log_in_on_both(multi: SandboxInfo) -> None:
    for wiki in multi.wikis:
        for account in [multi.admin, multi.bot, multi.patroller, *multi.vandals]:
            me = client(multi, wiki, account).get(action="query", meta="userinfo",
                                                  uiprop="groups|rights")["query"]["userinfo"]
            assert me["name"] == account.name, wiki.name
            if account is multi.bot:
                assert {"bot", "rollbacker"} <= set(me["groups"])
                assert {"rollback", "bot"} <= set(me["rights"])


def test_edits_on_both_wikis_reach_the_one_stream(multi: SandboxInfo) -> None:
    title = f"Automod multiwiki stream {uuid.uuid4().hex[:8]}"
    revs = {w.name: client(multi, w, multi.vandals[0]).edit(title, f"Text on {w.name}.", "stream test")
            for w in multi.wikis}

    def events() -> list[dict[str, Any]]:
        if not multi.history.exists():
            return []
        found = [json.loads(line)["event"] for line in multi.history.read_text().splitlines()
                 if title in line]
        return found if len(found) >= 2 else []

    by_wiki = {e["wiki"]: e for e in wait_for(events, timeout=5)}
    assert set(by_wiki) == set(NAMES)
    for wiki in multi.wikis:
        event = by_wiki[wiki.name]
        assert event["title"] == title and event["user"] == "Vandal1"
        assert event["revision"]["new"] == revs[wiki.name]
        assert event["server_url"] == wiki.server


def test_each_wiki_reads_its_own_extra_php(multi: SandboxInfo) -> None:
    first, second = multi.wikis
    second.extra_file.write_text("<?php\n$wgSitename = 'Second sandbox';\n")
    try:
        names = {w.name: client(multi, w).get(action="query", meta="siteinfo")["query"]["general"]["sitename"]
                 for w in multi.wikis}
        assert names == {"sandboxwiki": "SandboxWiki", "sandbox2wiki": "Second sandbox"}
    finally:
        second.extra_file.unlink()
    assert not first.extra_file.exists()


def test_pywikibot_logs_in_to_both_sites(multi: SandboxInfo) -> None:
    # A subprocess: pywikibot's configuration is process-global.
    script = textwrap.dedent("""
        import json, sys, pywikibot
        out = {}
        for name in sys.argv[1:]:
            site = pywikibot.Site(name, name)
            site.login()
            out[name] = {"user": site.user(), "wikiid": site.siteinfo["wikiid"],
                         "rollback": site.has_right("rollback"), "bot": site.has_group("bot")}
        print(json.dumps(out))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWIKIBOT")}
    env["PYWIKIBOT_DIR"] = str(multi.pywikibot_dir)
    res = subprocess.run([sys.executable, "-c", script, *NAMES], env=env, capture_output=True,
                         text=True, timeout=120, cwd=multi.dir)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout.strip().splitlines()[-1])
    assert data == {n: {"user": "AutomodBot", "wikiid": n, "rollback": True, "bot": True} for n in NAMES}


def test_down_stops_everything_then_up_reuses_both_wikis(multi: SandboxInfo) -> None:
    """Runs last: stops the module's sandbox (the fixture's own down is then a no-op)."""
    path = multi.dir
    second = multi.wikis[1]
    os.kill(second.php_pid, signal.SIGSTOP)  # a stalled API must not keep down() waiting
    started = time.monotonic()
    down(path)
    assert time.monotonic() - started < 3
    pids = [w.php_pid for w in multi.wikis] + [multi.relay_pid]
    ports = [w.port for w in multi.wikis] + [multi.relay_port]
    assert all(_dead(pid) for pid in pids)
    assert all(_refused(port) for port in ports)
    assert not is_running(path)

    # The operator's own settings (the README's central_config block, a wiki's stats_page)
    # survive another `sandbox up`, which rewrites only the keys it owns.
    operator = yaml.safe_load(multi.settings.read_text())
    central = {"wiki": "sandboxwiki", "page": "MediaWiki:Automod-central.json", "opted_out": []}
    operator["central_config"] = central
    operator["wikis"][1]["stats_page"] = "Project:Automod statistics"
    operator["stream"]["url"] = "http://127.0.0.1:9/stale"
    write_settings(multi.settings, operator)
    again = up(path, wikis=2)  # reuses both installs, their accounts and their ports
    try:
        kept = yaml.safe_load(again.settings.read_text())
        assert kept["central_config"] == central
        assert kept["wikis"][1]["stats_page"] == "Project:Automod statistics"
        assert kept["stream"]["url"] == again.stream_url  # an owned key: rewritten
        assert again.accounts == multi.accounts
        assert again.startup_seconds < multi.startup_seconds  # nothing reinstalled
        assert [w.port for w in again.wikis] == [w.port for w in multi.wikis]
        for wiki in again.wikis:
            me = client(again, wiki, again.bot).get(action="query", meta="userinfo")["query"]["userinfo"]
            assert me["name"] == "AutomodBot"
    finally:
        down(path)
    assert all(_dead(w.php_pid) for w in again.wikis) and _dead(again.relay_pid)

    single = up(path)  # one wiki again: the historical shape, the second wiki not started
    try:
        assert [w.name for w in single.wikis] == ["sandboxwiki"]
        assert "wikis" not in single.to_json()
        assert [w["name"] for w in yaml.safe_load(single.settings.read_text())["wikis"]] == ["sandboxwiki"]
        assert _refused(second.port)
    finally:
        down(path)
    assert _dead(single.php_pid) and _refused(single.port) and _refused(single.relay_port)
