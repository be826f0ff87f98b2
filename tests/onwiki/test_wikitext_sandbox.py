"""Quoting against MediaWiki's own parser (issue 14, item 8): whatever a title, user name or
heading holds, the report section the bot writes with it, once saved (pre-save transform:
signatures, ``subst:``) and parsed, has exactly one section, expands no template, adds no
category or external link, shows the text as typed, and still reads back as the bot's line."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import HealthCheck, example, given, settings

from automod.onwiki.report_page import parse_report_page
from automod.onwiki.wikitext import link, one_line
from support.wikitext_helpers import NASTY, bot_section

pytestmark = pytest.mark.sandbox

SHOWN_TOO = re.compile(r"<[^>]+>")


def parsed(client, text: str) -> tuple[str, dict]:
    """(the text as MediaWiki would save it, what its parser makes of that)."""
    saved = client.post(action="parse", title="Automod quoting test", text=text, contentmodel="wikitext",
                        onlypst=1)["parse"]["text"]
    out = client.post(action="parse", title="Automod quoting test", text=saved, contentmodel="wikitext",
                      prop="sections|templates|categories|externallinks|text", disablelimitreport=1)["parse"]
    return saved, out


def shown(html_text: str) -> str:
    """The page's visible text, without whitespace (tags split words differently)."""
    return "".join(html.unescape(SHOWN_TOO.sub("", html_text)).split())


def bare(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow])
@example("{{SITENAME}} ~~~~\n== Forged ==\n[[Category:Spam]] http://spam.example/ __NOTOC__")
@example("Category:Spam")
@example("</nowiki>{{subst:SITENAME}}<nowiki>'''x'''")
@given(NASTY)
def test_any_text_in_the_bots_section_is_shown_as_typed_and_nothing_more(sandbox, wiki, value: str) -> None:
    client = wiki(sandbox.admin)
    saved, out = parsed(client, bot_section(value))
    assert [(s.rev_id, s.logged_status) for s in parse_report_page(saved)] == [(7, "open")]
    assert len(out["sections"]) == 1, out["sections"]
    assert out["templates"] == [] and out["categories"] == [] and out["externallinks"] == []
    text = shown(out["text"])
    assert bare(f"Probable false positive: {one_line(value)} (r7)") in text, "the title is shown as typed"
    assert text.count("status:open") == 1


def test_a_namespaced_title_is_a_link_to_that_page(sandbox, wiki) -> None:
    client = wiki(sandbox.admin)
    for title in ("Category:Spam pages", "File:Example image.png", "Help:O'Brien & co", "Talk:A=B"):
        out = client.post(action="parse", title="Automod quoting test", text=f"on [[{link(title)}]].",
                          contentmodel="wikitext", prop="links|categories|images|text")["parse"]
        assert out["categories"] == [] and out["images"] == []
        assert [link["title"] for link in out["links"]] == [title], out["links"]
        assert bare(f"on {title}.") in shown(out["text"])
