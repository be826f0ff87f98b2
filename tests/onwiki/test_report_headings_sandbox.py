"""Issue 26.8a: a heading holding a template that brings headings of its own (``{{:Main
Page}}``) makes MediaWiki list the template's section instead of it. The bot reads the
report page's sections by position: each report is answered under its own heading."""

from __future__ import annotations

import re

import pytest

from support.moderation_helpers import REVERTING, set_config, top_revision
from support.relay_helpers import wait_for

pytestmark = pytest.mark.sandbox


def page_text(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def sections(text: str) -> list[tuple[str, str]]:
    parts = re.split(r"^==(?!=)\s*(.*?)\s*==\s*$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def test_a_report_under_a_heading_mediawiki_leaves_out_is_answered_under_its_own_heading(
        sandbox, wiki, unique_title, bot_factory):
    admin, anon = wiki(sandbox.admin), wiki(ip="192.0.2.44")
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, {**REVERTING, "false_positive_page": fp_page, "max_reverts_per_user_per_page": 0})
    assert "== Getting started ==" in page_text(admin, "Main Page")  # what makes MediaWiki drop the heading
    pages = [f"{unique_title} {i}" for i in range(3)]
    for page in pages:
        admin.edit(page, "Stable text.")
    admin.edit(fp_page, "Reports.\n")
    bot = bot_factory()
    bad = [anon.edit(p, f"Stable text. VANDALISM {i}") for i, p in enumerate(pages)]
    for rev in bad:
        assert bot.decision(rev)["decision"] == "reverted"
    headings = [f"First r{bad[0]}", f"{{{{SITENAME}}}} {{{{:Main Page}}}} r{bad[1]}", f"Third r{bad[2]}"]
    for heading, rev in zip(headings, bad):
        anon.post(action="edit", title=fp_page, section="new", sectiontitle=heading,
                  text=f"<!-- automod-report rev={rev} -->\nIt was fine. ~~~~", token=anon.token())
    wait_for(lambda: all(f"automod — revision {r}" in page_text(admin, fp_page) for r in bad), timeout=30)
    found = dict(sections(page_text(admin, fp_page)))
    for heading, rev in zip(headings, bad):
        body = found[heading]
        assert f"automod — revision {rev}" in body, (heading, body)
        assert all(f"automod — revision {other}" not in body for other in bad if other != rev), (heading, body)
    assert top_revision(admin, fp_page)["user"] == sandbox.bot.name
