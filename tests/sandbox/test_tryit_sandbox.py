"""The README's "Try it on a local wiki" list, run exactly as written, on a sandbox of its own.

The commands are read from the README (and ``make sandbox-up`` from the Makefile's recipe,
minus its installs), so the documentation cannot drift from what works. Only the sandbox
directory (``sandbox`` → a temporary one) and the venv's ``automod`` are substituted.
Between steps the test looks at the wiki as a newcomer would (page history, talk page,
report page), polling instead of sleeping.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from automod.sandbox import down, seed
from automod.sandbox.trial import SandboxSession, TrialWiki
from support.readme_bot import ReadmeBot
from support.relay_helpers import wait_for

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]
AUTOMOD = str(Path(sys.executable).parent / "automod")


def tryit_commands() -> list[str]:
    """The first command of each numbered item of the README's "Try it" section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Try it on a local wiki"):]
    section = section[:section.index("\n## ", 3)]
    commands = re.findall(r"^\s*\d+\. (?:In a second terminal: )?`([^`]+)`", section, re.M)
    return [_make_recipe(c[len("make "):]) if c.startswith("make ") else c for c in commands]


def _make_recipe(target: str) -> str:
    """The automod line of a Makefile target's recipe (its prerequisites install things)."""
    lines = (REPO / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = [line.strip() for line in itertools.takewhile(lambda ln: ln.startswith("\t"), lines[start + 1:])]
    (command,) = [line for line in recipe if "/bin/automod " in line]
    return command.replace("$(VENV)", ".venv")


def localize(command: str, sandbox_dir: Path) -> list[str]:
    """The command for this test's sandbox directory and venv; nothing else changes."""
    command = re.sub(r"--dir sandbox(?=\s|$)", f"--dir {sandbox_dir}", command)
    command = command.replace("sandbox/settings.yaml", f"{sandbox_dir}/settings.yaml")
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/automod", command
    leftover = [a for i, a in enumerate(argv) if a.startswith("sandbox/") or (a == "sandbox" and i != 1)]
    assert not leftover, f"a path into ./sandbox the test cannot redirect: {command}"
    return [AUTOMOD, *argv[1:]]


class Steps:
    """Runs the README's commands one by one, timing each."""

    def __init__(self, sandbox_dir: Path) -> None:
        self.dir = sandbox_dir
        self.commands = tryit_commands()
        self.position = 0
        self.timings: list[tuple[str, float]] = []

    def next(self, expected: str) -> list[str]:
        command = self.commands[self.position]
        self.position += 1
        assert expected in command, f"README step {self.position} is {command!r}, expected {expected!r}"
        return localize(command, self.dir)

    def run(self, expected: str, timeout: float = 240) -> str:
        argv = self.next(expected)
        started = time.monotonic()
        res = subprocess.run(argv, check=False, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        self.timings.append((expected, time.monotonic() - started))
        assert res.returncode == 0, f"{shlex.join(argv)} failed:\n{res.stderr[-3000:]}"
        return res.stdout

    def json(self, expected: str) -> Any:
        return json.loads(self.run(expected))


def _section_before_bot_line(page_text: str, heading: str) -> str:
    body = page_text[page_text.index(f"== {heading} =="):]
    return body.split("\n: automod —", 1)[0]


def test_the_readme_trial_reaches_a_revert_a_report_and_the_evidence(tmp_path: Path) -> None:
    sandbox_dir = tmp_path / "sandbox"
    steps = Steps(sandbox_dir)
    problems: list[str] = []  # checks that do not stop the trial; reported together at the end
    try:
        # 1. the sandbox, seeded
        started = steps.json("sandbox up --dir sandbox --seed")
        assert started["seed"]["already_seeded"] is False and started["seed"]["revisions"] > 500
        trial = TrialWiki.load(sandbox_dir)
        again = seed(trial.dir, trial.api_url)
        assert again.already_seeded and again.revisions == 0  # safe to run twice
        reader = SandboxSession(trial.api_url, None)
        first_new_rev = int(reader.call(list="allrevisions", arvlimit=1, arvdir="older")
                            ["query"]["allrevisions"][0]["revisions"][0]["revid"]) + 1

        # 2. a local model; its recommendation is a threshold the config accepts, at or below ours
        trained = steps.json("train --settings sandbox/settings.yaml --wiki sandboxwiki --name demo")
        config = json.loads((REPO / "config/community-config.sandbox.json").read_text())
        recommended = trained["recommended"]
        assert trained["auc"] > 0.9, trained
        assert recommended["threshold"] is not None and 0.85 <= recommended["threshold"] <= config["threshold"], trained
        assert recommended["caution_level"] is not None, trained

        # 3. the community config page
        assert steps.json("sandbox config --dir sandbox")["rev_id"] > 0

        # 4. the bot, in a second terminal
        relay = f"http://127.0.0.1:{json.loads((sandbox_dir / 'sandbox.json').read_text())['relay_port']}/health"
        bot = ReadmeBot(steps.next("run --settings sandbox/settings.yaml"), tmp_path / "bot.log", REPO)
        try:
            launched = time.monotonic()
            local = requests.Session()
            local.trust_env = False  # loopback only
            wait_for(lambda: local.get(relay, timeout=5).json()["clients"] > 0, timeout=30, interval=0.2)
            steps.timings.append(("run (until it follows the stream)", time.monotonic() - launched))

            # 5. vandalism: reverted, not bot-flagged, the notice on the talk page
            vandal_edit = steps.json("sandbox edit --dir sandbox --as Vandal1 --page Riverford")
            bad = int(vandal_edit["rev_id"])
            line = bot.decision(bad)
            assert line["decision"] == "reverted" and line["model"] == "local:demo", line
            top = reader.call(prop="revisions", titles="Riverford", rvprop="ids|user|tags")["query"]["pages"][0]
            revert = top["revisions"][0]
            assert revert["user"] == "AutomodBot" and "mw-rollback" in revert["tags"] and revert["parentid"] == bad
            unflagged = reader.call(list="recentchanges", rcshow="!bot", rcuser="AutomodBot", rctype="edit",
                                    rcprop="ids")["query"]["recentchanges"]
            assert revert["revid"] in [c["revid"] for c in unflagged], "the revert is bot-flagged"
            notice = wait_for(lambda: reader.text("User talk:Vandal1"), timeout=30, interval=0.2)
            assert "AutomodBot reverted your edit" in notice and "preloadparams%5B%5D=" + str(bad) in notice

            # 6. a good edit stays
            good = int(steps.json("sandbox edit --dir sandbox --as Vandal2 --page Millbrook")["rev_id"])
            assert bot.decision(good)["decision"] == "below-threshold"

            # 7. the report through the notice's link, signed by the reporter
            report = steps.json("sandbox report --dir sandbox --as Vandal1")
            page = config["false_positive_page"]
            assert report["page"] == page and report["reporter"] == "Vandal1"
            page_text = wait_for(lambda: (t := reader.text(page)) and "status: open" in t and t, timeout=30,
                                 interval=0.2)
            signed = _section_before_bot_line(page_text, f"Riverford (r{bad})")
            if "[[User:Vandal1|" not in signed or "[[User:AutomodBot|" in signed:
                problems.append(f"the report is not signed by its reporter: {signed!r}")

            # 8. a reviewer confirms it: the bot restores the edit
            reviewed = steps.json("sandbox review --dir sandbox --status confirmed")
            assert reviewed["rev_id"] == bad and reviewed["reinstated"] is True, reviewed
            restored = reader.text("Riverford")
            assert restored is not None and restored.startswith("RIVERFORD IS STUPID")
        finally:
            assert bot.stop() == 0, (tmp_path / "bot.log").read_text()[-3000:]
        acted_on = sorted({line["rev_id"] for line in bot.lines})
        assert acted_on and acted_on[0] >= first_new_rev, f"the bot saw seeded revisions: {acted_on[:5]}"

        # 9-11. the evidence agrees: one reinstated report, counted as a confirmed false positive
        reports = [json.loads(row) for row in steps.run("reports --settings").splitlines() if row.strip()]
        if [(r["rev_id"], r["status"], r["reporter"]) for r in reports] != [(bad, "reinstated", "Vandal1")]:
            problems.append(f"automod reports: {reports}")
        table = steps.run("thresholds --settings")
        current = [row for row in table.splitlines() if "<- current" in row]
        if len(current) != 1 or current[0].split()[:2] != [str(config["threshold"]), "1"] or \
                current[0].split()[-4] != "1":
            problems.append(f"automod thresholds, current row: {current}")
        stats = steps.json("stats --settings")
        got = {k: stats[k] for k in ("reverted", "reports_opened", "confirmed", "reinstated")}
        if got != {"reverted": 1, "reports_opened": 1, "confirmed": 1, "reinstated": 1}:
            problems.append(f"automod stats: {got}")
        assert steps.position == len(steps.commands), steps.commands[steps.position:]
    finally:
        print("\n".join(f"{seconds:6.1f} s  {name}" for name, seconds in steps.timings))
        down(sandbox_dir)
    assert not problems, problems
