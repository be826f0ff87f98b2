"""Issue 26.8c: what anyone typed stays inert where the bot writes it, checked against what
MediaWiki really renders: edit summaries through its comment formatter (read back as
``rvprop=parsedcomment``), the administrators' page through its parser."""

from __future__ import annotations

import re

import pytest

from automod.onwiki import messages_for, report_vandal
from automod.onwiki.reports import local_reinstate_summary

pytestmark = pytest.mark.sandbox

#: A report heading as hostile as a heading can be: links, an autocomment, their entity forms.
HEADING = "[[Main Page]] /* Fake */ &#91;&#91;Evil&#93;&#93; &#47;&#42; Also &#42;&#47; {{SITENAME}} | x"


def parsed_comment(wiki_client, rev_id: int) -> str:
    data = wiki_client.get(action="query", revids=rev_id, prop="revisions", rvprop="parsedcomment|comment",
                           formatversion=2)
    return data["query"]["pages"][0]["revisions"][0]["parsedcomment"]


def test_the_reinstate_summary_links_only_the_diff_and_the_report(sandbox, wiki, gateway, unique_title):
    admin = wiki(sandbox.admin)
    page = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    summary = local_reinstate_summary(messages_for(gateway), 1234, page, HEADING)
    rev = gateway.edit(f"User:{sandbox.bot.name}/Summary test {unique_title[-8:]}", text="x", summary=summary)
    shown = parsed_comment(admin, rev)
    links = re.findall(r'<a [^>]*href="([^"]*)"', shown)
    assert len(links) == 2, shown
    assert "Special:Diff/1234" in links[0] and "False_positives" in links[1], links
    assert "autocomment" not in shown, "a /* */ in the heading became an autocomment"
    assert not any("Main_Page" in link or "Evil" in link for link in links), links


def test_the_administrators_line_shows_a_name_as_typed(sandbox, wiki, gateway, unique_title):
    admin = wiki(sandbox.admin)
    page = f"User:{sandbox.bot.name}/Vandal reports {unique_title[-8:]}"
    name = "''Evil'' $1"  # a valid user name (no [ ] | # < > { } / in one)
    result = report_vandal(gateway, page, name, [11, 12], since=0.0)
    assert result.status == "reported"
    html = admin.get(action="parse", page=page, prop="text", formatversion=2)["parse"]["text"]
    assert "<i>" not in html, "the name rendered in italics"
    assert "''Evil'' $1" in html.replace("&#39;", "'")
    shown = parsed_comment(admin, int(result.rev_id or 0))
    assert "autocomment" not in shown and "<i>" not in shown
    assert len(re.findall(r"<a ", shown)) == 1, shown  # the contributions link only
