"""Both config files are checked against their JSON Schema; hostile pages never loosen limits."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automod.config import (
    CAUTION_LEVELS,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    parse_config,
)
from automod.schemas import COMMUNITY_CONFIG, SETTINGS, load_schema, schema_problems

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"revertrisk-language-agnostic", "revertrisk-multilingual"}
PROPS = load_schema(COMMUNITY_CONFIG)["properties"]


def test_config_folder_schemas_are_the_ones_the_package_checks_against():
    for name in (COMMUNITY_CONFIG, SETTINGS):
        assert json.loads((ROOT / "config" / name).read_text()) == load_schema(name)


def test_every_shipped_example_passes_its_schema():
    import yaml

    example = json.loads((ROOT / "config/community-config.example.json").read_text())
    assert schema_problems(example, COMMUNITY_CONFIG) == []
    settings = yaml.safe_load((ROOT / "config/settings.example.yaml").read_text())
    assert schema_problems(settings, SETTINGS, root="settings") == []


def test_a_problem_names_the_path_and_the_rule_broken():
    problems = schema_problems({"models": [{"model": "m", "threshold": 0.2}]}, COMMUNITY_CONFIG)
    assert [(p.path, p.rule) for p in problems] == [("$.models[0].threshold", "minimum")]
    assert "between" in problems[0].message and "0.2" in problems[0].message


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Pages made of the real keys with arbitrary values, so that many of them are valid.
_pages = st.dictionaries(st.sampled_from(sorted(PROPS)), _json | st.sampled_from(
    [True, False, "revert", "log-only", 0.9, 0.5, 2, 0, 100000, "revertrisk-language-agnostic", *CAUTION_LEVELS]),
    max_size=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pages)
def test_no_page_a_vandal_can_write_makes_the_bot_revert_more_than_the_limits_allow(page):
    parsed = parse_config(json.dumps(page), MODELS)
    if not parsed.valid:
        assert parsed.config is None and parsed.problems
        return
    config = parsed.config
    for choice in config.models:
        assert THRESHOLD_MIN <= choice.threshold <= THRESHOLD_MAX or choice.threshold in CAUTION_LEVELS.values()
        assert choice.model in MODELS
    for key in ("max_reverts_per_user_per_page", "max_edit_age_minutes", "max_reverts_per_hour"):
        value = getattr(config, key)
        assert PROPS[key]["minimum"] <= value <= PROPS[key]["maximum"] and isinstance(value, int)
    assert config.mode in ("revert", "log-only") and isinstance(config.enabled, bool)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_on_the_page_is_a_config_or_problems_never_an_exception(text):
    parsed = parse_config(text, MODELS)
    assert parsed.valid or parsed.problems
