"""The 26 language-agnostic features: counts on real edit pairs checked by hand.

Fixtures: tests/data/fixtures/edits (Wikipedia text, CC BY-SA, Wikipedia contributors; see
tests/data/fixtures/README.md). Every expected count below was worked out by reading the wikitext; the
comments list what was counted.
"""

from __future__ import annotations

import json
import math
import random
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from automod import cli
from automod.scoring import (
    FEATURE_NAMES,
    EditData,
    NamespaceNames,
    QualityMaxima,
    RevisionInfo,
    TextCounts,
    UserInfo,
    edit_features,
    text_counts,
)
from automod.scoring import (
    features as F,
)
from automod.scoring.features import quality_class, quality_score

FIXTURES = Path(__file__).resolve().parents[1] / "data/fixtures/edits"
CLUEBOT = FIXTURES / "cluebot"
PAN = FIXTURES / "panwvc10_mini/training/revisions"


def cluebot_edit(name: str) -> ET.Element:
    return next(ET.parse(CLUEBOT / name).getroot().iter("WPEdit"))


def cluebot_texts(name: str) -> tuple[str, str]:
    edit = cluebot_edit(name)
    return edit.findtext("previous/text") or "", edit.findtext("current/text") or ""


# (fixture, side) → hand counts. Lengths are characters after removing comments.
HAND_COUNTS = {
    # Christchurch and Lymington (327799203, constructive): 20 [[links]]: 15 articles
    # (United Kingdom constituencies, Christchurch Dorset, Lymington, Hampshire, Member of
    # Parliament, British House of Commons, Parliament of the UK, Feb 1974 election x2, 1983
    # election x2, Christchurch constituency x2, Robert Adley, Conservative Party) and 5
    # categories; 4 "== … ==" headings; no refs, no files. The edit renames one category.
    ("core_good_edit.xml", "previous"): TextCounts(2426, 0, 4, 15, 5, 0),
    ("core_good_edit.xml", "current"): TextCounts(2424, 0, 4, 15, 5, 0),
    # Head (326777166, vandalism): 34 links in the article + 74 interlanguage links = 108;
    # 3 [[Image:…]] (the third swallows the nested [[Anthropometry|…]] of its caption), 1
    # category → 104 wikilinks; 3 <ref>…</ref>; 9 headings (8 H2, 1 H3); one 28-character
    # comment inside a ref. The vandal removed the "Anatomy generally" section (2 headings,
    # 2 refs, 9 links) and one [[brain]] line, and added "== [['''''GABE ALON …''''']] ==".
    ("core_bad_edit.xml", "previous"): TextCounts(7762 - 28, 3, 9, 104, 1, 3),
    ("core_bad_edit.xml", "current"): TextCounts(6755 - 28, 1, 8, 95, 1, 3),
    # Cope2 (353452767, vandalism): 12 references (5 self-closed <ref name=… />, 7 paired);
    # 37 links: 2 [[Image:…]] (each swallowing a nested link), 4 categories, 3 interlanguage
    # → 31 wikilinks; 4 headings. The vandal replaced the "Projects" section: −1 heading,
    # −7 refs, −17 links (one of them an image).
    ("reviewer_edit_353452767.xml", "previous"): TextCounts(6001, 12, 4, 31, 4, 2),
    ("reviewer_edit_353452767.xml", "current"): TextCounts(3576, 5, 3, 15, 4, 1),
}


@pytest.mark.parametrize("fixture,side", sorted(HAND_COUNTS), ids=lambda v: str(v))
def test_counts_on_real_edits_match_hand_counts(fixture, side):
    previous, current = cluebot_texts(fixture)
    assert text_counts(previous if side == "previous" else current) == HAND_COUNTS[(fixture, side)]


