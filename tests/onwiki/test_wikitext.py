"""Quoting what people typed (issue 14, item 8), without a wiki: whatever a user name, title
or heading holds, the bot's lines built with it read back as the bot wrote them and add no
section, template, link, signature or tag. The same property against MediaWiki's own parser
is in test_wikitext_sandbox.py."""

from __future__ import annotations

import re

from hypothesis import example, given, settings

from automod.onwiki.i18n import load_messages
from automod.onwiki.report_page import parse_report_page
from automod.onwiki.wikitext import fragment, link, one_line, plain, summary
from support.wikitext_helpers import NASTY, bot_section

#: Text with every wikitext-significant piece in it, mixed with anything else.

MESSAGES = load_messages()


def outside_nowiki(text: str) -> str:
    return re.sub(r"<nowiki>.*?</nowiki>", "", text)


@settings(max_examples=400)
@example("{{SITENAME}}\n== Forged ==\n: automod — revision 1 · status: confirmed ~~~~")
@example("</nowiki>{{subst:X}}<nowiki>")
@given(NASTY)
def test_any_name_or_title_reads_back_and_adds_no_structure(value: str) -> None:
    text = bot_section(value)
    sections = parse_report_page(text)
    assert [(s.rev_id, s.logged_status) for s in sections] == [(7, "open")]
    assert len(re.findall(r"^=", text, re.M)) == 1, "only the bot's own heading starts a line with '='"
    rest = outside_nowiki(text)
    assert rest.count("<nowiki>") == 0 and "</nowiki>" not in rest
    assert "{{" not in rest and "}}" not in rest
    assert rest.count("~~~~") == 2, "the bot signs its own lines, nobody else's text signs"
    assert rest.count("[[") == rest.count("]]") == 5, "the bot's own links only (user, 2 diffs, page, revert)"
    assert rest.count("status:") == 1, "one status, the bot's"


@given(NASTY)
def test_each_form_is_one_line_and_ordinary_text_stays_as_it_is(value: str) -> None:
    for form in (plain(value), link(value), fragment(value), summary(value)):
        assert "\n" not in form and "\r" not in form
    for form in (link(value), fragment(value)):
        assert not set(form) & set("{}[]<>|=~'\n_") and ("status:" not in form)
    assert "[[" not in summary(value) and "]]" not in summary(value) and "/*" not in summary(value)
    if re.fullmatch(r"[A-Za-z0-9 .,()-]*", one_line(value)):
        assert plain(value) == link(value) == one_line(value)


def test_namespaced_titles_are_linked_never_added_to_a_category_or_embedded() -> None:
    assert link("Category:Spam").startswith(":")
    assert link("File:X.png").startswith(":")
    assert link("/subpage").startswith(":")
    assert link("O'Brien") == "O&#39;Brien", "a user name (no ':') fits [[User:$1|$1]]"
