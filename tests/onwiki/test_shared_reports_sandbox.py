"""One false-positive page for many small wikis (issue 22, item 3): the central page on the
first wiki names a shared report page there; a vandal edit on the second wiki is reverted
under the central block, its notice links to the shared page, the bot answers there naming
the second wiki, an anonymous confirmation is ignored, and a rollbacker's confirmation on the
first wiki reinstates the edit on the second."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from automod.onwiki import SharedPage
from automod.onwiki.central_config import parse_central
from automod.onwiki.i18n import load_messages
from automod.onwiki.shared_reports import (
    interwiki_prefix,
    reinstate_summary,
    shared_line,
    shared_preload_text,
    shared_status_count,
)
from support.liftwing_standin import running_standin
from support.moderation_helpers import launch_bot, score_from_wiki, set_config, top_revision
from support.multiwiki import BASE, central_settings, client_for
from support.relay_helpers import wait_for

pytestmark = pytest.mark.sandbox


def text_of(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def test_the_central_page_names_a_shared_page_only_as_a_plain_title():
    ok = {"defaults": {}, "wikis": {}, "shared_false_positive_page": "Project:Shared reports"}
    assert parse_central(json.dumps(ok))[0]["shared_false_positive_page"] == "Project:Shared reports"
    for bad in ("", "A|B", "[[X]]", "{{X}}", "X#y", 3, "A\nB"):
        document, problems = parse_central(json.dumps({**ok, "shared_false_positive_page": bad}))
        assert document is None and problems[0].path == "$.shared_false_positive_page", bad


def test_revision_numbers_of_other_wikis_never_count_and_the_preload_names_the_wiki():
    """Each wiki numbers its own revisions: a status counts only with its wiki's tag."""
    messages = load_messages()
    line = shared_line(messages, wiki="bwiki", index_url="http://x/index.php", rev_id=7, revert_rev_id=8,
                       probability=0.99, model="m", version="1", threshold=0.9, config_rev=3, status="confirmed")
    assert shared_status_count("bwiki", 7, "confirmed")(line) == 1
    assert shared_status_count("cwiki", 7, "confirmed")(line) == 0  # same number, other wiki
    untagged = line.replace(" (wiki=bwiki)", "")
    assert shared_status_count("bwiki", 7, "confirmed")(untagged) == 0  # a local-style line names no wiki
    preload = shared_preload_text(messages)
    assert preload.startswith("<!-- automod-report rev=$1 wiki=$3 -->") and "[[Special:Diff" not in preload


