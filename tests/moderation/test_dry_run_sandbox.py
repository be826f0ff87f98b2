"""Issue acceptance on the real sandbox wiki: edits reach `automod run --dry-run` promptly,
once and only once, across SIGKILL restarts and dropped stream connections."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from automod.sandbox import SandboxInfo
from support.relay_helpers import spawn, wait_for
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def bot_switched_off(sandbox, wiki):
    """These tests follow the stream only: the community config says off (fail-fast decisions)."""
    from support.moderation_helpers import set_config
    set_config(wiki(sandbox.admin), {"enabled": False})


def private_settings(sandbox: SandboxInfo, tmp_path: Path) -> Path:
    """The sandbox's settings with a store of this test's own (so runs do not share positions)."""
    data = yaml.safe_load(sandbox.settings.read_text())
    data["store"] = str(tmp_path / "automod.sqlite")
    path = tmp_path / "settings.yaml"
    write_settings(path, data)
    return path


class DryRun:
    """`automod run --dry-run` as a child process, its stdout lines collected by a thread."""

    def __init__(self, settings: Path):
        self.log = settings.parent / f"run-{time.monotonic_ns()}.log"
        with self.log.open("w") as stderr:
            self.proc = spawn(
                [sys.executable, "-m", "automod", "run", "--settings", str(settings), "--dry-run"],
                stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.lines: list[tuple[float, dict]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), json.loads(line)))

    def revs(self) -> list[int]:
        return [o["rev_id"] for _, o in self.lines]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(15)


def relay_connections(sandbox: SandboxInfo) -> int:
    """Streams the relay has ever opened (an open count lags a client that went away)."""
    return int(requests.get(f"{sandbox.relay_url}/health", timeout=5).json()["connections"])


def relay_control(sandbox: SandboxInfo, **body) -> None:
    requests.post(f"{sandbox.relay_url}/_control", json=body, timeout=5).raise_for_status()


def test_an_edit_reaches_the_dry_run_as_a_candidate_within_two_seconds(sandbox, wiki, unique_title, tmp_path):
    vandal = wiki(sandbox.vandals[0])
    vandal.edit(unique_title, "Original text.")  # the creation is not a candidate
    before = relay_connections(sandbox)
    run = DryRun(private_settings(sandbox, tmp_path))
    try:
        wait_for(lambda: relay_connections(sandbox) > before, timeout=20)
        saved_at = time.monotonic()
        rev = vandal.edit(unique_title, "Original text. Vandalism!")
        wait_for(lambda: rev in run.revs(), timeout=5)
    finally:
        run.stop()
    seen_at, line = next((t, o) for t, o in run.lines if o["rev_id"] == rev)
    assert seen_at - saved_at < 2.0
    assert line["wiki"] == "sandboxwiki" and line["title"] == unique_title
    assert line["user"] == sandbox.vandals[0].name and line["parent_id"] == rev - 1
    assert run.proc.returncode == 0


def test_sigkill_mid_stream_then_restart_prints_every_edit_exactly_once(sandbox, wiki, unique_title, tmp_path):
    settings = private_settings(sandbox, tmp_path)
    editors = [wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1]), wiki(sandbox.admin)]
    titles = [f"{unique_title} {i}" for i in range(3)]
    for editor, title in zip(editors, titles):
        editor.edit(title, "Start.")
    made: list[int] = []
    stop_editing = threading.Event()

    def keep_editing() -> None:
        n = 0
        while not stop_editing.is_set() and n < 60:
            i = n % 3
            made.append(editors[i].edit(titles[i], f"Start. Edit {n}."))
            n += 1
            time.sleep(0.05)

    before = relay_connections(sandbox)
    first = DryRun(settings)
    wait_for(lambda: relay_connections(sandbox) > before, timeout=20)
    editing = threading.Thread(target=keep_editing)
    editing.start()
    wait_for(lambda: len(first.lines) >= 8, timeout=20)
    first.stop(signal.SIGKILL)  # no chance to save anything more
    wait_for(lambda: len(made) >= len(first.lines) + 5, timeout=20)  # edits keep coming meanwhile
    second = DryRun(settings)
    editing.join(60)
    stop_editing.set()
    try:
        wait_for(lambda: set(made) <= set(first.revs()) | set(second.revs()), timeout=20)
    finally:
        second.stop()
    printed = first.revs() + second.revs()
    assert sorted(printed) == sorted(made), "every edit printed once and only once"
    assert first.revs() and second.revs()
    assert first.proc.returncode == -signal.SIGKILL


def test_relay_dropping_the_connection_every_k_events_loses_and_repeats_nothing(sandbox, wiki, unique_title, tmp_path):
    editor = wiki(sandbox.vandals[1])
    editor.edit(unique_title, "Start.")
    before = relay_connections(sandbox)
    relay_control(sandbox, drop_every=3)
    run = DryRun(private_settings(sandbox, tmp_path))
    try:
        wait_for(lambda: relay_connections(sandbox) > before, timeout=20)
        made = [editor.edit(unique_title, f"Start. Edit {n}.") for n in range(20)]
        wait_for(lambda: set(made) <= set(run.revs()), timeout=20)
    finally:
        relay_control(sandbox, drop_every=0)
        run.stop()
    mine = [r for r in run.revs() if r in set(made)]
    assert mine == made  # in order, none repeated
    assert run.log.read_text().count("connected to") >= 7  # 20 events, cut every 3


def test_sandbox_edits_carry_the_eventstreams_envelope(sandbox, wiki, unique_title):
    rev = wiki(sandbox.vandals[0]).edit(unique_title, "Hello.")
    def find():
        events = [json.loads(logged).get("event", {}) for logged in sandbox.history.read_text().splitlines()]
        return next((e for e in events if e.get("revision", {}).get("new") == rev), None)
    event = wait_for(find)
    assert event["$schema"] == "/mediawiki/recentchange/1.0.0"
    assert set(event["meta"]) >= {"id", "dt", "domain", "stream", "topic", "partition", "offset", "uri", "request_id"}
    assert event["type"] == "new" and "old" not in event["revision"]  # nulls dropped, as EventBus does
    assert event["wiki"] == "sandboxwiki" and event["title"] == unique_title
