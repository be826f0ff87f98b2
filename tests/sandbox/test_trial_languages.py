"""The trial's report and review steps in every shipped message language, without a wiki:
where the reason goes in the pre-filled report, and how the bot's answer is recognised."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automod.onwiki.i18n import available_languages, load_messages
from automod.sandbox.trial import answer_pattern, reason_prompt, with_reason

LANGUAGES = available_languages()


def preloaded(lang: str, rev: int = 42, title: str = "Page") -> str:
    """The form a browser shows after following the notice's link (the preload, $1 and $2 filled)."""
    body = load_messages(lang).format("automod-report-preload", rev, title)
    return f"<!-- automod-report rev={rev} -->\n{body}\n\n~~~~\n"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_reason_goes_after_the_prompt_of_the_wikis_language(lang: str) -> None:
    messages = load_messages(lang)
    text = with_reason(preloaded(lang), "It was a typo fix.", (messages, load_messages("en")))
    prompt = reason_prompt(messages)
    assert f"{prompt} It was a typo fix.\n" in text
    assert text.startswith("<!-- automod-report rev=42 -->\n")  # nothing above the preloaded lines
    assert text.rstrip().endswith("~~~~")


def test_french_prompt_is_filled_not_left_empty() -> None:
    text = with_reason(preloaded("fr"), "Une correction.", (load_messages("fr"), load_messages("en")))
    assert "Pourquoi c'était une bonne modification : Une correction." in text
    assert not text.startswith("Une correction.")


def test_without_any_known_prompt_the_reason_goes_above_the_signature() -> None:
    text = with_reason("<!-- automod-report rev=7 -->\nReworded by the community.\n\n~~~~\n", "Fine.",
                       (load_messages("ru"), load_messages("en")))
    assert text == "<!-- automod-report rev=7 -->\nReworded by the community.\n\nFine.\n\n~~~~\n"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_bots_answers_are_recognised_in_every_language(lang: str) -> None:
    messages = load_messages(lang)
    reinstated = messages.format("automod-report-reinstated", 1234, 1240)
    changed = messages.format("automod-report-page-changed", 1234)
    assert answer_pattern(messages.text("automod-report-reinstated"), 1234).search(f": {reinstated} ~~~~")
    assert answer_pattern(messages.text("automod-report-page-changed"), 1234).search(changed)
    # Not an answer about another revision, nor the other answer.
    assert not answer_pattern(messages.text("automod-report-reinstated"), 123).search(reinstated)
    assert not answer_pattern(messages.text("automod-report-reinstated"), 1234).search(changed)


@given(st.text(max_size=80))
def test_a_hostile_reason_is_typed_once_and_keeps_the_preload(reason: str) -> None:
    base = preloaded("fr")
    text = with_reason(base, reason, (load_messages("fr"), load_messages("en")))
    assert text.startswith("<!-- automod-report rev=42 -->\nModification annulée : [[Special:Diff/42]]")
    assert reason in text and text.rstrip().endswith("~~~~")
