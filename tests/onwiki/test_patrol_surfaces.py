"""The patrol workflow's new keys and skip reasons reach the community's surfaces (issue 21,
item 6): the config-change notice names each changed key, and `automod stats` counts each
skip reason — checked through the functions the bot and the command use, on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from automod.cli import main
from automod.config import AppliedConfig, parse_config
from automod.onwiki import ConfigPage
from automod.onwiki.config_notice import compose_notice
from automod.onwiki.wikitext import plain
from automod.records import Outcome, Verdict
from automod.store import DecidedEdit, Store
from support.settings_files import offline_settings, write_settings

MODEL = "revertrisk-language-agnostic"
#: Each new key of the patrol workflow, with a valid value other than its default.
NEW_KEYS = {
    "warnings": {"levels": 4, "window_days": 30, "trusted_right": "autoconfirmed"},
    "vandal_report_page": "Project:Vandalism reports",
    "skip_editors_with_edits_at_least": 50,
    "report_reviewer_rights": ["rollback", "patrol"],
    "report_answers_per_hour": 30,
    "report_answers_per_reporter_per_hour": 3,
    "trusted_restorer_rights": ["patrol", "rollback"],
}


def test_the_config_notice_names_each_new_key_that_changed(tmp_path: Path) -> None:
    base = {"enabled": True, "mode": "log-only"}
    old_text, new_text = json.dumps(base), json.dumps({**base, **NEW_KEYS})
    parsed = parse_config(new_text, (MODEL,))
    assert parsed.config is not None, parsed
    previous = AppliedConfig(1, parse_config(old_text, (MODEL,)).config, ())
    page = ConfigPage("MediaWiki:Automod-config.json", 8, 2, "json", new_text, "Admin")
    with Store(tmp_path / "s.sqlite") as store:
        _, notice = compose_notice(store, "w", previous, AppliedConfig(2, parsed.config, ()), page, old_text)
    for key, value in NEW_KEYS.items():
        assert f"<code>{plain(key)}</code>" in notice, key
        assert f"<code>{plain(json.dumps(value))}</code>" in notice, (key, "its new value, quoted as typed text")


def test_stats_counts_every_skip_reason_the_patrol_workflow_added(tmp_path: Path, capsys) -> None:
    settings = tmp_path / "settings.yaml"
    write_settings(settings, offline_settings())
    reasons = ["excluded-by-page", "experienced-editor", "experienced-editor", "revert-of-unknown-parent",
               "cap-reached", "editor-has-right:autopatrol"]
    with Store(tmp_path / "s.sqlite") as store:
        for rev, reason in enumerate(reasons, 1):
            store.record_decision(DecidedEdit(wiki="w", rev_id=rev, parent_id=rev - 1, title="T", user="U",
                                              event_dt="x"),
                                  Verdict(Outcome.SKIP, reason=reason))
    assert main(["stats", "--settings", str(settings), "--wiki", "w"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == {
        "excluded-by-page": 1, "experienced-editor": 2, "revert-of-unknown-parent": 1, "cap-reached": 1,
        "editor-has-right": 1}
