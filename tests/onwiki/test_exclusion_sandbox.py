"""{{bots}}/{{nobots}} on articles, judged from the parent revision without a parse, and only
when it cannot have been pre-planted (issues 26.5 and 27.1), on the real sandbox wiki."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.api_log import backdate_revision
from support.moderation_helpers import REVERTING, set_config, top_revision

pytestmark = pytest.mark.sandbox

CONFIG = {**REVERTING, "max_reverts_per_user_per_page": 0}


def outcome(bot, rev: int) -> tuple[str, str]:
    line = bot.decision(rev, timeout=30)
    return line["decision"], line["reason"]


def test_nobots_through_a_template_is_honoured_without_a_parse(sandbox, wiki, unique_title, bot_factory, api_log):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, CONFIG)
    wrapper = f"Bot free {uuid.uuid4().hex[:8]}"
    admin.edit(f"Template:{wrapper}", "<div>This article is maintained by hand.</div>{{nobots}}")
    page, plain = f"{unique_title} wrapped", f"{unique_title} plain"
    admin.edit(page, f"{{{{{wrapper}}}}}\nStable text.")
    admin.edit(plain, "Stable text.")
    bot = bot_factory()
    mark = api_log.mark()
    kept = vandal.edit(page, f"{{{{{wrapper}}}}}\nStable text. VANDALISM")
    assert outcome(bot, kept) == ("skip", "excluded-by-page")
    assert top_revision(admin, page)["revid"] == kept
    # A vandal adding the wrapper (the edit's own text) does not escape.
    escaped = vandal.edit(plain, f"{{{{{wrapper}}}}}\nStable text. VANDALISM")
    assert outcome(bot, escaped)[0] == "reverted"
    asked = api_log.since(mark, sandbox.bot.name)
    assert asked, "the API log records the bot's requests"
    assert not [r for r in asked if r.params.get("action") == "parse"], "no action=parse per candidate"


def test_a_pre_planted_nobots_by_an_untrusted_editor_does_not_stop_the_next_revert(
        sandbox, wiki, unique_title, bot_factory):
    admin, vandal, ip = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(ip="198.51.100.26")
    set_config(admin, CONFIG)
    by_vandal, by_ip = f"{unique_title} vandal", f"{unique_title} ip"
    admin.edit(by_vandal, "Stable text.")
    admin.edit(by_ip, "Stable text.")
    bot = bot_factory()
    planted = vandal.edit(by_vandal, "{{nobots}}\nStable text.")
    assert outcome(bot, planted)[0] == "below-threshold"
    next_edit = vandal.edit(by_vandal, "{{nobots}}\nStable text. VANDALISM")
    assert outcome(bot, next_edit)[0] == "reverted", "the vandal's own fresh {{nobots}} is no shield"
    planted = ip.edit(by_ip, "{{bots|deny=all}}\nStable text.")
    assert outcome(bot, planted)[0] == "below-threshold"
    next_edit = vandal.edit(by_ip, "{{bots|deny=all}}\nStable text. VANDALISM")
    assert outcome(bot, next_edit)[0] == "reverted", "an IP's fresh {{bots|deny=all}} is no shield for others"


def test_nobots_counts_when_a_trusted_user_added_it_or_it_has_stood_long_enough(
        sandbox, wiki, unique_title, bot_factory):
    admin, vandal, other = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1])
    set_config(admin, {**CONFIG, "exclusion_min_age_days": 7})
    trusted, old, young = (f"{unique_title} {k}" for k in ("trusted", "old", "young"))
    admin.edit(trusted, "{{nobots}}\nStable text.")  # Admin holds rollback (report_reviewer_rights)
    old_plant = other.edit(old, "{{nobots}}\nStable text.")
    young_plant = other.edit(young, "{{nobots}}\nStable text.")
    backdate_revision(sandbox.dir, sandbox.wiki, old_plant, days=8)
    backdate_revision(sandbox.dir, sandbox.wiki, young_plant, days=6)
    bot = bot_factory()
    for page, expected in ((trusted, "skip"), (old, "skip"), (young, "reverted")):
        rev = vandal.edit(page, "{{nobots}}\nStable text. VANDALISM")
        assert outcome(bot, rev)[0] == expected, page


def test_a_trusted_rollback_does_not_launder_a_planted_nobots(sandbox, wiki, unique_title, bot_factory):
    admin, vandal, ip = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(ip="203.0.113.26")
    set_config(admin, CONFIG)
    page = f"{unique_title} laundered"
    admin.edit(page, "Stable text.")
    vandal.edit(page, "{{nobots}}\nStable text.")  # planted by the vandal…
    ip.edit(page, "Stable text.")  # …removed by someone…
    admin.rollback(page, ip.name)  # …and put back by an administrator's routine rollback
    bot = bot_factory()
    rev = vandal.edit(page, "{{nobots}}\nStable text. VANDALISM")
    assert outcome(bot, rev)[0] == "reverted", "a revert authors nothing: the {{nobots}} is still the vandal's"


def test_a_candidate_costs_one_request_and_a_revert_two(sandbox, wiki, unique_title, bot_factory, api_log):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    set_config(admin, CONFIG)
    pages = [f"{unique_title} {i}" for i in range(3)]
    for page in pages:
        admin.edit(page, "{{Infobox drug|name=Example}}\nStable text with a [[link]].")
    bot = bot_factory()
    warm = vandal.edit(pages[0], "Stable text. VANDALISM")  # the run's first revert reads tokens, messages…
    assert outcome(bot, warm)[0] == "reverted"
    mark = api_log.mark()
    left = vandal.edit(pages[1], "{{Infobox drug|name=Example}}\nStable text with a [[link]]. Fine.")
    assert outcome(bot, left)[0] == "below-threshold"
    asked = api_log.since(mark, sandbox.bot.name)
    assert [r.params.get("action") for r in asked] == ["query"], [r.module for r in asked]
    mark = api_log.mark()
    bad = vandal.edit(pages[2], "VANDALISM")
    assert outcome(bot, bad)[0] == "reverted"
    asked = api_log.since(mark, sandbox.bot.name)
    assert [r.params.get("action") for r in asked] == ["query", "rollback"], [r.module for r in asked]


def test_text_is_read_with_pywikibots_rules_and_redirects_to_the_templates(sandbox, wiki, gateway):
    from automod.onwiki.exclusion import exclusion_templates, text_excludes_bot

    admin = wiki(sandbox.admin)
    alias = f"No bots {uuid.uuid4().hex[:8]}"
    admin.edit(f"Template:{alias}", "#REDIRECT [[Template:Nobots]]")
    names = exclusion_templates(gateway)
    assert names.targets.get(alias) == "Nobots", "redirects to the exclusion templates are read (once per run)"
    me = gateway.bot_user
    cases = {
        "{{nobots}}": True, f"{{{{bots|deny={me}}}}}": True, "{{bots|deny=OtherBot}}": False,
        "{{bots|allow=OtherBot}}": True, "{{bots|allow=all}}": False, "{{bots}}": False,
        "<!-- {{nobots}} -->": False, "<nowiki>{{nobots}}</nowiki>": False, f"{{{{{alias}}}}}": True,
        "Plain text with {{cite web|url=x}}.": False, "{{nob&#111;ts}}": True,
    }
    for text, excluded in cases.items():
        assert text_excludes_bot(gateway, "Some article", text, names) is excluded, text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["{{", "}}", "|", "=", "nobots", "bots", "deny", "allow", "all", "<!--", "-->",
                                 "<nowiki>", "{{#if:", "[[", "]]", "\n", " ", "Template:", "\u200e", "{{{1}}}"]),
                max_size=30))
def test_hostile_text_never_breaks_the_check(gateway, fragments):
    from automod.onwiki.exclusion import exclusion_templates, text_excludes_bot

    assert text_excludes_bot(gateway, "Some article", "".join(fragments), exclusion_templates(gateway)) in (True, False)
