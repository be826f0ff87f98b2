"""A report-page pass reads what grows with the header, not with the reports (issue 29, Build 2).

The header check reads only section 0 of each revision, with the whole revision's sha1 as its
digest (a manual revert is still told by its whole text); the history for a new report's
author is read a few revisions at a time. Measured on the sandbox: the bytes of revision text
the bot's gateway receives in a pass over one new report, on a page of 10 and of 60 sections."""

from __future__ import annotations

import pytest

from automod.config import CommunityConfig
from automod.onwiki import process_report_page, report_page_steps
from automod.onwiki.page_reads import TEXT_BYTES_PER_READ, RevisionTexts, header_history, history, history_batches
from automod.onwiki.report_trust import PageHistory
from automod.store import Store
from support.content_reads import counting_content

pytestmark = pytest.mark.sandbox

HEADER = "Report edits the bot should not have reverted, with the link in its notice. Reviewers set the status."
EDITS = 12  # the page's history before the report: each revision a whole page


def _sections(n: int, edit: int) -> str:
    body = "A report about an edit, with a few words of explanation from its reporter. " * 5
    return "".join(f"== Earlier report {i} ==\n{body}~~~~ (edit {edit})\n\n" for i in range(n))


def _page_with(admin, title: str, sections: int) -> int:
    """Save ``title`` EDITS times, each a whole page of ``sections``; its size in bytes."""
    for edit in range(EDITS):
        admin.edit(title, f"{HEADER}\n\n{_sections(sections, edit)}")
    return len(f"{HEADER}\n\n{_sections(sections, EDITS - 1)}".encode())


def _header_check_bytes(wiki, gateway, tmp_path, title: str) -> int:
    """Bytes of revision text read by a pass over one new report up to its header check (the
    page's current text, the preload, the header): the steps before any report is looked at."""
    config = CommunityConfig(false_positive_page=title)
    reporter = wiki(ip="198.51.100.91")
    reporter.post(action="edit", title=title, section="new", sectiontitle="A new report",
                  text="My edit was good: [[Special:Diff/454545]]. ~~~~", token=reporter.token())
    with Store(tmp_path / "automod.sqlite") as store, counting_content(gateway) as reads:
        steps = report_page_steps(gateway, store, "sandboxwiki", title, editor="198.51.100.91", config=config)
        for _ in range(3):  # the page, the preload, the header: read and checked
            next(steps)
        steps.close()
    return reads.total


def test_a_report_pages_header_check_reads_no_more_of_a_bigger_page_than_its_current_text(
        sandbox, wiki, unique_title, gateway, tmp_path):
    """10 and 60 sections, each page saved 12 times, then one new report. Before: the header
    check read the latest 50 revisions whole (13 copies of the page's growth); now the current
    text once, and each revision's header."""
    admin = wiki(sandbox.admin)
    small_title = f"Project:Automod/False positives {unique_title[-8:]} small"
    big_title = f"Project:Automod/False positives {unique_title[-8:]} big"
    small = _page_with(admin, small_title, 10)
    big = _page_with(admin, big_title, 60)
    read_small = _header_check_bytes(wiki, gateway, tmp_path / "small", small_title)
    read_big = _header_check_bytes(wiki, gateway, tmp_path / "big", big_title)
    assert read_big - read_small <= 1.5 * (big - small), (read_small, read_big, small, big)


def test_the_header_read_is_section_zero_with_each_whole_revisions_sha1(sandbox, wiki, unique_title, gateway):
    admin = wiki(sandbox.admin)
    title = f"Project:Automod/False positives {unique_title[-8:]}"
    admin.edit(title, f"{HEADER}\n\n{_sections(3, 0)}")
    admin.edit(title, f"Changed.\n\n{_sections(3, 1)}")
    admin.edit(title, f"{HEADER}\n\n{_sections(3, 0)}")  # a manual revert: the first text again
    headers, whole = header_history(gateway, title), history(gateway, title)
    assert [r.text.rstrip() for r in headers] == [HEADER, "Changed.", HEADER]
    assert [r.digest for r in headers] == [r.digest for r in whole]
    assert headers[0].digest == headers[2].digest != headers[1].digest


def _report(wiki, title: str, ip: str, heading: str) -> None:
    reporter = wiki(ip=ip)
    reporter.post(action="edit", title=title, section="new", sectiontitle=heading,
                  text="My edit was good: [[Special:Diff/454545]]. ~~~~", token=reporter.token())


