"""The central page's rules that need no wiki: merging blocks, the global switch, who can edit."""

from __future__ import annotations

import json

from automod.onwiki.central_config import CentralPage, editing_groups, governed_config, parse_central

MODELS = ("revertrisk-language-agnostic",)
GROUPS = [{"name": "*", "rights": ["edit"]}, {"name": "autoconfirmed", "rights": ["editsemiprotected"]},
          {"name": "sysop", "rights": ["editinterface", "editsitejson", "editprotected", "editsemiprotected"]},
          {"name": "interface-admin", "rights": ["editinterface", "editsitejson"]}]


def config_for(document: dict, wiki: str = "smallwiki"):
    parsed, problems = parse_central(json.dumps(document))
    assert not problems
    applied, _ = governed_config(CentralPage("metawiki", "MediaWiki:C.json", 7, parsed), wiki, MODELS)
    return applied


def test_a_block_overrides_the_defaults_and_its_caution_level_beats_a_default_threshold():
    applied = config_for({"defaults": {"enabled": True, "mode": "revert", "threshold": 0.9},
                          "wikis": {"smallwiki": {"caution_level": "very-cautious"}}})
    assert applied.config is not None and applied.config.reverting and applied.config.threshold == 0.99
    assert (applied.rev_id, applied.page) == (7, "metawiki:MediaWiki:C.json")


def test_the_defaults_enabled_false_is_a_global_switch_no_block_can_undo():
    applied = config_for({"defaults": {"enabled": False, "mode": "revert"},
                          "wikis": {"smallwiki": {"enabled": True}}})
    assert applied.config is not None and not applied.config.enabled


def test_a_bad_block_anywhere_refuses_the_whole_page():
    _, problems = parse_central(json.dumps({"defaults": {}, "wikis": {"other": {"threshold": 0.2}}, "x": 1}))
    assert {p.path for p in problems} == {"$.x", "$.wikis.other.threshold"}
    refused = CentralPage("metawiki", "MediaWiki:C.json", 7, None, problems)
    applied, _ = governed_config(refused, "smallwiki", MODELS)
    assert applied.config is None and all("central page metawiki:MediaWiki:C.json" in str(p) for p in applied.problems)


def test_who_can_edit_comes_from_namespace_protection_and_group_rights():
    assert editing_groups(4, "json", [], GROUPS) is None  # unprotected: anyone
    assert editing_groups(4, "json", [{"type": "edit", "level": "autoconfirmed"}], GROUPS) == {"autoconfirmed", "sysop"}
    assert editing_groups(4, "json", [{"type": "edit", "level": "sysop"}], GROUPS) == {"sysop"}
    assert editing_groups(4, "json", [{"type": "move", "level": "sysop"}], GROUPS) is None
    assert editing_groups(8, "json", [], GROUPS) == {"sysop", "interface-admin"}