def test_pan_insult_changes_only_the_length():
    old = (PAN / "part-1/328774035.txt").read_text(encoding="utf-8")
    new = (PAN / "part-2/328774110.txt").read_text(encoding="utf-8")
    before, after = text_counts(old), text_counts(new)
    # Chinatown, Manhattan: the IP wrote "okku is an ass hole" (19 characters) on an empty line.
    assert after.text_length - before.text_length == len("okku is an ass hole")
    assert (after.reference_count, after.heading_count, after.wikilink_count, after.category_count,
            after.media_count) == (before.reference_count, before.heading_count, before.wikilink_count,
                                   before.category_count, before.media_count)


def test_pan_link_fix_adds_one_wikilink():
    old = (PAN / "part-2/307084144.txt").read_text(encoding="utf-8")
    new = (PAN / "part-1/326873205.txt").read_text(encoding="utf-8")
    before, after = text_counts(old), text_counts(new)
    # "*Eddie Bayers - drums" became "*[[Eddie Bayers]] - drums".
    assert after.wikilink_count == before.wikilink_count + 1
    assert after.text_length == before.text_length + 4
    assert before.category_count == 5 and before.media_count == 2


def test_quality_score_follows_the_published_weights_and_floors():
    counts = text_counts(cluebot_texts("core_good_edit.xml")[1])  # 2424 chars, 4 headings, 15 links, 5 cats
    root = math.sqrt(2424)
    expected = (0.395 * root / 100 + 0.123 * (4 / root) / 0.1 + 0.115 * (math.sqrt(15) / root) / 0.1
                + 0.070 * 1.0)
    assert quality_score(counts) == pytest.approx(expected)
    assert quality_class(quality_score(counts)) == 1  # 0.455: Start
    assert quality_score(TextCounts()) == 0.0
    # Every input saturated: the published weights sum to 0.998, not 1.
    assert quality_score(TextCounts(10_000, 100, 100, 10_000, 50, 50)) == pytest.approx(0.998)


def test_quality_classes_use_the_published_cut_offs():
    scores = (0.0, 0.42, 0.43, 0.56, 0.73, 0.85, 0.93, 0.94, 1.0)
    assert [quality_class(q) for q in scores] == [0, 0, 1, 1, 2, 3, 4, 5, 5]


def test_wiki_maxima_never_go_below_the_floors():
    tiny = [TextCounts(100, 0, 0, 1, 0, 0)] * 30
    assert QualityMaxima.from_counts(tiny) == QualityMaxima()
    rich = [TextCounts(40_000, 100, 30, 400, 20, 15)] * 30
    maxima = QualityMaxima.from_counts(rich)
    assert maxima.length == pytest.approx(200.0) and maxima.categories == 20 and maxima.media == 15


SITEINFO_DE = {
    "namespaces": {
        "-2": {"id": -2, "name": "Medium", "canonical": "Media"},
        "6": {"id": 6, "name": "Datei", "canonical": "File"},
        "14": {"id": 14, "name": "Kategorie", "canonical": "Category"},
        "0": {"id": 0, "name": ""},
    },
    "namespacealiases": [{"id": 6, "alias": "Bild"}, {"id": 7, "alias": "Bild Diskussion"}],
}


def test_namespace_names_come_from_the_wikis_siteinfo():
    names = NamespaceNames.from_siteinfo(SITEINFO_DE)
    text = ("[[Kategorie:Ort]] [[Category:Town]] [[Datei:A b.jpg|mini]] [[Bild:C.png]] [[File:D.svg]] "
            "[[Medium:E.ogg]] [[Bild Diskussion:X]] [[Berlin]] [[:Kategorie:Ort]]")
    counts = text_counts(text, names)
    assert (counts.category_count, counts.media_count) == (2, 4)
    assert counts.wikilink_count == 3  # Berlin, the talk-page link, the leading-colon category link
    # Without the wiki's names only MediaWiki's canonical ones are known.
    canonical = text_counts(text)
    assert (canonical.category_count, canonical.media_count) == (1, 4)  # Bild/Datei still caught as file names
    assert canonical.wikilink_count == 9 - 1 - 1  # only [[File:…]] is a canonical media prefix


