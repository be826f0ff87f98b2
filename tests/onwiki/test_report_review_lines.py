"""A reviewer's own signed status line under a report (what the review gadget saves) and the
instructions header, read without a wiki: which lines count for which revision (issue 28)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from automod.onwiki.i18n import available_languages, load_messages
from automod.onwiki.report_page import HEADER_MARKER, header_text, parse_report_page, status_count

BOT_LINE = (": automod — revision {rev} · [[Special:Diff/9{rev}|revert]] · score 0.9950 · model m 3 · threshold 0.99"
            " · config r7 · status: open [[User:AutomodBot|AutomodBot]] 10:00")


def report(rev: int, *extra: str) -> str:
    return "\n".join([f"== Revert of {rev} ==", f"<!-- automod-report rev={rev} -->", "It was fine. ~~~~",
                      BOT_LINE.format(rev=rev), *extra]) + "\n"


def test_a_reviewers_own_line_counts_for_the_revision_of_its_section_only():
    page = (report(11, ": status: confirmed — confirm false positive (review gadget) [[User:Admin|Admin]] 10:05")
            + report(22))
    assert status_count(11, "confirmed")(page) == 1
    assert status_count(22, "confirmed")(page) == 0  # the line stands under 11's report, not 22's
    assert status_count(11, "declined")(page) == 0
    assert status_count(22, "declined")(page + ":: Status: Declined ~~~~\n") == 1  # any indent, any case


def test_text_that_only_mentions_a_status_is_no_status_line():
    for line in ("I think status: confirmed is right", "* status: confirmed", "status: confirmed",
                 ": the status: confirmed", ": status: confirmedly"):
        assert status_count(11, "confirmed")(report(11, line)) == 0, line


def test_the_header_above_every_report_changes_no_status_and_no_section():
    header = header_text(load_messages("en"), "AutomodBot", "rollback")
    page = header + report(11)
    assert page.startswith(HEADER_MARKER) and "<nowiki>: status: confirmed ~~~~</nowiki>" in header
    assert status_count(11, "confirmed")(page) == 0 and status_count(11, "declined")(page) == 0
    assert [s.rev_id for s in parse_report_page(page)] == [11]


def test_the_header_is_in_every_language_with_the_untranslated_example_lines():
    for lang in available_languages():
        text = header_text(load_messages(lang), "AutomodBot", "rollback")
        assert "[[User:AutomodBot|AutomodBot]]" in text and "rollback" in text, lang
        for status in ("confirmed", "declined"):
            assert f"<nowiki>: status: {status} ~~~~</nowiki>" in text, lang


@given(st.text(max_size=300))
def test_hostile_text_never_breaks_the_count(text):
    for status in ("confirmed", "declined"):
        assert status_count(11, status)(text) >= 0
        assert status_count(11, status)(report(11) + text) >= 0
