"""Operator settings: the shipped example parses; mistakes are named; credentials stay out."""

from __future__ import annotations

from pathlib import Path

import pytest

from automod.errors import ConfigError
from automod.onwiki.gateway import load_pywikibot
from automod.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_settings_follow_the_live_wikimedia_stream_for_three_wikipedias():
    settings = load_settings(ROOT / "config/settings.example.yaml")
    assert settings.stream.url == "https://stream.wikimedia.org/v2/stream/recentchange"
    assert settings.served_wikis == {"enwiki", "frwiki", "rowiki"}
    assert settings.store == (ROOT / "var/automod.sqlite").resolve()
    assert settings.pywikibot_dir is None  # a dry run needs no credentials
    assert settings.health.interval_seconds == 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_agent: x\n", "user_agent should look like"),
        ("user_agent: 'automod-t/1 (t@example.org)'\nstore: s\nstream: {url: u}\nwikis: []\n", "non-empty list"),
        ("user_agent: 'automod-t/1 (t@example.org)'\nstore: s\nstream: {url: u}\n"
         "wikis: [{name: w, api: a}]\npassword: x\n",
         "unknown keys: password"),
        ("user_agent: 'automod-t/1 (t@example.org)'\nstore: s\nstream: {url: u}\n"
         "wikis: [{name: w, api: a}]\nliftwnig: {}\n",
         r"unknown keys: liftwnig \(did you mean liftwing\?\)"),
        ("user_agent: 'automod-t/1 (t@example.org)'\nstore: s\nstream: {url: u}\n"
         "wikis: [{name: w, api: a}, {name: w, api: b}]\n",
         "names a wiki twice"),
        ("user_agent: 'automod-t/1 (t@example.org)'\nstore: s\nstream: {url: u, stall_seconds: -1}\n"
         "wikis: [{name: w, api: a}]\n",
         "stall_seconds should be a positive number"),
        ("{unclosed", "not valid YAML"),
    ],
)
def test_settings_mistakes_are_named(tmp_path, text, message):
    path = tmp_path / "s.yaml"  # each case a deliberately broken file: written as is
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_a_pywikibot_dir_without_user_config_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="has no user-config.py"):
        load_pywikibot(tmp_path)
