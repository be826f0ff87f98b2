"""Defects a newcomer met on a first trial (issue 13), replayed on the sandbox wiki with
the real bot and the ``automod`` command as a separate process, as they ran it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import yaml

from automod.store import Store
from support.moderation_helpers import REVERTING, bot_settings, set_config, top_revision
from support.relay_helpers import wait_for
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


def automod(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "automod", *args], capture_output=True, text=True, timeout=120)


def page_text(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def test_a_reinstated_report_is_listed_as_confirmed_and_counts_against_precision(sandbox, wiki, unique_title,
                                                                                  bot_factory, tmp_path):
    admin, vandal, patroller = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.patroller)
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, {**REVERTING, "false_positive_page": fp_page})
    admin.edit(unique_title, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    rev = vandal.edit(unique_title, "Stable text. VANDALISM that was fine")
    assert bot.decision(rev)["decision"] == "reverted"
    patroller.post(action="edit", title=fp_page, section="new", sectiontitle=f"r{rev}",
                   text=f"<!-- automod-report rev={rev} -->\nThis was fine. ~~~~", token=patroller.token())
    wait_for(lambda: f"automod — revision {rev} ·" in page_text(admin, fp_page), timeout=10)
    admin.edit(fp_page, page_text(admin, fp_page).replace("status: open", "status: confirmed"))
    wait_for(lambda: f"revision {rev} reinstated" in page_text(admin, fp_page), timeout=10)
    bot.stop()
    settings = str(sorted(tmp_path.glob("settings*"))[-1])

    for status in ("confirmed", "reinstated"):
        listed = automod("reports", "--settings", settings, "--wiki", "sandboxwiki", "--status", status)
        assert listed.returncode == 0, listed.stderr
        assert [(r["rev_id"], r["status"]) for r in map(json.loads, listed.stdout.splitlines())] == [
            (rev, "reinstated")]
    with Store(tmp_path / "automod.sqlite") as store:
        updated = store.reports("sandboxwiki")[0].updated_at
    day = datetime.fromtimestamp(updated, UTC).date().isoformat()
    result = automod("stats", "--settings", settings, "--wiki", "sandboxwiki", "--day", day)
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert (stats["confirmed"], stats["reinstated"]) == (1, 1)
    assert stats["precision_so_far"] == 0.0  # the only revert was a confirmed false positive
    assert "applied migration" not in result.stderr


def test_score_of_an_older_revision_shows_the_probability_marked_not_actionable(sandbox, wiki, liftwing, unique_title,
                                                                                 tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    set_config(admin, REVERTING)
    admin.edit(unique_title, "Stable text.")
    old = vandal.edit(unique_title, "Stable text. SCORE=0.97")
    admin.edit(unique_title, "Stable text. Tidied by an admin.")
    def ores_probes() -> int:
        return sum(1 for r in liftwing.requests if "damaging" in r.path or "goodfaith" in r.path)

    probes_before = ores_probes()
    result = automod("score", "--settings", str(bot_settings(sandbox, tmp_path, liftwing.url)),
                     "--wiki", "sandboxwiki", str(old))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["outcome"], report["reason"]) == ("skip", "not-top-editor")
    assert (report["probability"], report["threshold"], report["actionable"]) == (0.97, 0.99, False)
    assert report["above_threshold"] is False
    assert top_revision(admin, unique_title)["user"] == sandbox.admin.name  # nothing changed
    # A config that selects no ORES-style model: Lift Wing is not asked for one, nor warned about.
    assert ores_probes() == probes_before
    assert "applied migration" not in result.stderr and "WARNING" not in result.stderr


def test_lift_wing_availability_is_warned_about_only_for_a_model_the_config_selects(sandbox, wiki, tmp_path):
    admin = wiki(sandbox.admin)
    data = yaml.safe_load(sandbox.settings.read_text())  # Lift Wing: a closed local port
    data["store"] = str(tmp_path / "automod.sqlite")
    settings = tmp_path / "settings.yaml"
    write_settings(settings, data)
    check = ("check-config", "--settings", str(settings), "--wiki", "sandboxwiki")
    try:
        set_config(admin, REVERTING)
        quiet = automod(*check)
        assert quiet.returncode == 0, quiet.stderr
        assert "Lift Wing" not in quiet.stderr and "applied migration" not in quiet.stderr
        set_config(admin, {**REVERTING, "model": "damaging", "threshold": 0.9})
        relevant = automod(*check)
        assert relevant.returncode == 1  # fail closed: nobody can say the wiki has the model
        assert "cannot check whether Lift Wing has damaging here" in relevant.stderr
        assert "goodfaith" not in relevant.stderr
    finally:
        set_config(admin, REVERTING)
