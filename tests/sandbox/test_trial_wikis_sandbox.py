"""`automod sandbox config|edit --wiki/--page` on a two-wiki sandbox: the README's central
configuration section saves the central page and edits the second wiki with these commands."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from automod.sandbox import SandboxInfo
from automod.sandbox.trial import SandboxSession

pytestmark = pytest.mark.sandbox


def automod(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "automod", *args], capture_output=True, text=True, timeout=120)


def ok(*args: str) -> Any:
    res = automod(*args)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


def test_config_saves_any_json_page_on_the_wiki_named(two_wikis: SandboxInfo, tmp_path: Path) -> None:
    second = two_wikis.wikis[1]
    central = {"defaults": {"mode": "revert", "threshold": 0.99}, "wikis": {"sandboxwiki": {"enabled": True}},
               "note": time.time_ns()}
    (tmp_path / "central.json").write_text(json.dumps(central))
    page = "MediaWiki:Automod-central.json"
    saved = ok("sandbox", "config", "--dir", str(two_wikis.dir), "--wiki", second.name, "--page", page,
               str(tmp_path / "central.json"))
    assert (saved["wiki"], saved["page"]) == (second.name, page) and saved["rev_id"] > 0
    on_second = SandboxSession(second.api_url, None)
    assert json.loads(on_second.text(page) or "{}") == central
    revision = on_second.call(prop="revisions", titles=page, rvprop="user")["query"]["pages"][0]["revisions"][0]
    assert revision["user"] == "Admin"
    assert SandboxSession(two_wikis.wikis[0].api_url, None).text(page) != on_second.text(page)
    # Saved again unchanged: nothing written.
    again = ok("sandbox", "config", "--dir", str(two_wikis.dir), "--wiki", second.name, "--page", page,
               str(tmp_path / "central.json"))
    assert again == {"wiki": second.name, "page": page, "unchanged": True}


def test_edit_goes_to_the_wiki_named_and_an_unknown_wiki_is_refused(two_wikis: SandboxInfo) -> None:
    second = two_wikis.wikis[1]
    title = f"Trial wiki {time.time_ns()}"
    edited = ok("sandbox", "edit", "--dir", str(two_wikis.dir), "--wiki", second.name, "--as", "Vandal1",
                "--page", title, "--text", "On the second wiki.")
    assert (edited["wiki"], edited["user"]) == (second.name, "Vandal1")
    assert SandboxSession(second.api_url, None).text(title) == "On the second wiki."
    assert SandboxSession(two_wikis.wikis[0].api_url, None).text(title) is None
    refused = automod("sandbox", "edit", "--dir", str(two_wikis.dir), "--wiki", "nowiki", "--as", "Admin",
                      "--page", title, "--text", "x")
    assert refused.returncode != 0 and "no wiki 'nowiki'" in refused.stderr and second.name in refused.stderr
