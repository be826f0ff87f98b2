"""The report page without a wiki: sections located by MediaWiki's offsets (not by heading
text), the bot's line read back, the flood limits and the per-revision pass memory (issue 14)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automod.config import CommunityConfig
from automod.onwiki.page_reads import SectionSpan
from automod.onwiki.report_page import (
    page_sections,
    parse_report_page,
    report_line,
    rev_number,
    status_count,
    status_counts,
)
from automod.onwiki.report_trust import (
    FLOOD_LINE_KIND,
    LineBudget,
    answered_sections,
    mark_unfinished,
    passed,
    record_pass,
    unfinished,
    waiting_sections,
)
from automod.onwiki.shared_reports import shared_status_count, shared_status_counts
from automod.store import Store
from support.store_evidence import sqlite_of

PAGE = "Project:Automod/False positives"


def spans_of(text: str, *, in_bytes: bool = False) -> list[SectionSpan]:
    """What ``action=parse&prop=sections`` gives for ``text`` (headings at line starts)."""
    spans, offset, index = [], 0, 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        if stripped.startswith("=") and stripped.endswith("="):
            level = min(len(stripped) - len(stripped.lstrip("=")), len(stripped) - len(stripped.rstrip("=")))
            index += 1
            spans.append(SectionSpan(index, level, len(text[:offset].encode()) if in_bytes else offset))
        offset += len(line)
    return spans


ODD = ("Intro.\n"
       "== {{SITENAME}} check r5 ==\n<!-- automod-report rev=5 -->\nFine. ~~~~\n"
       "== Wrong revert ==\nFirst.\n=== details ===\nmore\n"
       "== Wrong revert ==\nSecond, with é and 字.\n"
       "== [[Some page]] revert ==\nMy edit on [[Some page]] was fine.\n"
       "= Level one =\nNot a report.\n")


@pytest.mark.parametrize("in_bytes", [False, True], ids=["chars (MediaWiki 1.39)", "bytes (older)"])
def test_sections_are_cut_at_the_parsers_offsets_whatever_the_headings_hold(in_bytes: bool) -> None:
    sections = page_sections(ODD, spans_of(ODD, in_bytes=in_bytes))
    assert [(s.index, s.key) for s in sections] == [
        (1, "{{SITENAME}} check r5#1"), (2, "Wrong revert#1"), (4, "Wrong revert#2"), (5, "[[Some page]] revert#1")]
    assert sections[1].body.endswith("=== details ===\nmore\n"), "a subsection belongs to its report"
    assert "Second, with é and 字." in sections[2].body
    assert "Level one" not in sections[3].body, "a level-1 heading ends the report above it"


def test_a_heading_the_parser_did_not_see_is_not_a_section() -> None:
    text = "== Real ==\nBody <nowiki>\n== fake ==\n</nowiki>\nstill body\n"
    sections = page_sections(text, [SectionSpan(1, 2, 0)])  # the parser skips headings in <nowiki>
    assert [s.key for s in sections] == ["Real#1"] and "still body" in sections[0].body


@pytest.mark.parametrize("in_bytes", [False, True], ids=["chars (MediaWiki 1.39)", "bytes (older)"])
def test_a_heading_mediawiki_left_out_of_its_list_is_still_a_section_by_position(in_bytes: bool) -> None:
    """Issue 26.8a: ``{{:Main Page}}`` brings headings of its own, so ``action=parse`` lists the
    template's section (index T-1, no offset) instead of this one — whose editing index is 2."""
    text = ("Intro éé.\n== A ==\nfirst\n== {{SITENAME}} {{:Main Page}} ==\nsecond <!--\n== not one ==\n-->\n"
            "== B ==\nthird\n== {{:Main Page}} at the end ==\nlast\n")
    def offset(heading: str) -> int:
        at = text.index(heading)
        return len(text[:at].encode()) if in_bytes else at
    listed = [SectionSpan(1, 2, offset("== A ==")), SectionSpan(3, 2, offset("== B =="))]
    sections = page_sections(text, listed)
    assert [(s.index, s.key) for s in sections] == [
        (1, "A#1"), (2, "{{SITENAME}} {{:Main Page}}#1"), (3, "B#1"), (4, "{{:Main Page}} at the end#1")]
    assert "second" in sections[1].body and "second" not in sections[0].body, "each report under its own heading"
    assert sections[3].body.endswith("last\n")


def test_the_bots_line_reads_back_and_absurd_numbers_name_no_revision() -> None:
    line = report_line(123, revert_rev_id=124, probability=0.995, model="m", version="3", threshold=0.99,
                       config_rev=17, status="open")
    found = parse_report_page(f"== Report ==\nFine. ~~~~\n{line}\n")
    assert [(s.rev_id, s.logged_status) for s in found] == [(123, "open")]
    assert status_count(123, "confirmed")(line.replace("status: open", "status: confirmed")) == 1
    assert rev_number("9" * 19) is None and rev_number("٣") == 3 and rev_number("") is None
    assert parse_report_page("== R ==\nSpecial:Diff/" + "9" * 5000)[0].rev_id is None


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "automod.sqlite") as opened:
        yield opened


