"""Which edit a report on the shared page is about decides the bot's answer there: its line
for one wiki, a question when several wikis fit, or the no-match line. Revision numbers repeat
across wikis, so a number alone names nothing; the store is real, the wikis are names."""

from __future__ import annotations

import time

import pytest

from automod.onwiki import SharedPage
from automod.onwiki.i18n import load_messages
from automod.onwiki.shared_report_target import ReportTarget, report_target
from automod.onwiki.shared_reports import interwiki_prefix, reinstate_summary
from automod.records import Outcome, Verdict
from automod.store import DecidedEdit, Store

CENTRAL = "metawiki:MediaWiki:Automod-central.json"
SHARED = SharedPage("metawiki", "Automod/Reports", CENTRAL,
                    {"xhwiki": "https://xh.example.org/w/index.php", "zuwiki": "https://zu.example.org/w/index.php"},
                    "https://meta.example.org/w/index.php")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "automod.sqlite") as store:
        for wiki, rev, title, user, page in [("xhwiki", 100, "Ikhaya", "Someone", CENTRAL),
                                             ("zuwiki", 100, "Ikhaya", "Someone", CENTRAL),
                                             ("zuwiki", 200, "Other page", "Someone", CENTRAL),
                                             ("zuwiki", 300, "Local page", "Someone", "MediaWiki:Automod-config.json")]:
            store.record_decision(DecidedEdit(wiki=wiki, rev_id=rev, parent_id=rev - 1, title=title, user=user,
                                              event_dt=""),
                                  Verdict(Outcome.REVERTED, probability=0.99, config_page=page))
        yield store


def test_a_hand_written_report_is_placed_by_the_wiki_it_names_or_the_only_one_that_fits(store):
    def target(text: str, reporter: str | None = "Someone") -> ReportTarget:
        return report_target(store, SHARED, text, reporter)
    assert target("== Ikhaya ==\nMy edit on [[Ikhaya]] on zuwiki was fine.") == ReportTarget("zuwiki", 100,
                                                                                             title="Ikhaya")
    assert target("My edit on [[xhwiki:Ikhaya]] was fine.") == ReportTarget("xhwiki", 100, title="Ikhaya")
    # The first letter upper-cased, "_" a space:
    assert target("Why was [[other_page]] reverted?") == ReportTarget("zuwiki", 200, title="Other page")
    # The page was reverted on two wikis and the report names neither: the bot asks.
    assert target("My edit on [[Ikhaya]] was fine.") == ReportTarget(candidates=("xhwiki", "zuwiki"), title="Ikhaya")


def test_a_report_places_nothing_the_bot_did_not_do_to_its_author_under_the_central_page(store):
    assert report_target(store, SHARED, "My edit on [[Ikhaya]] on zuwiki was fine.", "Someone else") == ReportTarget()
    assert report_target(store, SHARED, "My edit on [[Ikhaya]] was fine.", None) == ReportTarget()
    assert report_target(store, SHARED, "My edit on [[Local page]] was fine.", "Someone") == ReportTarget()
    later = time.time() + 32 * 86400  # past the talk notice's month
    assert report_target(store, SHARED, "My edit on [[Other page]] was fine.", "Someone", later) == ReportTarget()


def test_a_diff_url_or_a_quoted_line_names_its_wiki_even_without_a_known_author(store):
    url = "See https://xh.example.org/w/index.php?title=Ikhaya&diff=100&oldid=99 please."
    assert report_target(store, SHARED, url, None) == ReportTarget("xhwiki", 100)
    quoted = ": automod — revision 200 · [x r201] · score 0.9900 · status: open (wiki=zuwiki)"
    assert report_target(store, SHARED, f"About this: {quoted}", None) == ReportTarget("zuwiki", 200)
    assert report_target(store, SHARED, "<!-- automod-report rev=7 wiki=xhwiki -->", None) == ReportTarget("xhwiki", 7)


def test_the_restoring_summary_links_by_the_wikis_interwiki_prefix_else_shows_the_url():
    """A local [[…]] to the central wiki's page is a red link on the reverted wiki."""
    messages = load_messages()
    iwmap = [{"prefix": "meta", "url": "https://meta.example.org/wiki/$1"},
             {"prefix": "m", "url": "https://meta.example.org/wiki/$1"},
             {"prefix": "wikt", "url": "https://xh.wiktionary.example.org/wiki/$1"}]
    prefix = interwiki_prefix(iwmap, "//meta.example.org/wiki/$1", SHARED.central_index)
    assert prefix == "m"  # the shortest of those that point at the central wiki's articles
    linked = reinstate_summary(messages, 100, SHARED, "xhwiki: Ikhaya (r100)", prefix)
    assert "[[:m&#58;Automod&#47;Reports#xhwiki: Ikhaya (r100)]]" in linked  # no entity in a summary (26.8c)
    assert interwiki_prefix(iwmap[2:], "//meta.example.org/wiki/$1", SHARED.central_index) is None
    plain = reinstate_summary(messages, 100, SHARED, "xhwiki: Ikhaya [[x]] /* y */", None)
    assert ("https://meta.example.org/w/index.php?title=Automod/Reports"
            "#xhwiki:_Ikhaya_%5B%5Bx%5D%5D_/%2A_y_%2A/") in plain
    assert plain.count("[[") == 1 and "/*" not in plain  # only the diff link; no markup from the heading
