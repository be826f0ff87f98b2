"""The level marker of every message language: written with the wiki's template name (the level in
place of ``$1``, so a template taking the level as a parameter works) and read back by the same
name; each name that is not the English fallback has a source in docs/warning-templates.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from automod.onwiki import level_comment, level_pattern
from automod.onwiki.i18n import available_languages, message_file

DOC = Path(__file__).resolve().parents[2] / "docs" / "warning-templates.md"
FALLBACK = "uw-vandalism$1"


@pytest.mark.parametrize("lang", available_languages())
def test_each_level_marker_is_read_back_as_its_level(lang: str) -> None:
    template = message_file(lang)["automod-warning-template"]
    pattern = level_pattern(template)
    for level in (1, 2, 3, 4):
        found = pattern.findall(f"Text.\n{level_comment(template, level)}Please stop. ~~~~")
        assert [int(x) for x in found] == [level], (lang, level)


def test_portuguese_level_is_the_parameter_of_aviso_vandalismo() -> None:
    template = message_file("pt")["automod-warning-template"]
    assert level_comment(template, 2) == "<!-- Template:Aviso-vandalismo|2 -->"
    pattern = level_pattern(template)
    assert pattern.findall("<!-- Template:Aviso-vandalismo|3 --> Pare.") == ["3"]
    assert pattern.findall("<!-- Template:Aviso-vandalismo3 --> <!-- Template:uw-vandalism3 -->") == []


def test_english_markers_are_unchanged() -> None:
    assert level_comment(message_file("en")["automod-warning-template"], 4) == "<!-- Template:uw-vandalism4 -->"
    assert level_pattern(FALLBACK).findall("<!-- Template:uw-vandalism4im -->") == ["4"]


@pytest.mark.parametrize("lang", available_languages())
def test_a_local_name_has_a_source_and_the_others_say_they_fall_back(lang: str) -> None:
    template = message_file(lang)["automod-warning-template"]
    row = next((line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {lang} |")), "")
    assert row, f"{lang} is missing from {DOC.name}"
    assert f"`{template.replace('|', chr(92) + '|')}`" in row
    if template == FALLBACK and lang != "en":
        assert "(fallback)" in row and "no verified local name" in row
    else:
        assert re.search(r"https://\S+\.wikipedia\.org/wiki/\S+", row), row
