"""The central page's rules that need no wiki: merging blocks, the global switch, who can edit."""

from __future__ import annotations

import json

from automod.onwiki import CentralPage, governed_config
from automod.onwiki.central_config import editing_groups, parse_central

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


def test_the_change_notice_lists_each_governed_wiki_before_and_after_and_quotes_what_was_typed():
    from automod.onwiki.central_notice import compose_central_notice
    from automod.store import Store

    old, _ = parse_central(json.dumps({"defaults": {"enabled": True, "mode": "revert"}, "wikis": {}}))
    new, _ = parse_central(json.dumps({"defaults": {"enabled": False, "mode": "revert"},
                                       "wikis": {"smallwiki": {"summary": "{{x}} [[y]]"}}}))
    with Store(":memory:") as store:
        title, body = compose_central_notice(
            store, CentralPage("metawiki", "MediaWiki:C.json", 6, old), CentralPage(
                "metawiki", "MediaWiki:C.json", 7, new, user="Steward"), [("smallwiki", False), ("bigwiki", True)])
    assert title == "Central configuration revision 7 applied"
    assert "<code>defaults.enabled</code> || <code>true</code> || <code>false</code>" in body
    assert '<nowiki>"{{x}} [[y]]"</nowiki>' in body and body.count("{{x}}") == 1  # quoted, never expanded
    lines = body.split("'''smallwiki'''\n", 1)[1].splitlines()
    assert lines[0].startswith("** Before: revertrisk-language-agnostic above 0.99 (revert)")
    assert lines[1].startswith("** After:") and "(off)" in lines[1]
    assert "bigwiki has its own configuration page" in body and "[[User:Steward|Steward]]" in body


def test_a_central_page_naming_wikis_the_bot_does_not_govern_or_impossible_names_gets_a_warning():
    """Issue 26.8d: such blocks are ignored; the change notice says so, each name quoted."""
    from automod.onwiki import unserved_wikis
    from automod.onwiki.central_notice import compose_central_notice
    from automod.store import Store

    document, problems = parse_central(json.dumps({"defaults": {"enabled": True}, "wikis": {
        "smallwiki": {}, "enwiki": {"enabled": True}, "../../etc": {}, "''x''": {}}}))
    assert document is not None and not problems
    assert [w.split(":")[0] for w in unserved_wikis(document, ["smallwiki"])] == [
        "$.wikis.enwiki", "$.wikis.../../etc", "$.wikis.''x''"]
    assert "does not serve or govern" in unserved_wikis(document, ["smallwiki"])[0]
    assert "not a wiki's database name" in unserved_wikis(document, ["smallwiki"])[1]
    with Store(":memory:") as store:
        _, body = compose_central_notice(store, None, CentralPage("metawiki", "MediaWiki:C.json", 7, document,
                                                                  user="Steward"), [("smallwiki", False)])
    warning = body.split("\n\n", 1)[0]
    assert warning.startswith("'''Warning:'''") and "ignored" in warning
    assert "<code>enwiki</code>" in warning and "<code><nowiki>../../etc</nowiki></code>" in warning
    assert "<code><nowiki>''x''</nowiki></code>" in warning, "a name is quoted, never rendered"
    assert "smallwiki" not in warning
    only_governed, _ = parse_central(json.dumps({"defaults": {"enabled": True}, "wikis": {"smallwiki": {}}}))
    with Store(":memory:") as store:
        _, quiet = compose_central_notice(store, None, CentralPage("metawiki", "MediaWiki:C.json", 8, only_governed,
                                                                   user="Steward"), [("smallwiki", False)])
    assert "Warning" not in quiet
