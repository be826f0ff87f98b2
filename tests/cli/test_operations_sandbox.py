"""Running for real: the Toolforge job's own command line, SIGTERM and restart, health
status, and the daily statistics page — on the sandbox wiki."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from automod.store import Store
from support.moderation_helpers import (
    REVERTING,
    Bot,
    bot_settings,
    relay_connections,
    set_config,
    start_at_stream_end,
    wait_connected,
)
from support.relay_helpers import spawn, wait_for
from support.settings_files import write_settings
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parents[2]


class Job:
    """The continuous job exactly as config/jobs.yaml starts it, in a fake tool home."""

    def __init__(self, command: str, home: Path, log: Path):
        self.log = log
        with log.open("a") as err:
            self.proc = spawn(["bash", "-c", command], env={**os.environ, "HOME": str(home)},
                              stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
        self.lines: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def terminate(self) -> tuple[int, float]:
        started = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(20)
        self.reader.join(5)
        return code, time.monotonic() - started


def test_the_toolforge_job_command_survives_sigterm_and_restart_losing_and_repeating_nothing(sandbox, wiki, liftwing,
                                                                                             unique_title, tmp_path):
    job = next(j for j in yaml.safe_load((ROOT / "config/jobs.yaml").read_text()) if j.get("continuous"))
    assert job["image"].startswith("python3") and job["mem"] and job["emails"] == "onfailure"
    home = tmp_path / "home"
    (home / "automod/pyvenv/bin").mkdir(parents=True)
    automod = shutil.which("automod", path=str(Path(sys.executable).parent)) or shutil.which("automod")
    (home / "automod/pyvenv/bin/automod").symlink_to(automod)
    shutil.copy(bot_settings(sandbox, tmp_path, liftwing.url), home / "automod/settings.yaml")
    admin, vandals = wiki(sandbox.admin), [wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1])]
    set_config(admin, REVERTING)
    pages = [f"{unique_title} {i}" for i in range(8)]
    for page in pages:
        admin.edit(page, "Stable text.")
    start_at_stream_end(sandbox, tmp_path)
    before = relay_connections(sandbox)
    first = Job(job["command"], home, tmp_path / "job.log")
    wait_for(lambda: relay_connections(sandbox) > before, timeout=20)
    made: list[int] = []

    def edit_all() -> None:
        for i, page in enumerate(pages):
            made.append(vandals[i % 2].edit(page, "Stable text. SCORE=0.3 harmless"))
            made.append(vandals[i % 2].edit(page, "Stable text. VANDALISM"))
            time.sleep(0.1)

    editing = threading.Thread(target=edit_all)
    editing.start()
    wait_for(lambda: len(first.lines) >= 5, timeout=20)
    peak = first.peak_rss_mib()
    code, took = first.terminate()
    assert code == 0 and took < 5, (code, took)
    editing.join(60)
    before = relay_connections(sandbox)
    second = Job(job["command"], home, tmp_path / "job.log")
    wait_for(lambda: relay_connections(sandbox) > before, timeout=20)
    lines = lambda: first.lines + second.lines  # noqa: E731
    # A rollback also takes the vandal's harmless edit just before: that edit gets a follow-up
    # "reverted-with" line, which is no second decision.
    seen = lambda: [out["rev_id"] for out in lines() if out["decision"] != "reverted-with"]  # noqa: E731
    wait_for(lambda: set(made) <= set(seen()), timeout=40)
    assert second.terminate()[0] == 0
    assert sorted(r for r in seen() if r in set(made)) == sorted(made), "each edit decided once"
    taken = [out["rev_id"] for out in lines() if out["decision"] == "reverted-with"]
    assert len(taken) == len(set(taken)) and set(taken) <= set(made[0::2]), "only the harmless edits, each once"
    for page in pages:
        assert [r["user"] for r in admin.revisions(page)].count(sandbox.bot.name) == 1
    print(f"peak resident memory of the job: {peak:.0f} MiB")
    assert peak < 400, "jobs.yaml asks for 512Mi"


def test_status_reports_lag_and_fails_when_the_stream_goes_silent(sandbox, wiki, liftwing, unique_title, tmp_path):
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    data = yaml.safe_load(settings.read_text())
    data["health"] = {"interval_seconds": 1, "max_silence_seconds": 3, "max_lag_seconds": 60}
    write_settings(settings, data)
    set_config(wiki(sandbox.admin), {"enabled": False})
    start_at_stream_end(sandbox, tmp_path)
    before = relay_connections(sandbox)
    bot = Bot(settings)
    status = lambda: subprocess.run([sys.executable, "-m", "automod", "status", "--settings", str(settings)],  # noqa: E731
                                    capture_output=True, text=True, timeout=30)
    try:
        wait_connected(sandbox, before, bot)
        rev = wiki(sandbox.vandals[0]).edit(unique_title, "Some text.")
        wiki(sandbox.vandals[0]).edit(unique_title, "Some text, edited.")
        wait_for(lambda: bot.lines, timeout=10)
        wait_for(lambda: json.loads(status().stdout).get("events_per_minute", 0) >= 1, timeout=10)
        healthy = status()
        report = json.loads(healthy.stdout)
        assert healthy.returncode == 0 and report["ok"] and report["lag_seconds"] < 60
        assert report["wikis"]["sandboxwiki"]["disabled"] == "disabled-by-config"
        os.kill(sandbox.relay_pid, signal.SIGSTOP)  # the stream stops sending anything
        try:
            result = wait_for(lambda: (r := status()).returncode == 1 and r, timeout=15)
        finally:
            os.kill(sandbox.relay_pid, signal.SIGCONT)
        assert "stalled: no stream event" in result.stderr
    finally:
        bot.stop()
    assert rev


def test_the_statistics_page_shows_the_days_counts_from_the_store(sandbox, wiki, liftwing, unique_title, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    set_config(admin, {**REVERTING, "max_reverts_per_user_per_page": 0})
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    start_at_stream_end(sandbox, tmp_path)
    before = relay_connections(sandbox)
    bot = Bot(settings)
    try:
        wait_connected(sandbox, before, bot)
        admin.edit(unique_title, "Stable text.")
        revs = [vandal.edit(unique_title, "Stable text. VANDALISM"),
                vandal.edit(unique_title, "Stable text. SCORE=0.4"),
                wiki(sandbox.patroller).edit(unique_title, "Stable text. By a patroller.")]
        for rev in revs:
            bot.decision(rev)
    finally:
        bot.stop()
    page = f"User:{sandbox.bot.name}/Statistics {unique_title[-8:]}"
    result = subprocess.run([sys.executable, "-m", "automod", "stats", "--settings", str(settings), "--wiki",
                             "sandboxwiki", "--publish", "--page", page], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    text = admin.revisions(page, limit=1)[0]["slots"]["main"]["content"]
    today = datetime.now(timezone.utc).date().isoformat()
    row = next(wikiline for wikiline in text.splitlines() if wikiline.startswith(f"| {today}"))
    cells = [c.strip() for c in row[1:].split("||")]
    start = datetime.fromisoformat(today + "T00:00:00+00:00").timestamp()
    with Store(tmp_path / "automod.sqlite") as store:
        q = lambda sql: sqlite_of(store).execute(sql + " AND decided_at >= ?", ("sandboxwiki", start)).fetchone()[0]  # noqa: E731
        seen = q("SELECT count(*) FROM decisions WHERE wiki = ?")
        scored = q("SELECT count(*) FROM decisions WHERE wiki = ? AND probability IS NOT NULL")
        reverted = q("SELECT count(*) FROM decisions WHERE wiki = ? AND outcome = 'reverted'")
    # The Reverted cell leads with the count; a rollback that took the same editor's earlier edits
    # adds "(+N earlier edits …)" after it (issue 29).
    assert (int(cells[1]), int(cells[2]), int(cells[5].split()[0])) == (seen, scored, reverted)
    assert (seen, scored, reverted) >= (3, 2, 1)
    assert "editor-has-right" in cells[3] and text.startswith("Daily activity") and "{| class" in text
