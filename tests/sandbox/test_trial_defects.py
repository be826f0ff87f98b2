"""Defects a newcomer met on a first trial (issue 13), each checked the way they met it:
through the ``automod`` command, on a real store."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from automod.cli import main
from automod.config import AppliedConfig, parse_config
from automod.onwiki import ConfigPage
from automod.onwiki.config_notice import compose_notice
from automod.store import Store
from support.settings_files import offline_settings, write_settings

MODEL = "revertrisk-language-agnostic"


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    """Settings whose store (in ``tmp_path/var``) holds six scores above 0.9, all from today."""
    path = tmp_path / "settings.yaml"
    write_settings(path, offline_settings("var/s.sqlite"))
    with Store(tmp_path / "var" / "s.sqlite") as store:
        for rev, probability in enumerate((0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.2, 0.3), 1):
            store.record_score("w", rev, MODEL, "3", probability)
    return path


def test_thresholds_writes_its_files_beside_the_store_not_in_the_current_directory(settings, tmp_path, monkeypatch,
                                                                                    capsys):
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    assert main(["thresholds", "--settings", str(settings), "--wiki", "w"]) == 0
    assert list(cwd.iterdir()) == []
    err = capsys.readouterr().err
    written = sorted((tmp_path / "var" / "thresholds").iterdir())
    assert [p.suffix for p in written] == [".csv", ".png"]
    for path in written:
        assert f"wrote {path}" in err  # says where, as an absolute path


def test_thresholds_from_an_input_file_writes_files_only_where_out_says(tmp_path, monkeypatch, capsys):
    data = tmp_path / "scores.csv"
    data.write_text("rev_id,probability,label\n1,0.99,1\n2,0.5,0\n")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    assert main(["thresholds", "--input", str(data)]) == 0
    assert list(cwd.iterdir()) == [] and "--out PREFIX" in capsys.readouterr().err
    assert main(["thresholds", "--input", str(data), "--out", "report/t"]) == 0
    assert sorted(p.name for p in (cwd / "report").iterdir()) == ["t.csv", "t.png"]
    assert f"wrote {cwd / 'report' / 't.csv'}" in capsys.readouterr().err


def test_config_notice_and_thresholds_agree_on_would_reverts_per_day(settings, tmp_path, capsys):
    assert main(["thresholds", "--settings", str(settings), "--wiki", "w", "--json", "--no-files",
                 "--current", "0.9"]) == 0
    per_day = {row["threshold"]: row["per_day"] for row in json.loads(capsys.readouterr().out)}[0.9]
    assert per_day == 6.0  # six would-reverts within one day of scores
    texts = {t: json.dumps({"enabled": True, "mode": "log-only", "threshold": t}) for t in (0.9, 0.99)}
    applied = {t: AppliedConfig(rev, parse_config(texts[t], (MODEL,)).config, ()) for rev, t in ((1, 0.99), (2, 0.9))}
    page = ConfigPage("MediaWiki:Automod-config.json", 8, 2, "json", texts[0.9], "Admin")
    with Store(tmp_path / "var" / "s.sqlite") as store:
        _, notice = compose_notice(store, "w", applied[0.99], applied[0.9], page, texts[0.99])
    numbers = re.findall(r"\b\d+\.\d\d\b", notice)
    assert f"{per_day:.2f}" in numbers and "0.20" not in numbers


def test_a_missing_extra_names_the_install_command_that_works_from_the_checkout(tmp_path, monkeypatch, capsys):
    data = tmp_path / "scores.csv"
    data.write_text("rev_id,probability,label\n1,0.99,1\n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the analysis extra were not installed
    assert main(["thresholds", "--input", str(data), "--out", str(tmp_path / "t")]) == 0
    err = capsys.readouterr().err
    assert "PNG skipped" in err and "pip install -e '.[analysis]'" in err and not (tmp_path / "t.png").exists()


def test_no_message_sends_anyone_to_the_unrelated_automod_project_on_the_package_index() -> None:
    sources = Path(__file__).resolve().parents[2] / "automod"
    offenders = [str(p) for p in sources.rglob("*.py") if "automod[" in p.read_text(encoding="utf-8")]
    assert offenders == []
