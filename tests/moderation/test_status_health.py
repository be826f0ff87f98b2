"""`automod status` tells the truth (issue 15): non-zero, with a one-line reason, when the
process is gone, a wiki's worker is dead, an edit waits too long, or the heartbeat is
stale; zero when the bot is healthy."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import yaml

from automod.moderation import StatusLimits, heartbeat_path, read_status
from automod.settings import load_settings
from support.moderation_helpers import (
    REVERTING,
    Bot,
    bot_settings,
    launch_bot,
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


def _beat(settings) -> dict:
    path = heartbeat_path(load_settings(settings).store)
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.sandbox
def test_a_quiet_stream_is_no_lag_and_a_clean_stop_is_no_death(sandbox, wiki, liftwing, unique_title, tmp_path):
    """Issue 29: idle on a quiet stream for longer than the lag limit, the bot is healthy
    (exit 0, a note); after SIGTERM it is "stopped", not a set of dead workers; killed
    outright, it is "not running" and did not stop cleanly."""
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    data = yaml.safe_load(settings.read_text())
    data["health"] = {"interval_seconds": 1, "max_silence_seconds": 600, "max_lag_seconds": 2}
    write_settings(settings, data)
    admin = wiki(sandbox.admin)
    set_config(admin, REVERTING)
    admin.edit(unique_title, "An article.")
    bot = launch_bot(sandbox, tmp_path, settings)
    try:
        rev = wiki(sandbox.vandals[0]).edit(unique_title, "An article, with a good sentence.")
        assert bot.decision(rev)["decision"] == "below-threshold"
        # Nothing else happens: the newest event grows older than the 2 s limit while nothing waits.
        beat = wait_for(lambda: (b := _beat(settings)).get("lag_seconds") and b["lag_seconds"] > 4 and b, timeout=20)
        assert all(w["queue"] == 0 for w in beat["wikis"].values())
        quiet = _status(settings)
        assert quiet.returncode == 0, quiet.stderr
        assert json.loads(quiet.stdout)["ok"] and "quiet stream" in quiet.stderr
    finally:
        assert bot.stop() == 0
    stopped = _status(settings)
    assert stopped.returncode == 1
    assert "stopped: not running since a clean stop" in stopped.stderr and "(signal" in stopped.stderr
    assert "dead" not in stopped.stderr and "lagging" not in stopped.stderr

    killed = launch_bot(sandbox, tmp_path, settings, fresh_position=False)
    try:
        wait_for(lambda: _beat(settings).get("pid") == killed.proc.pid, timeout=20)
    finally:
        killed.stop(signal.SIGKILL)
    gone = _status(settings)
    assert gone.returncode == 1 and "not running" in gone.stderr and "did not stop cleanly" in gone.stderr
    assert "stopped:" not in gone.stderr


def test_an_old_newest_event_is_a_lag_only_when_something_waits(tmp_path):
    now = time.time()
    beat = {"time": now, "started": now - 600, "last_event_received": now - 1, "lag_seconds": 500, "pid": 1,
            "stream_quiet_seconds": 1.0, "stall_seconds": 120,
            "wikis": {"enwiki": {"alive": True, "queue": 0, "oldest_undecided_seconds": 0.0}}}
    path = tmp_path / "automod.sqlite.health.json"
    path.write_text(json.dumps(beat))
    assert read_status(path, StatusLimits(), now=now)[1] == []  # quiet: a canary came a second ago
    beat["wikis"]["enwiki"].update(queue=3, oldest_undecided_seconds=4.0)
    path.write_text(json.dumps(beat))
    assert read_status(path, StatusLimits(), now=now)[1] == [
        "lagging: newest event is 500 s old and 3 queued, undecided on enwiki"]
    beat["wikis"]["enwiki"].update(queue=0, oldest_undecided_seconds=0.0)
    beat["stream_quiet_seconds"] = 300.0  # the connection has said nothing past its stall limit
    path.write_text(json.dumps(beat))
    assert read_status(path, StatusLimits(), now=now)[1] == [
        "lagging: newest event is 500 s old and nothing (event, canary, comment) has arrived for 300 s"]
    beat["stopped"] = {"at": now, "how": "signal"}
    beat["wikis"]["enwiki"]["alive"] = False
    path.write_text(json.dumps(beat))
    [problem] = read_status(path, StatusLimits(), now=now)[1]
    assert problem.startswith("stopped: not running since a clean stop") and "signal" in problem