def test_bare_file_names_count_once_with_their_bracketed_link():
    text = "{{Infobox|image = Skyline.JPG}}\n[[File:Skyline.jpg|thumb]]\n<gallery>\nA.png\nB.webm\n</gallery>"
    assert text_counts(text).media_count == 3  # skyline.jpg (infobox and link: once), a.png, b.webm


def test_refs_headings_and_comments_follow_the_published_rules():
    text = ("<!-- [[Hidden]] <ref>x</ref> == Hidden == -->\n== A ==\n=== B ===\n==== C ====\n"
            "<REF NAME=\"x\" /><ref>y</ref><ref name=a/b>z</ref><references />[[L]]")
    counts = text_counts(text)
    assert (counts.heading_count, counts.reference_count, counts.wikilink_count) == (2, 2, 1)
    assert counts.text_length == len(text) - len("<!-- [[Hidden]] <ref>x</ref> == Hidden == -->")


PUBLISHED_LINK = re.compile(r"(?<=\[\[)(.*?)(?=]])", re.DOTALL)
PUBLISHED_FILENAME = re.compile(r"([\w ',().-]+)(\.jpg|\.png|\.svg|\.gif|\.jpeg|\.tif|\.bmp|\.webp|\.xcf|\.ogv|"
                                r"\.webm|\.mpg|\.mpeg|\.ogg|\.mp3|\.mid|\.flac|\.wav|\.oga)\b")
PUBLISHED_HEADING = re.compile(r"(={2,})(.*?)(={2,})")


def _published(text: str) -> tuple[list[str], set[str], int]:
    links = [m.split("|", 1)[0] for m in PUBLISHED_LINK.findall(text)]
    files = {(n + e).strip() for n, e in PUBLISHED_FILENAME.findall(text) if len(n) <= F.MAX_FILENAME_STEM}
    headings = sum(1 for m in PUBLISHED_HEADING.finditer(text) if len(m.group(1)) <= 3)
    return links, files, headings


def published_counts(wikitext: str, names: NamespaceNames = NamespaceNames()) -> TextCounts:
    """The published algorithm as written (reference §2.3): slow, but the yardstick."""
    text = re.sub(r"<!--.*?-->", "", wikitext, flags=re.DOTALL).lower()
    refs = (len(re.findall(r"<ref(\s[^/>]*)?/>", text, re.IGNORECASE))
            + len(re.findall(r"<ref(\s[^/>]*)?>[\s\S]*?</ref>", text, re.IGNORECASE)))
    links, files, headings = _published(text)
    prefixes = [F.normalise_prefix(link.split(":", 1)[0]) if ":" in link else None for link in links]
    categories = sum(1 for prefix in prefixes if prefix in names.category)
    media = [link.split(":", 1)[1].strip() for link, prefix in zip(links, prefixes) if prefix in names.media]
    return TextCounts(len(text), refs, headings, len(links) - categories - len(media), categories,
                      len(set(media) | files))


