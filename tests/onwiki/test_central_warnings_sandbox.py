"""Issue 26.8d: a central config page naming wikis the bot does not serve, or names no wiki
has (``enwiki``, ``../../etc``), is applied for the wikis it governs — and `automod
check-config` warns about the blocks that govern nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from support.moderation_helpers import set_config
from support.multiwiki import BASE, central_settings, client_for

pytestmark = pytest.mark.sandbox


def test_check_config_warns_about_central_blocks_for_unserved_or_impossible_wikis(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    uid = uuid.uuid4().hex[:8]
    central_page = f"MediaWiki:Automod-central-{uid}.json"
    admin = client_for(info, first, info.admin)
    set_config(admin, {"defaults": BASE, "wikis": {second.name: {"enabled": True}, "enwiki": {"enabled": True},
                                                   "../../etc": {"enabled": True}}}, central_page)
    settings = central_settings(info, tmp_path, "http://127.0.0.1:9/", central_page,
                                f"MediaWiki:Automod-local-{uid}.json")
    res = subprocess.run([sys.executable, "-m", "automod", "check-config", "--settings", str(settings), "--wiki",
                          second.name], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr  # the wiki it governs is configured all the same
    report = json.loads(res.stdout)
    assert report["effective"]["enabled"] is True
    warned = [line for line in res.stderr.splitlines() if line.startswith("Warning: ")]
    assert any("$.wikis.enwiki" in w and "does not serve or govern" in w for w in warned), res.stderr
    assert any("$.wikis.../../etc" in w and "not a wiki's database name" in w for w in warned), res.stderr
    assert not any(f"$.wikis.{second.name}" in w for w in warned)
    assert len(report["warnings"]) == 2
