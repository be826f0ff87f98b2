"""The revision texts a report-page pass keeps across passes (issue 29): bounded however long
the bot runs, lines shared among revisions, and a text used only under the sha1 it was kept
with (a revision hidden or changed since is read again, never taken from memory)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from automod.onwiki.page_reads import RevisionTexts, lines_after, text_sha1


def _page(n: int) -> str:
    return "Header\n\n" + "".join(f"== Report {i} ==\nMy edit was fine. ~~~~\n" for i in range(n))


def test_a_growing_page_kept_for_thousands_of_revisions_holds_at_most_the_limit():
    texts = RevisionTexts(limit=50)
    for rev_id in range(1, 2001):
        texts.keep(rev_id, text_sha1(_page(rev_id % 300)), _page(rev_id % 300))
    assert len(texts) == 50
    # only lines some kept revision holds: the last 50 pages have at most 300 reports, 2 lines each
    assert texts.distinct_lines() <= 2 * 300 + 3
    assert texts.lines(1, text_sha1(_page(1))) is None  # dropped long ago: read again
    assert texts.lines(2000, text_sha1(_page(2000 % 300))) is not None


def test_revisions_share_their_lines_and_give_back_their_text():
    texts = RevisionTexts()
    first = texts.keep(1, text_sha1(_page(3)), _page(3))
    second = texts.keep(2, text_sha1(_page(4)), _page(4))
    assert "\n".join(second) == _page(4)
    assert all(a is b for a, b in zip(first[:-1], second))  # one string per distinct line


def test_a_text_is_used_only_under_the_sha1_it_was_kept_with():
    texts = RevisionTexts()
    texts.keep(7, text_sha1("old"), "old")
    assert texts.lines(7, text_sha1("old")) == ("old",)
    assert texts.lines(7, text_sha1("something else")) is None


_LINE = st.sampled_from(["", "== Report ==", "text", "text ~~~~", ": automod — status: open", " ", "x\ty"])


@given(st.lists(_LINE, max_size=12), st.lists(_LINE, max_size=12), st.integers(0, 12), st.integers(0, 12))
def test_a_revision_kept_after_its_parent_is_its_text_line_for_line(parent_lines, inserted, at, cut):
    """Whatever an edit did to its parent (lines added, removed, changed; at the start, the end,
    in the middle), the revision kept beside its parent gives back exactly its own text."""
    parent = "\n".join(parent_lines)
    child_lines = parent_lines[:at] + inserted + parent_lines[at + cut:]
    child = "\n".join(child_lines)
    texts = RevisionTexts()
    texts.keep(1, text_sha1(parent), parent)
    kept = texts.keep(2, text_sha1(child), child, parent=1)
    assert kept == tuple(child.split("\n"))
    # ... and from the parent's lines, not by splitting it whole (which the guard falls back to)
    assert lines_after(tuple(parent_lines), child, {}) == kept


def test_a_report_added_to_a_long_page_reuses_the_parents_lines():
    texts = RevisionTexts()
    before = texts.keep(1, text_sha1(_page(200)), _page(200))
    after = texts.keep(2, text_sha1(_page(201)), _page(201), parent=1)
    assert "\n".join(after) == _page(201)
    assert all(a is b for a, b in zip(before[:-1], after))  # the parent's own strings


def test_keeping_a_revision_of_a_long_page_holds_its_new_lines_only_not_every_line_at_once():
    """Issue 29: keeping a text split it whole first, so every line of the page was a new small
    object at once before the kept ones replaced them — a burst that grew with the report page
    (and left CPython's allocator holding more arenas). Now a line at a time: keeping the next
    revision of a 2,000-report page (one report more) takes about its tuple of line pointers."""
    import tracemalloc

    texts = RevisionTexts()
    texts.keep(1, text_sha1(_page(2000)), _page(2000))
    newer = _page(2001)
    sha1 = text_sha1(newer)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        texts.keep(2, sha1, newer)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    lines = newer.count("\n") + 1
    assert peak < 12 * lines + 4096, (peak, lines, len(newer))  # before: 85 bytes a line (339 KB here); now 8
    assert "\n".join(texts.lines(2, sha1) or ()) == newer
