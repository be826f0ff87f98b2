"""Two wikis, one process: a stalled wiki never delays the other's reverts, and a revision
number both wikis use is two edits, each decided on its own wiki."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import requests
import yaml

from support.liftwing_standin import running_standin
from support.moderation_helpers import (
    REVERTING,
    Bot,
    launch_bot,
    relay_connections,
    score_from_wiki,
    set_config,
    start_at_stream_end,
    wait_connected,
)
from support.multiwiki import client_for, scorers_for, text_of
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


def _both_wikis(info, tmp_path, liftwing_url: str):
    """The sandbox's settings (every wiki, each with its own config page), this test's store and Lift Wing."""
    settings = tmp_path / "settings.yaml"
    data = yaml.safe_load(info.settings.read_text())
    data["store"] = str(tmp_path / "automod.sqlite")
    data["liftwing"]["url"] = liftwing_url
    write_settings(settings, data)
    return settings


def test_a_stalled_wiki_does_not_delay_the_other_wikis_reverts(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    scorers = {w.name.removesuffix("wiki"): score_from_wiki(w.api_url) for w in info.wikis}
    with running_standin(score_function=lambda lang, rev: scorers[lang](lang, rev)) as liftwing:
        settings = _both_wikis(info, tmp_path, liftwing.url)
        admins = {w.name: client_for(info, w, info.admin) for w in info.wikis}
        for admin in admins.values():
            set_config(admin, REVERTING)
        vandal = client_for(info, first, info.vandals[0])
        pages = [f"Stall test {time.time_ns()} {i}" for i in range(4)]
        for page in pages:
            admins[first.name].edit(page, "Stable text.")
        second_page = f"Stall test second {time.time_ns()}"
        admins[second.name].edit(second_page, "Stable text.")
        start_at_stream_end(info, tmp_path)
        before = relay_connections(info)
        bot = Bot(settings)
        try:
            wait_connected(info, before, bot)
            _scenario(info, bot, vandal, pages, second, second_page)
        finally:
            bot.stop()


def _scenario(info, bot, vandal, pages, second, second_page) -> None:
    """Baseline revert delay on the first wiki, then the same while the second is stalled."""

    def revert_delay(page: str) -> float:
        saved = time.monotonic()
        rev = vandal.edit(page, "Stable text. VANDALISM")
        line = bot.decision(rev, timeout=20, wiki=info.wikis[0].name)
        assert line["decision"] == "reverted", (line["reason"], bot.log.read_text()[-3000:])
        return time.monotonic() - saved

    baseline = revert_delay(pages[0])
    # The second wiki's API stops answering while an edit of it is being handled.
    events = [json.loads(logged)["event"] for logged in info.history.read_text().splitlines()]
    template = next(e for e in events if e.get("wiki") == second.name)
    os.kill(second.php_pid, signal.SIGSTOP)
    try:
        for n in range(3):
            stuck = {**template, "type": "edit", "title": second_page, "timestamp": int(time.time()),
                     "revision": {"old": 900000 + n, "new": 900001 + n}}
            requests.post(f"{info.relay_url}/_control", json={"inject": json.dumps(stuck)}, timeout=5)
        time.sleep(0.5)  # the second wiki's thread is now blocked on its API
        delays = [revert_delay(page) for page in pages[1:]]
        assert not bot.decisions(900001, wiki=second.name), "the second wiki should still be stuck on its API"
    finally:
        os.kill(second.php_pid, signal.SIGCONT)
    assert max(delays) < baseline + 1.0, (baseline, delays)


def test_the_same_revision_number_on_two_wikis_is_two_edits_each_decided_on_its_wiki(two_wikis, tmp_path):
    """Revision ids are numbered per wiki (two fresh wikis number theirs alike): the vandal's r<n>
    on one wiki and an editor's r<n> on the other are each decided as what they are — the one
    reverted, the other kept — never one taken for the other or for a duplicate."""
    info = two_wikis
    first, second = info.wikis
    admins = {w.name: client_for(info, w, info.admin) for w in info.wikis}
    for admin in admins.values():
        set_config(admin, REVERTING)
    page = f"Same number {time.time_ns()}"
    for admin in admins.values():
        admin.edit(page, "Stable text.")
    # Bring both wikis to the same newest revision id (outside the article namespace: never decided).
    last = {name: admin.edit(f"Project:{page}", "filler") for name, admin in admins.items()}
    while len(set(last.values())) > 1:
        behind = min(last, key=lambda name: last[name])
        last[behind] = admins[behind].edit(f"Project:{page}", f"filler {last[behind]}")
    with running_standin(score_function=scorers_for(info)) as liftwing:
        bot = launch_bot(info, tmp_path, _both_wikis(info, tmp_path, liftwing.url))
        try:
            bad = client_for(info, first, info.vandals[0]).edit(page, "Stable text. VANDALISM")
            fine = client_for(info, second, info.patroller).edit(page, "Stable text, with a source.")
            assert bad == fine == last[first.name] + 1
            reverted = bot.decision(bad, timeout=20, wiki=first.name)
            assert (reverted["decision"], reverted["user"]) == ("reverted", info.vandals[0].name), reverted
            kept = bot.decision(fine, timeout=20, wiki=second.name)
            assert kept["decision"] == "skip" and kept["user"] == info.patroller.name, kept
            assert text_of(admins[first.name], page) == "Stable text."
            assert text_of(admins[second.name], page) == "Stable text, with a source."
        finally:
            bot.stop()
