"""A report-page pass reads what grows with the header, not with the reports (issue 29, Build 2).

The header check reads only section 0 of each revision, with the whole revision's sha1 as its
digest (a manual revert is still told by its whole text); the history for a new report's
author is read a few revisions at a time. Measured on the sandbox: the bytes of revision text
the bot's gateway receives in a pass over one new report, on a page of 10 and of 60 sections."""

from __future__ import annotations

import pytest

from automod.config import CommunityConfig
from automod.onwiki import report_page_steps
from automod.onwiki.page_reads import header_history, history
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