def test_line_limits_per_wiki_per_reporter_and_one_no_match_an_hour(store: Store) -> None:
    budget = LineBudget(store, "w", PAGE, CommunityConfig(report_answers_per_hour=4,
                                                          report_answers_per_reporter_per_hour=2))
    assert budget.refusal("A", "report-answer") is None
    budget.spend(1, "report-no-match", "A", "s1#1", 10)
    assert budget.refusal("A", "report-no-match") == "no-match-limit"
    assert budget.refusal("A", "report-answer") is None
    budget.spend(2, "report-answer", "A", "s2#1", 11)
    assert budget.refusal("A", "report-answer") == "reporter-limit"
    budget.spend(3, "report-answer", "B", "s3#1", 12)
    budget.spend(4, "report-answer", "C", "s4#1", 13)
    assert budget.refusal("D", "report-answer") == "wiki-limit"
    other_page = LineBudget(store, "w", "Other page", budget.config)
    assert other_page.refusal("D", "report-answer") is None, "the limits are per report page"
    # an hour later the budget is back (lines are counted over the last hour)
    sqlite_of(store).execute("UPDATE actions SET acted_at = ?", (time.time() - 3601,))
    assert budget.refusal("A", "report-answer") is None


def test_a_report_past_the_limit_waits_until_answered_and_the_flood_is_logged_once(store: Store) -> None:
    """Issue 26.2: past the limits a report waits in the store (a restart keeps it); it leaves
    the queue only when answered, with a line of its own or collapsed into another's."""
    budget = LineBudget(store, "w", PAGE, CommunityConfig(report_answers_per_hour=1), window=60)
    waiting: set[str] = set()
    for i in range(5):
        budget.wait(i, "X", f"Flood {i}#1", "wiki-limit", waiting)
        budget.wait(i, "X", f"Flood {i}#1", "wiki-limit", waiting)  # seen again by a later pass
    assert answered_sections(store, "w", PAGE) == set()
    assert waiting_sections(store, "w", PAGE) == {f"Flood {i}#1" for i in range(5)}
    assert sqlite_of(store).execute("SELECT count(*) FROM actions WHERE kind = 'report-waiting'").fetchone()[0] == 5
    floods = sqlite_of(store).execute("SELECT count(*) FROM actions WHERE kind = 'report-flood'").fetchone()[0]
    assert floods == 1
    budget.spend(0, FLOOD_LINE_KIND, "X", "Flood 0#1", 10)
    budget.collapsed(1, "X", "Flood 1#1", "Flood 0#1")
    assert waiting_sections(store, "w", PAGE) == {f"Flood {i}#1" for i in range(2, 5)}
    assert budget.refusal(None, "wiki") == "wiki-limit", "the collapsed answer spent the one line"
    # the window (an hour by default; here a minute) passes: the budget is back
    sqlite_of(store).execute("UPDATE actions SET acted_at = ?", (time.time() - 61,))
    assert budget.refusal(None, "wiki") is None


def test_a_revision_read_by_a_pass_is_not_read_again_later_ones_are(store: Store) -> None:
    assert not passed(store, "w", PAGE, 100)
    record_pass(store, "w", PAGE, 105)  # the pass read r105, the page's latest then
    assert passed(store, "w", PAGE, 100) and passed(store, "w", PAGE, 105)
    assert not passed(store, "w", PAGE, 106), "an edit after the pass's reading needs a pass"
    assert not passed(store, "w", "Another page", 100) and not passed(store, "other", PAGE, 100)


def test_a_pass_cut_short_covers_nothing_and_is_continued(store: Store) -> None:
    mark_unfinished(store, "w", PAGE, 200)
    assert unfinished(store, "w", PAGE) and not passed(store, "w", PAGE, 200)
    record_pass(store, "w", PAGE, 210)
    assert not unfinished(store, "w", PAGE) and passed(store, "w", PAGE, 200)


_FRAGMENTS = st.sampled_from([
    "== Report on [[Special:Diff/{a}]] ==\n", "== Another ==\n", "My edit [[Special:Diff/{b}]] was fine. ~~~~\n",
    ": automod — revision {a} · [[Special:Diff/9|r9]] · score 0.9 · status: {s}\n",
    ": automod — revision {b} · status: {s} (wiki={w}) ~~~~\n", ": status: {s} — looks fine ~~~~\n",
    ":: STATUS:  {s}\n", "<!-- automod-report: {b} -->\n", "text status: {s} here\n", "\n",
])


@given(st.lists(st.tuples(_FRAGMENTS, st.sampled_from([101, 202, 10**20]), st.sampled_from([101, 303]),
                          st.sampled_from(["confirmed", "declined", "Declined", "open"]),
                          st.sampled_from(["enwiki", "frwiki"])), max_size=25))
def test_all_statuses_counted_at_once_are_each_statuss_own_count(parts):
    """One scan of the page per pass (issue 29) finds exactly what one scan per open report
    found: every revision and status, the bot's lines and reviewers' lines, local and shared."""
    text = "".join(f.format(a=a, b=b, s=s, w=w) for f, a, b, s, w in parts)
    local, shared = status_counts(text), shared_status_counts(text)
    for rev_id in (101, 202, 303, 9):
        for status in ("confirmed", "declined", "open"):
            assert local[(rev_id, status)] == status_count(rev_id, status)(text)
            for wiki in ("enwiki", "frwiki"):
                assert shared[(wiki, rev_id, status)] == shared_status_count(wiki, rev_id, status)(text)
