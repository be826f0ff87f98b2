"""What the local model counts as a vandalism warning on an editor's talk page, per content
language (issue 16's editor signals), on real talk pages (tests/data/fixtures/talk/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automod.onwiki import level_comment
from automod.scoring.revision_data import (
    DEFAULT_WARNING_PATTERN,
    RevisionFetcher,
    warning_pattern,
)

TALK = Path(__file__).resolve().parents[1] / "data/fixtures/talk"
I18N = Path(__file__).resolve().parents[2] / "automod/onwiki/i18n"
EN = {"enwiki_Brianna001_uw-vandalism1.txt": 2, "enwiki_Ilovebirds7_cluebot.txt": 2}
FR = {"frwiki_Kaluluka.txt": 2, "frwiki_2.7.136.12.txt": 1}


def _count(fetcher: RevisionFetcher, name: str) -> int:
    return len(fetcher.warnings.findall((TALK / name).read_text(encoding="utf-8")))


def test_english_counts_the_uw_markers_as_before() -> None:
    fetcher = RevisionFetcher(lambda **_: {}, lang="en")
    assert warning_pattern("en") == warning_pattern(None) == DEFAULT_WARNING_PATTERN
    # Each `<!-- Template:uw-… -->` marker counts: ClueBot NG and Twinkle leave two per notice.
    assert {name: _count(fetcher, name) for name in EN} == EN
    assert {name: _count(fetcher, name) for name in FR} == dict.fromkeys(FR, 0)  # French warnings unseen


def test_french_wiki_counts_salebot_and_patroller_warnings_not_the_welcome() -> None:
    fetcher = RevisionFetcher(lambda **_: {}, lang="fr")
    assert {name: _count(fetcher, name) for name in FR} == FR
    assert {name: _count(fetcher, name) for name in EN} == EN  # uw- templates still count


@pytest.mark.parametrize("lang", ["fr", "fr-ca", "FR"])
def test_language_variants_fall_back_to_the_base_language(lang: str) -> None:
    assert warning_pattern(lang) == warning_pattern("fr") != DEFAULT_WARNING_PATTERN


def test_pattern_follows_the_language_learned_from_siteinfo() -> None:
    fetcher = RevisionFetcher(lambda **_: {})  # lang unknown until the first revision's siteinfo
    assert _count(fetcher, "frwiki_Kaluluka.txt") == 0
    fetcher.lang = "fr"  # what fetch() sets from siteinfo
    assert _count(fetcher, "frwiki_Kaluluka.txt") == 2
    explicit = RevisionFetcher(lambda **_: {}, lang="fr", warning_pattern=r"Avis de blocage")
    assert _count(explicit, "frwiki_Kaluluka.txt") == 0


def test_the_bots_own_notices_count_in_every_language_it_writes() -> None:
    """Each notice carries `<!-- Template:<automod-warning-template, $1 = N> -->` (onwiki.notices)."""
    for path in sorted(I18N.glob("*.json")):
        if path.stem == "qqq":
            continue
        template = json.loads(path.read_text(encoding="utf-8"))["automod-warning-template"]
        fetcher = RevisionFetcher(lambda **_: {}, lang=path.stem)
        assert len(fetcher.warnings.findall(f"Text. {level_comment(template, 2)} ~~~~")) == 1, path.name
