"""What a revert's aftermath costs the wiki (issue 27): the notice with its warning level reads
the editor's talk page once (its history, then the texts the levels need with the current
text), finds its month's section in that text and saves — at most 3 requests after the
rollback, never an ``action=parse``, for the first notice and for the follow-up alike."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.moderation_helpers import REVERTING, set_config
from support.patrol import LEVEL, NOTICES, fresh_account, page_text

pytestmark = pytest.mark.sandbox

CONFIG = {**REVERTING, **NOTICES, "warnings": {"levels": 4, "window_days": 30}, "max_reverts_per_user_per_page": 0}


def aftermath(requests):
    """The requests after the rollback (the decision's aftermath)."""
    modules = [r.params.get("action") for r in requests]
    assert "rollback" in modules, [r.module for r in requests]
    return requests[modules.index("rollback") + 1:]


def test_notice_and_follow_up_cost_at_most_three_requests_and_no_parse(sandbox, wiki, unique_title, bot_factory,
                                                                         api_log):
    admin, warm_vandal, passer_by = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(ip="198.51.100.27")
    set_config(admin, CONFIG)
    editor = fresh_account(sandbox)
    talk = f"User talk:{editor.name}"
    pages = [f"{unique_title} {k}" for k in range(3)]
    for page in pages:
        admin.edit(page, "Stable text.")
    bot = bot_factory()
    # The run's first revert reads what is then kept (tokens, messages, month names…).
    assert bot.decision(warm_vandal.edit(pages[0], "Stable text. VANDALISM"))["decision"] == "reverted"

    mark = api_log.mark()
    first = bot.decision(editor.edit(pages[1], "Stable text. VANDALISM"))
    assert first["decision"] == "reverted"
    spent = aftermath(api_log.since(mark, sandbox.bot.name))
    assert [r.params.get("action") for r in spent][-1] == "edit", [r.module for r in spent]
    assert len(spent) <= 3, [r.module for r in spent]
    assert not [r for r in spent if r.params.get("action") == "parse"]
    notice = page_text(admin, talk) or ""
    assert LEVEL.findall(notice) == ["1"], notice

    # Someone else opens a section below the bot's (and leaves a heading in a comment, which
    # MediaWiki does not count): the follow-up still lands in the bot's own section.
    passer_by.edit(talk, notice + "\n\n<!--\n== Not a section ==\n-->\n== A question ==\nWhy was I reverted?")
    mark = api_log.mark()
    second = bot.decision(editor.edit(pages[2], "Stable text. VANDALISM again"))
    assert second["decision"] == "reverted"
    spent = aftermath(api_log.since(mark, sandbox.bot.name))
    assert len(spent) <= 3, [r.module for r in spent]
    assert not [r for r in spent if r.params.get("action") == "parse"]
    text = page_text(admin, talk) or ""
    assert LEVEL.findall(text) == ["1", "2"], text
    assert text.count("== A question ==") == 1 and text.count(notice.splitlines()[0]) == 1, text
    bot_section, question = text.split("== A question ==")
    assert LEVEL.findall(bot_section) == ["1", "2"], "the follow-up is in the bot's section, above the question"
    assert "Why was I reverted?" in question


FRAGMENTS = ["== Target ==", "==Target==", "=== Target ===", "== Other ==", "= Other =", "Some text.",
             "<!-- == Target == -->", "<!--\n== Target ==\n-->", "<nowiki>\n== Target ==\n</nowiki>",
             "<pre>\n== Target ==\n</pre>", "== Target == <!-- note -->", " == Target ==", "== Target",
             "==== Deep ====", "<!-- == Other == -->"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8))
def test_sections_are_numbered_as_mediawiki_numbers_them(wiki, sandbox, gateway, fragments):
    """The section a follow-up appends to is the one MediaWiki's parser calls by that heading."""
    from automod.onwiki.talk_page import section_index

    text = "\n".join(fragments)
    sections = wiki(sandbox.admin).get(action="parse", text=text, title="User talk:Example", prop="sections",
                                       contentmodel="wikitext", formatversion=2)["parse"]["sections"]
    expected = next((int(s["index"]) for s in sections
                     if str(s["index"]).isdigit() and s["line"].strip() == "Target"), None)
    assert section_index(gateway, text, "Target") == expected, (text, sections)