def test_a_second_pass_reads_the_page_about_once_not_its_history_again(sandbox, wiki, unique_title, gateway,
                                                                        tmp_path):
    """Revision texts are kept across passes (issue 29): the pass after one more report reads
    the current text and the metadata of the history, not fifty revisions of a long page.
    Before: every pass read every revision of the last 50 whole (here 16 copies of the page)."""
    admin = wiki(sandbox.admin)
    title = f"Project:Automod/False positives {unique_title[-8:]} kept"
    size = _page_with(admin, title, 40)
    config = CommunityConfig(false_positive_page=title)
    with Store(tmp_path / "automod.sqlite") as store:
        _report(wiki, title, "198.51.100.92", "First report")
        assert process_report_page(gateway, store, "sandboxwiki", title, editor="198.51.100.92", config=config)
        _report(wiki, title, "198.51.100.93", "Second report")
        with counting_content(gateway) as reads:
            added = process_report_page(gateway, store, "sandboxwiki", title, editor="198.51.100.93", config=config)
    assert added, "the second report was not answered"
    now = len(gateway.page_text(title)[1].encode())  # the page as the pass left it: 2 answers, 2 reports more
    assert size < now < 1.5 * size
    # the new report's revision, and the bot's first answer (the history's only unread text)
    assert reads.total <= 2.5 * now, (reads.total, now, [{k: v for k, v in r.items() if k != "titles"}
                                                         for r in reads.requests])


def test_a_text_hidden_after_it_was_kept_is_read_as_hidden(sandbox, wiki, unique_title, gateway):
    """A kept text is used only under the sha1 the API gives now: once an administrator hides
    a revision's text, the history reads it as hidden, as it did before anything was kept."""
    admin = wiki(sandbox.admin)
    title = f"Project:Automod/False positives {unique_title[-8:]} hidden"
    admin.edit(title, f"{HEADER}\n\n{_sections(2, 0)}")
    admin.edit(title, f"{HEADER}\n\n{_sections(3, 1)}")
    admin.edit(title, f"{HEADER}\n\n{_sections(4, 2)}")
    before = PageHistory(gateway, title).recent()
    assert [r.hidden for r in before] == [False, False, False]
    middle = before[1].rev_id
    extra = sandbox.dir / "conf/extra.php"
    before_extra = extra.read_text()
    extra.write_text(before_extra + "$wgGroupPermissions['sysop']['deleterevision'] = true;\n")
    try:
        admin.post(action="revisiondelete", type="revision", target=title, ids=str(middle), hide="content",
                   reason="test", token=admin.token())
    finally:
        extra.write_text(before_extra)
    after = {r.rev_id: r for r in PageHistory(gateway, title).recent()}
    assert after[middle].hidden and after[middle].text == ""
    assert not after[before[0].rev_id].hidden and "Earlier report 3" in after[before[0].rev_id].text


def test_the_texts_a_history_read_lacks_come_a_bounded_answer_at_a_time(sandbox, wiki, unique_title, gateway):
    """Issue 29: the texts saved since the last pass were read in one answer, their sum growing
    with the page (the worker's transient peak rose as the report page grew, and its heap kept
    what each new peak took). Now each answer holds at most ``TEXT_BYTES_PER_READ`` bytes of
    text (or one revision), and every text still comes. Here 8 revisions of about 100 KB:
    before, one answer of about 840 KB."""
    admin = wiki(sandbox.admin)
    title = f"Project:Automod/False positives {unique_title[-8:]} bounded"
    for edit in range(8):
        admin.edit(title, f"{HEADER}\n\n{_sections(220, edit)}")
    with counting_content(gateway) as reads:
        revisions = [r for batch in history_batches(gateway, title, RevisionTexts()) for r in batch]
    assert [f"(edit {7 - i})" in r.text and f"(edit {6 - i})" not in r.text for i, r in enumerate(revisions)] \
        == [True] * 8  # every text came, newest first (signatures are expanded: compared by marker)
    size = max(len(r.text.encode()) for r in revisions)
    assert 80_000 < size < TEXT_BYTES_PER_READ and 8 * size > 2 * TEXT_BYTES_PER_READ
    answers = [r["bytes"] for r in reads.requests if r["bytes"]]
    assert sum(answers) >= 8 * size * 0.99
    assert max(answers) <= TEXT_BYTES_PER_READ, answers
