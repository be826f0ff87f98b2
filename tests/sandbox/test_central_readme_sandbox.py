"""The README's "Running automod for many small wikis" section, run exactly as written, on a
sandbox of its own (as tests/sandbox/test_tryit_sandbox.py runs "Try it").

The commands are the section's code spans starting with ``automod``, ``.venv/bin/automod`` or
``make``, in order; its YAML block is added to the settings file as step 3 says. Only the
sandbox directory (``sandbox`` → a temporary one) and the venv's ``automod`` are substituted.
What the README promises is checked on the wikis: both seeded, the central page governing the
second wiki with the local model, the notice for the revision saved while the bot was stopped,
the vandal's edit reverted under the central page, and ``status`` naming the governed wikis.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from automod.sandbox import down
from automod.sandbox.trial import TrialWiki
from support.readme_bot import ReadmeBot
from support.relay_helpers import wait_for
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]
AUTOMOD = str(Path(sys.executable).parent / "automod")
HEADING = "## Running automod for many small wikis"
CENTRAL = "MediaWiki:Automod-central.json"


def section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    part = text[text.index(HEADING):]
    return part[:part.index("\n## ", 3)]


def section_commands() -> list[str]:
    return re.findall(r"`((?:\.venv/bin/automod|automod|make)\b[^`]*)`", section())


def localize(command: str, sandbox_dir: Path) -> list[str]:
    command = re.sub(r"--dir sandbox(?=\s|$)", f"--dir {sandbox_dir}", command)
    command = command.replace("sandbox/settings.yaml", f"{sandbox_dir}/settings.yaml")
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/automod", f"not a command the test can run: {command}"
    return [AUTOMOD, *argv[1:]]


def test_the_readme_central_configuration_section_runs_as_written(tmp_path: Path) -> None:
    sandbox_dir = tmp_path / "sandbox"
    commands = iter(section_commands())

    def step(expected: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = next(commands)
        assert expected in command, f"README step is {command!r}, expected {expected!r}"
        res = subprocess.run(localize(command, sandbox_dir), cwd=REPO, capture_output=True, text=True, timeout=600)
        assert not check or res.returncode == 0, f"{command} failed:\n{res.stderr[-3000:]}"
        return res

    try:
        # 1. two wikis, both seeded
        started = json.loads(step("sandbox up --dir sandbox --wikis 2 --seed").stdout)
        seeded = started["seed"]["wikis"]
        assert sorted(seeded) == ["sandbox2wiki", "sandboxwiki"]
        assert all(s["revisions"] > 500 for s in seeded.values()), seeded
        # 2. the local model
        step("train --settings sandbox/settings.yaml --wiki sandboxwiki --name demo")
        # 3. the YAML block, added to the settings file
        block = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section(), re.S).group(1))  # type: ignore[union-attr]
        settings_file = sandbox_dir / "settings.yaml"
        write_settings(settings_file, {**yaml.safe_load(settings_file.read_text()), **block})
        # 4. the central page, saved as Admin while the bot is stopped
        saved = json.loads(step(f"--page {CENTRAL} config/central-config.sandbox.json").stdout)
        shown = re.search(r"saves the central page as `Admin`.*?: `(\{.*?\})`\.", section(), re.S)
        assert shown and json.loads(shown.group(1)) == json.loads(
            (REPO / "config/central-config.sandbox.json").read_text()), "the README shows another JSON"
        # 5. check-config: the governed wiki's page is the central one
        checked = json.loads(step("check-config --settings sandbox/settings.yaml --wiki sandbox2wiki").stdout)
        assert checked["page"] == f"sandboxwiki:{CENTRAL}", checked
        # 6. the bot, in a second terminal
        command = next(commands)
        assert "run --settings sandbox/settings.yaml" in command
        bot = ReadmeBot(localize(command, sandbox_dir), tmp_path / "bot.log", REPO)
        central = TrialWiki.load(sandbox_dir)
        reader = central.session("IP")
        try:
            talk = wait_for(lambda: reader.text(f"MediaWiki talk:{CENTRAL.split(':', 1)[1]}"), timeout=60)
            assert f"Central configuration revision {saved['rev_id']} applied" in talk, talk
            relay = f"http://127.0.0.1:{json.loads((sandbox_dir / 'sandbox.json').read_text())['relay_port']}/health"
            local = requests.Session()
            local.trust_env = False  # loopback only
            wait_for(lambda: local.get(relay, timeout=5).json()["clients"] > 0, timeout=60, interval=0.2)
            # 7. vandalism on the governed wiki: reverted under the central page, with the local model
            edited = json.loads(step("sandbox edit --dir sandbox --wiki sandbox2wiki --as Vandal1").stdout)
            line = bot.decision(int(edited["rev_id"]), timeout=60)
            assert line["decision"] == "reverted", line
            assert line["config_page"] == f"sandboxwiki:{CENTRAL}" and line["config_rev"] == saved["rev_id"], line
            assert line["model"] == "local:demo", line
            # 8. the summary page, one row per governed wiki
            step("stats --settings sandbox/settings.yaml --days 7 --publish")
            summary = reader.text(block["central_config"]["summary_page"])
            assert "sandbox2wiki" in summary, summary
            # 9. status: honoured, governing both wikis (neither has a local page)
            status = json.loads(step("status --settings sandbox/settings.yaml", check=False).stdout)
            assert status["central_config"]["problems"] == [] and status["central_config"]["governs"] == [
                "sandboxwiki", "sandbox2wiki"], status["central_config"]
        finally:
            assert bot.stop(wait=30) == 0, (tmp_path / "bot.log").read_text()[-3000:]
        assert next(commands, None) is None, "a README command the test did not run"
    finally:
        down(sandbox_dir)
