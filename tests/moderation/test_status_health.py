"""`automod status` tells the truth (issue 15): non-zero, with a one-line reason, when the
process is gone, a wiki's worker is dead, an edit waits too long, or the heartbeat is
stale; zero when the bot is healthy."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import yaml

from automod.moderation import StatusLimits, read_status
from support.moderation_helpers import (
    REVERTING,
    Bot,
    bot_settings,
    relay_connections,
    set_config,
    start_at_stream_end,
    wait_connected,
)
from support.relay_helpers import wait_for
from support.settings_files import write_settings


def _status(settings, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "automod", "status", "--settings", str(settings), *extra],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.sandbox
def test_status_fails_when_an_edit_waits_too_long_and_when_the_bot_is_gone(sandbox, wiki, liftwing, unique_title,
                                                                          tmp_path):
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    data = yaml.safe_load(settings.read_text())
    data["health"] = {"interval_seconds": 1, "max_silence_seconds": 600, "max_lag_seconds": 600}
    write_settings(settings, data)
    admin = wiki(sandbox.admin)
    set_config(admin, REVERTING)
    admin.edit(unique_title, "An article.")
    start_at_stream_end(sandbox, tmp_path)
    before = relay_connections(sandbox)
    bot = Bot(settings)
    try:
        wait_connected(sandbox, before, bot)
        healthy = wait_for(lambda: (r := _status(settings, "--max-undecided", "2")).returncode == 0 and r, timeout=15)
        assert json.loads(healthy.stdout)["ok"]
        liftwing.hang_next(8)  # the scorer stalls: the edit waits for its decision
        rev = wiki(sandbox.vandals[0]).edit(unique_title, "An article. VANDALISM")
        behind = wait_for(lambda: (r := _status(settings, "--max-undecided", "2")).returncode == 1 and r, timeout=15)
        assert "sandboxwiki: falling behind: an edit has waited" in behind.stderr
        bot.decision(rev, timeout=30)
    finally:
        bot.stop()
    gone = _status(settings)
    assert gone.returncode == 1 and "not running" in gone.stderr


def test_a_dead_worker_or_a_stale_heartbeat_is_a_problem(tmp_path):
    now = time.time()
    beat = {"time": now, "started": now - 60, "last_event_received": now, "lag_seconds": 1, "pid": 1,
            "wikis": {"enwiki": {"alive": True, "queue": 0, "oldest_undecided_seconds": 0.0},
                      "frwiki": {"alive": False, "queue": 5, "oldest_undecided_seconds": 0.0}}}
    path = tmp_path / "automod.sqlite.health.json"
    path.write_text(json.dumps(beat))
    assert read_status(path, StatusLimits(), now=now)[1] == ["frwiki: the wiki's worker is dead"]
    assert read_status(path, StatusLimits(), now=now + 1000)[1][1:] == ["stalled: last heartbeat 1000 s ago"]
    beat["wikis"]["frwiki"]["alive"] = True
    path.write_text(json.dumps(beat))
    assert read_status(path, StatusLimits(), now=now)[1] == []
    path.write_text("{not json")
    assert read_status(path, StatusLimits(), now=now)[1][0].startswith("unreadable heartbeat")
