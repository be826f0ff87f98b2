"""The message files: complete in every language, documented, and still parseable by the bot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from automod.onwiki import i18n
from automod.onwiki.i18n import (
    available_languages,
    fallback_chain,
    fill,
    load_messages,
    message_file,
)
from automod.onwiki.reports import (
    ReportSection,
    parse_report_page,
    preload_text,
    report_line,
)

I18N_DIR = Path(i18n.__file__).parent
SHIPPED = ["de", "en", "es", "fr", "it", "pt", "ro", "ru"]
ENGLISH = message_file("en")


def params(text: str) -> set[str]:
    return set(re.findall(r"\$\d+", text))


def test_the_promised_languages_ship_with_authors() -> None:
    assert set(SHIPPED) <= set(available_languages())
    for lang in available_languages() + ["qqq"]:
        data = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert data["@metadata"]["authors"], lang


@pytest.mark.parametrize("lang", available_languages())
def test_every_language_has_every_message_with_the_same_parameters(lang: str) -> None:
    messages = message_file(lang)
    assert set(messages) == set(ENGLISH), (f"{lang}: missing {set(ENGLISH) - set(messages)},"
                                           f" extra {set(messages) - set(ENGLISH)}")
    for key, text in messages.items():
        assert params(text) == params(ENGLISH[key]), (lang, key)
        assert text.strip(), (lang, key)
        # A signature or a help line the English text has must not be lost in translation.
        assert text.endswith("~~~~") == ENGLISH[key].endswith("~~~~"), (lang, key)


def test_qqq_documents_every_message_and_each_of_its_parameters() -> None:
    docs = message_file("qqq")
    assert set(docs) == set(ENGLISH)
    for key, text in ENGLISH.items():
        for param in params(text):
            assert f"* {param} " in docs[key], f"qqq.json does not document {param} of {key}"


@pytest.mark.parametrize("lang", available_languages())
def test_plural_forms_fit_the_languages_rules(lang: str) -> None:
    categories = {"ro": 3, "ru": 3}.get(lang, 2)
    for key, text in message_file(lang).items():
        for param, forms in re.findall(r"\{\{PLURAL:(\$\d+)\|([^{}]*)\}\}", text):
            assert len(forms.split("|")) == categories, (lang, key, forms)
            assert param in params(ENGLISH[key])


@pytest.mark.parametrize("lang", available_languages())
def test_report_lines_in_every_language_are_read_back_with_the_reviewers_status(lang: str) -> None:
    messages = load_messages(lang)
    line = report_line(4321, revert_rev_id=4322, probability=0.995, model="revertrisk-language-agnostic",
                       version="3", threshold=0.99, config_rev=17, status="open", messages=messages)
    page = f"== A page (r4321) ==\nIt was fine. [[User:Someone|Someone]]\n{line}\n"
    assert parse_report_page(page)[0].logged_status == "open"
    assert parse_report_page(page.replace("status: open", "status: confirmed"))[0].logged_status == "confirmed"
    # Without the preload's marker, the revision still comes from the bot's own line.
    assert parse_report_page(f"== Untitled ==\n{line}\n")[0].rev_id == 4321
    no_match = messages.format("automod-report-no-match", 99)
    assert parse_report_page(f"== X ==\n: {no_match} ~~~~\n") == [ReportSection("X", 99, "no-match")]
    for key in ("automod-report-reinstated", "automod-report-page-changed"):
        assert "status:" not in messages.text(key) and messages.text(key).startswith("automod — ")


@pytest.mark.parametrize("lang", available_languages())
def test_the_report_preload_keeps_the_reporters_signature_unexpanded(lang: str) -> None:
    text = preload_text(load_messages(lang))
    assert text.startswith("<!-- automod-report rev=$1 -->\n")
    assert "~~~~" not in text and "~~<includeonly>~~</includeonly>" in text
    assert params(text) == {"$1", "$2"}


def test_fallback_chains_end_in_english_and_unknown_languages_get_english() -> None:
    assert fallback_chain("pt-br") == ("pt-br", "pt", "en")
    assert fallback_chain("de-formal", ["de"]) == ("de-formal", "de", "en")
    assert fallback_chain("en") == ("en",)
    brazilian = load_messages("pt-br")
    assert brazilian.language == "pt-br"
    assert brazilian.text("automod-notice-summary") == message_file("pt")["automod-notice-summary"]
    assert load_messages("xx").text("automod-notice") == ENGLISH["automod-notice"]
    assert load_messages("../../etc/passwd").text("automod-notice") == ENGLISH["automod-notice"]


def test_values_are_never_read_as_parameters_or_plural() -> None:
    # Page titles and user names are typed by anyone: they must come out verbatim.
    assert fill("[[$1]] by $2", "Page $2", "{{PLURAL:1|x|y}}") == "[[Page $2]] by {{PLURAL:1|x|y}}"
    assert fill("$1 $10", "a") == "a $10"


@pytest.mark.parametrize(("lang", "count", "expected"), [
    ("en", 1, "1 scored edit"), ("en", 0, "0 scored edits"), ("fr", 0, "0 modification évaluée"),
    ("fr", 2, "2 modifications évaluées"), ("ru", 21, "21 оценённой правки"), ("ru", 3, "3 оценённых правок"),
    ("ro", 1, "1 modificare evaluată"), ("ro", 5, "5 modificări evaluate"), ("ro", 20, "20 de modificări evaluate"),
])
def test_counts_take_the_plural_form_of_the_language(lang: str, count: int, expected: str) -> None:
    line = load_messages(lang).format("automod-config-impact", "x", "m", 0.99, "revert", "0.10", 0, count, 30, "?")
    assert expected in line


def test_overrides_win_and_keep_the_wikis_plural_rules() -> None:
    messages = load_messages("fr").with_overrides({"automod-notice-summary": "{{PLURAL:$1|un|plusieurs}} [[$1]]",
                                                   "not-a-message": "ignored"})
    assert messages.format("automod-notice-summary", "0") == "un [[0]]"
    assert "not-a-message" not in messages.texts
