"""`automod run --dry-run` end to end over a real SSE relay (no wiki needed)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from automod.store import Store
from support import settings_files
from support.relay_helpers import rc_packet, running_relay, spawn, wait_for


def write_settings(tmp_path: Path, stream_url: str, wikis=("sandboxwiki",)) -> Path:
    path = tmp_path / "settings.yaml"
    settings_files.write_settings(path, {
        "user_agent": "automod-tests/0.1 (automod test suite)",
        "store": "automod.sqlite",
        "stream": {"url": stream_url, "stall_seconds": 30},
        "wikis": [{"name": w, "api": "http://127.0.0.1:1/api.php"} for w in wikis],
    })
    return path


def start_from_the_beginning(tmp_path: Path, url: str) -> None:
    """Store a position before the relay's first event (a first run otherwise starts "now")."""
    with Store(tmp_path / "automod.sqlite") as store:
        store.save_position(url, '[{"topic":"sandbox.mediawiki.recentchange","partition":0,"offset":-1}]', None)


def automod(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automod", *args], capture_output=True,
                          text=True, timeout=timeout)


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_dry_run_prints_one_json_line_per_candidate_and_nothing_else(tmp_path):
    with running_relay(tmp_path) as relay:
        settings = write_settings(tmp_path, relay.url)
        relay.add(rc_packet(2, title="A"), rc_packet(3, namespace=2), rc_packet(4, bot=True),
                  rc_packet(5, wiki="otherwiki"), rc_packet(6, title="B", user="192.0.2.7"))
        start_from_the_beginning(tmp_path, relay.url)
        result = automod("run", "--settings", str(settings), "--dry-run", "--max-events", "5")
    assert result.returncode == 0, result.stderr
    out = lines(result.stdout)
    assert [(o["rev_id"], o["title"], o["user"]) for o in out] == [(2, "A", "Vandal1"), (6, "B", "192.0.2.7")]
    assert set(out[0]) >= {"wiki", "title", "rev_id", "parent_id", "user", "timestamp", "decision", "reason"}
    assert out[0]["parent_id"] == 1 and out[0]["wiki"] == "sandboxwiki"
    # the wiki in these settings does not answer: fail closed, and say why
    assert out[0]["decision"] == "disabled" and out[0]["reason"].startswith("wiki-unavailable")


def test_second_run_resumes_where_the_first_stopped(tmp_path):
    with running_relay(tmp_path) as relay:
        settings = write_settings(tmp_path, relay.url)
        start_from_the_beginning(tmp_path, relay.url)
        relay.add(*(rc_packet(r) for r in range(2, 8)))
        first = automod("run", "--settings", str(settings), "--dry-run", "--max-events", "3")
        relay.add(rc_packet(8))
        second = automod("run", "--settings", str(settings), "--dry-run", "--max-events", "4")
    assert [o["rev_id"] for o in lines(first.stdout)] == [2, 3, 4]
    assert [o["rev_id"] for o in lines(second.stdout)] == [5, 6, 7, 8]


def test_exit_after_stops_an_idle_follower(tmp_path):
    with running_relay(tmp_path) as relay:
        settings = write_settings(tmp_path, relay.url)
        started = time.monotonic()
        result = automod("run", "--settings", str(settings), "--dry-run", "--exit-after", "1")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    assert result.stdout == ""


def test_sigterm_stops_the_run_cleanly_and_keeps_its_position(tmp_path):
    with running_relay(tmp_path) as relay:
        settings = write_settings(tmp_path, relay.url)
        proc = spawn([sys.executable, "-m", "automod", "run", "--settings", str(settings), "--dry-run"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(relay.clients)
        relay.add(rc_packet(2))
        assert json.loads(proc.stdout.readline())["rev_id"] == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        with Store(tmp_path / "automod.sqlite") as store:
            position = store.position(relay.url)
    assert position is not None and json.loads(position.event_id)[0]["offset"] == 0


def test_malformed_stream_events_are_stored_and_do_not_stop_the_run(tmp_path):
    with running_relay(tmp_path) as relay:
        settings = write_settings(tmp_path, relay.url)
        start_from_the_beginning(tmp_path, relay.url)
        relay.control(inject="{broken")
        relay.add(rc_packet(2))
        result = automod("run", "--settings", str(settings), "--dry-run", "--max-events", "1")
    assert [o["rev_id"] for o in lines(result.stdout)] == [2]
    assert "skipping malformed event" in result.stderr
    with Store(tmp_path / "automod.sqlite") as store:
        assert store.malformed_count() == 1


def test_invalid_settings_exit_1_with_one_error_line(tmp_path):
    bad = tmp_path / "bad.yaml"  # deliberately invalid (no stream, no wikis): written as is
    bad.write_text("user_agent: x\nstore: s.sqlite\n")
    result = automod("run", "--settings", str(bad), "--dry-run")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Error: settings.user_agent")


def test_missing_required_argument_is_a_usage_error():
    result = automod("run")
    assert result.returncode == 2 and "--settings" in result.stderr