def test_a_report_on_the_shared_page_is_answered_there_and_a_rollbacker_reinstates_on_the_wiki(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    uid = uuid.uuid4().hex[:8]
    central_page, shared = f"MediaWiki:Automod-central-{uid}.json", f"Project:Automod shared reports {uid}"
    central_admin, anon_central = client_for(info, first, info.admin), client_for(info, first)
    reporter = client_for(info, first, info.vandals[1])  # one account on both wikis, as with SUL
    admin2, vandal = client_for(info, second, info.admin), client_for(info, second, info.vandals[1])
    page = f"Shared report test {uid}"
    admin2.edit(page, "Stable text.")
    central_admin.edit(shared, "Reports about the small wikis.\n")
    block = {"enabled": True, "threshold": 0.9, "talk_notice": {"enabled": True, "registered_only": False}}
    set_config(central_admin, {"defaults": BASE, "wikis": {second.name: block},
                               "shared_false_positive_page": shared}, central_page)
    scorers = {w.name.removesuffix("wiki"): score_from_wiki(w.api_url) for w in info.wikis}
    with running_standin(score_function=lambda lang, rev: scorers[lang](lang, rev)) as liftwing:
        settings = central_settings(info, tmp_path, liftwing.url, central_page,
                                                  f"MediaWiki:Automod-local-{uid}.json")
        bot = launch_bot(info, tmp_path, settings)
        try:
            bad = vandal.edit(page, "Stable text. VANDALISM (fine in fact)")
            line = bot.decision(bad, timeout=20, wiki=second.name)
            assert line["decision"] == "reverted", line["reason"]
            revert = top_revision(admin2, page)["revid"]

            # The notice on the second wiki links to a new section on the shared page (first wiki).
            talk = f"User talk:{info.vandals[1].name}"
            url = wait_for(lambda: next((u for u in re.findall(r"\[(http://\S+)", text_of(admin2, talk))
                                         if f"preloadparams%5B%5D={bad}&" in u), None), timeout=20)
            parts = urlsplit(url)
            assert parts.path.startswith(urlsplit(first.api_url).path.rsplit("/", 1)[0])
            params = dict(parse_qsl(parts.query))
            assert (params["title"], params["preload"]) == (shared, f"{shared}/Preload")
            wait_for(lambda: text_of(central_admin, f"{shared}/Preload"), timeout=20)
            http = requests.Session()
            http.trust_env = False  # loopback only
            form = http.get(url, timeout=30).text  # what the reporter's browser shows
            found = re.search(r"<textarea[^>]*name=\"wpTextbox1\"[^>]*>(.*?)</textarea>", form, re.S)
            assert found, (url, form[:3000])
            box = html.unescape(found.group(1))
            assert f"<!-- automod-report rev={bad} wiki={second.name} -->" in box
            reporter.post(action="edit", title=shared, section="new", sectiontitle=params["preloadtitle"],
                          text=box.replace("~~~~", "It was a good edit. ~~~~"), token=reporter.token())

            # The bot answers on the shared page, naming the second wiki and its revert.
            def bot_line() -> str | None:
                return next((wikiline for wikiline in text_of(central_admin, shared).splitlines()
                             if f"automod — revision {bad}" in wikiline and f"(wiki={second.name})" in wikiline), None)
            line = wait_for(bot_line, timeout=20)
            assert "status: open" in line and f"diff={revert} " in line and "score 0.9950" in line

            # An anonymous confirmation: ignored (answered once), nothing restored.
            confirmed = line.replace("status: open", "status: confirmed")
            anon_central.edit(shared, text_of(central_admin, shared).replace(line, confirmed))
            wait_for(lambda: "only users with the right rollback" in text_of(central_admin, shared), timeout=20)
            assert top_revision(admin2, page)["revid"] == revert

            # A rollbacker on the first wiki sets it back to open, then confirms: reinstated on the second.
            opened = text_of(central_admin, shared).replace("status: confirmed", "status: open")
            central_admin.edit(shared, opened)
            # The confirmation is the reviewer's own edit, signed: a text identical to the forged one
            # would be a revert to it (MediaWiki tags it mw-manual-revert), which authors nothing (issue 26).
            central_admin.edit(shared, opened.replace(f"status: open (wiki={second.name})",
                                                      f"status: confirmed (wiki={second.name})")
                               + "\n: Checked: a good edit. ~~~~")
            wait_for(lambda: f"automod — revision {bad} reinstated" in text_of(central_admin, shared), timeout=30)
            assert "VANDALISM (fine in fact)" in text_of(admin2, page)
            assert top_revision(admin2, page)["user"] == info.bot.name
            assert text_of(central_admin, shared).count(" reinstated: ") == 1
        finally:
            bot.stop()


def test_the_restoring_summary_links_to_the_central_page_by_interwiki_or_shows_its_url(two_wikis):
    """As the reverted wiki renders it: never a red link to a page of that name there."""
    first, second = two_wikis.wikis
    central, local = client_for(two_wikis, first), client_for(two_wikis, second)
    general = central.get(action="query", meta="siteinfo", siprop="general")["query"]["general"]
    article = general["server"] + general["articlepath"]  # what an admin would add as the interwiki URL
    uid = uuid.uuid4().hex[:8]
    title = f"Project:Automod shared reports {uid}"
    shared = SharedPage(first.name, title, "-", {second.name: second.index_url}, first.index_url)
    heading, messages = f"{second.name}: Some page (r12)", load_messages()

    def summary_here() -> str:
        iwmap = local.get(action="query", meta="siteinfo", siprop="interwikimap")["query"]["interwikimap"]
        text = reinstate_summary(messages, 12, shared, heading, interwiki_prefix(iwmap, article, first.index_url))
        return local.get(action="parse", title="Sandbox", summary=text, prop="")["parse"]["parsedsummary"]

    without = summary_here()  # no interwiki prefix for the first wiki: its URL, as text
    assert f"{first.index_url}?title={title.replace(' ', '_')}#{second.name}:_Some_page_(r12)" in html.unescape(without)
    assert 'class="new"' not in without and "extiw" not in without
    database = sqlite3.connect(second.root / "data" / f"{second.name}.sqlite", timeout=30)
    prefix = f"central{uid}"
    try:
        with database:
            database.execute("INSERT INTO interwiki (iw_prefix, iw_url, iw_api, iw_wikiid, iw_local, iw_trans)"
                             " VALUES (?, ?, '', '', 0, 0)", (prefix, article))
        linked = summary_here()  # an admin added a prefix for it: a link to the first wiki's page
        href = re.search(r'<a [^>]*href="([^"]+)"[^>]*class="extiw"|<a [^>]*class="extiw"[^>]*href="([^"]+)"', linked)
        assert href, linked
        target = html.unescape(href.group(1) or href.group(2))
        assert target.startswith(article.replace("$1", title.replace(" ", "_")).split("#")[0]), target
        assert 'class="new"' not in linked
    finally:
        with database:
            database.execute("DELETE FROM interwiki WHERE iw_prefix = ?", (prefix,))
        database.close()
