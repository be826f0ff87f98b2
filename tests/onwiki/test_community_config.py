"""The on-wiki config: defaults, every error with its JSON path, and fail-closed rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automod.config import (
    CAUTION_LEVELS,
    DEFAULTS,
    parse_config,
)
from automod.onwiki import config_page_problem

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"revertrisk-language-agnostic", "revertrisk-multilingual"}


def parse(obj) -> object:
    return parse_config(json.dumps(obj), MODELS)


def test_empty_page_gives_the_documented_defaults_disabled_and_log_only():
    cfg = parse({}).config
    assert cfg is not None and not cfg.enabled and cfg.mode == "log-only" and not cfg.reverting
    assert cfg.model == "revertrisk-language-agnostic" and cfg.threshold == 0.990
    assert cfg.skip_rights == {"bot", "autopatrol"}
    assert (cfg.max_reverts_per_user_per_page, cfg.max_edit_age_minutes, cfg.max_reverts_per_hour) == (1, 10, 30)


def test_the_example_page_in_config_is_valid():
    parsed = parse_config((ROOT / "config/community-config.example.json").read_text(), MODELS)
    assert parsed.valid, parsed.problems


def test_schema_file_lists_exactly_the_keys_and_defaults_the_bot_applies():
    schema = json.loads((ROOT / "config/community-config.schema.json").read_text())
    assert set(schema["properties"]) == set(DEFAULTS)
    for key, default in DEFAULTS.items():
        assert schema["properties"][key]["default"] == default, key
    assert schema["properties"]["caution_level"]["enum"] == list(CAUTION_LEVELS)
    assert schema["properties"]["threshold"]["minimum"] == 0.85
    assert schema["properties"]["threshold"]["maximum"] == 0.999


@pytest.mark.parametrize(("level", "threshold"), list(CAUTION_LEVELS.items()))
def test_caution_levels_map_to_automoderator_thresholds(level, threshold):
    assert parse({"caution_level": level}).config.threshold == threshold


def test_explicit_threshold_overrides_caution_level():
    assert parse({"caution_level": "cautious", "threshold": 0.93}).config.threshold == 0.93


@pytest.mark.parametrize(
    ("page", "path", "message"),
    [
        ({"enabled": "yes"}, "$.enabled", "true or false"),
        ({"mode": "revert-all"}, "$.mode", "one of revert, log-only"),
        ({"threshold": 0.5}, "$.threshold", "between 0.85 and 0.999"),
        ({"threshold": 1.0}, "$.threshold", "between 0.85 and 0.999"),
        ({"threshold": "0.99"}, "$.threshold", "should be a number"),
        ({"caution_level": "reckless"}, "$.caution_level", "one of very-cautious"),
        ({"model": "gpt"}, "$.model", "not available on this wiki"),
        ({"skip_rights": "bot"}, "$.skip_rights", "list of right names"),
        ({"max_reverts_per_hour": 100000}, "$.max_reverts_per_hour", "between 1 and 500"),
        ({"max_reverts_per_user_per_page": "1"}, "$.max_reverts_per_user_per_page", "integer"),
        ({"max_edit_age_minutes": 0}, "$.max_edit_age_minutes", "between 1 and 1440"),
        ({"talk_notice": {"enabled": True}}, "$.false_positive_page", "required"),
        ({"talk_notice": {"enabeld": True}}, "$.talk_notice.enabeld", "unknown key (did you mean enabled?)"),
        ({"treshold": 0.9}, "$.treshold", "unknown key (did you mean threshold?)"),
        ({"colour": "blue"}, "$.colour", "unknown key"),
        ({"summary": ""}, "$.summary", "must not be empty"),
        ({"models": [{"model": "revertrisk-language-agnostic", "threshold": 2}]}, "$.models[0].threshold", "between"),
        ({"models": [], }, "$.models", "non-empty list"),
        ({"models": [{"model": "revertrisk-multilingual"}], "threshold": 0.9}, "$.models", "not both"),
    ],
)
def test_each_error_is_reported_with_its_json_path_and_disables_the_wiki(page, path, message):
    parsed = parse(page)
    assert not parsed.valid and parsed.config is None
    assert any(p.path == path and message in p.message for p in parsed.problems), parsed.problems


def test_an_unrelated_unknown_key_gets_no_suggestion():
    [problem] = parse({"colour": "blue"}).problems
    assert str(problem) == "$.colour: unknown key"


def test_all_errors_are_reported_at_once():
    parsed = parse({"enabled": 1, "mode": "x", "threshold": 7})
    assert {p.path for p in parsed.problems} == {"$.enabled", "$.mode", "$.threshold"}


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "null", '{"enabled": true,}'])
def test_invalid_json_or_non_object_is_one_problem_at_the_root(text):
    parsed = parse_config(text, MODELS)
    assert not parsed.valid and parsed.problems[0].path == "$"


def test_several_models_must_all_be_listed_with_their_thresholds():
    cfg = parse({"models": [{"model": "revertrisk-language-agnostic", "caution_level": "cautious"},
                            {"model": "revertrisk-multilingual", "threshold": 0.9}]}).config
    assert [(m.model, m.threshold) for m in cfg.models] == [
        ("revertrisk-language-agnostic", 0.985), ("revertrisk-multilingual", 0.9)]


@pytest.mark.parametrize(
    ("title", "ns", "ok"),
    [
        ("MediaWiki:Automod-config.json", 8, True),
        ("User:AutomodBot/config.json", 2, True),
        ("User:AutomodBot/config", 2, False),
        ("User:Vandal1/config.json", 2, False),
        ("Automod config.json", 0, False),
        ("Project:Automod.json", 4, False),
    ],
)
def test_only_pages_ordinary_users_cannot_edit_are_accepted(title, ns, ok):
    problem = config_page_problem(title, ns, "json", "AutomodBot")
    assert (problem is None) == ok
    if not ok:
        assert problem.path == "$page" and "ordinary users" in problem.message


def test_a_wikitext_config_page_is_refused():
    assert config_page_problem("MediaWiki:Automod-config", 8, "wikitext", "AutomodBot") is not None