def test_linear_time_scanners_agree_with_the_published_regexes():
    texts = [p.read_text(encoding="utf-8") for p in sorted(PAN.glob("*/*.txt"))]
    texts += [t for name in ("core_bad_edit.xml", "reviewer_edit_353452767.xml") for t in cluebot_texts(name)]
    rng = random.Random(5)
    pieces = ["[", "]", "[[", "]]", "|", "=", "==", "\n", "a", " ", ".jpg", ".PNG", ":", ".", "é", "_", "-",
              ".jpgs", "!", "b" * 130, "²", "[[File:", "[[CATEGORY:", "[[image:", "<REF>", "</ref>", "<ref name=x/>",
              "<!--", "-->", "İ", "Ω", ".JpEg", ".ſvg"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(4000)]
    for text in texts:
        lowered = text.lower()
        ours = (F.link_targets(lowered), F.file_names(lowered), F.count_headings(lowered))
        assert ours == _published(lowered), text[:80]
        assert text_counts(text) == published_counts(text), text[:80]
        assert text_counts(text, NamespaceNames.from_siteinfo(SITEINFO_DE)) == published_counts(
            text, NamespaceNames.from_siteinfo(SITEINFO_DE)), text[:80]


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_cope2_edit_gives_all_26_features_in_published_order():
    edit = cluebot_edit("reviewer_edit_353452767.xml")
    previous, current = cluebot_texts("reviewer_edit_353452767.xml")
    data = EditData(
        revision=RevisionInfo(353452767, _moment(1270189154), len(current.encode()), current, "/* Projects */"),
        parent=RevisionInfo(1, _moment(1268974080), len(previous.encode()), previous),
        user=UserInfo(edit.findtext("user") or "", anonymous=True),
        page_created=_moment(1140851815))
    features = edit_features(data, text_counts(current), text_counts(previous))
    assert tuple(features) == FEATURE_NAMES and FEATURE_NAMES[:26] == F.BASE_FEATURE_NAMES
    assert len(F.BASE_FEATURE_NAMES) == 26 and len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    # The editor signals were not fetched: missing to the model (NaN), not zero.
    assert all(math.isnan(features[name]) for name in F.EDITOR_FEATURE_NAMES)
    assert features["page_seconds_since_previous_revision"] == 1270189154 - 1268974080
    assert features["page_age"] == pytest.approx((1270189154 - 1140851815) / 86400)
    assert features["revision_text_bytes_diff"] == len(current.encode()) - len(previous.encode())
    assert (features["user_is_anonymous"], features["user_age"], features["user_revision_count"],
            features["user_groups"], features["has_comment"]) == (1.0, -1.0, 0.0, 0.0, 1.0)
    assert (features["reference_count"], features["parent_reference_count"]) == (5, 12)
    assert (features["media_count"], features["parent_media_count"]) == (1, 2)
    assert features["quality_change"] == pytest.approx(features["quality_score"] - features["parent_quality_score"])
    assert (features["quality_change_range"]
            == features["quality_range"] - quality_class(features["parent_quality_score"]))


def test_registered_editor_features_use_explicit_groups_and_days():
    now = datetime(2024, 5, 1, tzinfo=UTC)
    user = UserInfo("Ann", anonymous=False, edit_count=42, registration=now - timedelta(days=3, hours=12),
                    groups=frozenset({"*", "user", "autoconfirmed", "sysop", "rollbacker"}))
    data = EditData(RevisionInfo(2, now, 120, "b", ""), RevisionInfo(1, now - timedelta(minutes=5), 100, "a"),
                    user, page_created=now - timedelta(days=10))
    features = edit_features(data, text_counts("b"), text_counts("a"))
    assert (features["user_groups"], features["user_age"], features["user_revision_count"]) == (2.0, 3.5, 42.0)
    assert (features["has_comment"], features["page_seconds_since_previous_revision"],
            features["page_age"]) == (0.0, 300.0, 10.0)


def test_features_command_prints_the_wikitext_features_as_json(tmp_path, capsys):
    previous, current = cluebot_texts("core_bad_edit.xml")
    (tmp_path / "old.wiki").write_text(previous, encoding="utf-8")
    (tmp_path / "new.wiki").write_text(current, encoding="utf-8")
    siteinfo = tmp_path / "siteinfo.json"
    siteinfo.write_text(json.dumps({"batchcomplete": True, "query": SITEINFO_DE}))
    code = cli.main(["features", "--old", str(tmp_path / "old.wiki"), "--new", str(tmp_path / "new.wiki"),
                     "--siteinfo", str(siteinfo)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (out["heading_count"], out["parent_heading_count"], out["reference_count"], out["wikilink_count"],
            out["media_count"], out["category_count"]) == (8, 9, 1, 95, 3, 1)
    assert out["text_length"] == 6755 - 28 and len(out) == 17


def test_features_command_reports_a_missing_file(tmp_path, capsys):
    code = cli.main(["features", "--old", str(tmp_path / "nope"), "--new", str(tmp_path / "nope")])
    assert code == 1 and capsys.readouterr().err.startswith("Error: cannot read")
