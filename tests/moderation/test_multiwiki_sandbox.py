"""Two wikis, one process: a stalled wiki never delays the other's reverts."""

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
    relay_connections,
    score_from_wiki,
    set_config,
    start_at_stream_end,
    wait_connected,
)
from support.multiwiki import client_for
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


def test_a_stalled_wiki_does_not_delay_the_other_wikis_reverts(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    scorers = {w.name.removesuffix("wiki"): score_from_wiki(w.api_url) for w in info.wikis}
    with running_standin(score_function=lambda lang, rev: scorers[lang](lang, rev)) as liftwing:
        settings = tmp_path / "settings.yaml"
        data = yaml.safe_load(info.settings.read_text())
        data["store"] = str(tmp_path / "automod.sqlite")
        data["liftwing"]["url"] = liftwing.url
        write_settings(settings, data)
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
