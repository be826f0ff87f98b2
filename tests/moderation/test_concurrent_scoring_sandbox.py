"""Scoring a wiki's queued candidates concurrently (``scoring.max_in_flight``) changes how
fast a burst drains, never what is done: each vandal edit is rolled back once, and the second
edit on a page by the same vandal is handled after the first, as when scoring one at a time.
The real bot against the sandbox MediaWiki; only Lift Wing is stood in for."""

from __future__ import annotations

import pytest
import yaml

from automod.store import Store
from support.moderation_helpers import (
    REVERTING,
    bot_settings,
    launch_bot,
    set_config,
    start_at_stream_end,
)
from support.settings_files import write_settings
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox


def test_a_burst_scored_concurrently_is_reverted_once_each_in_page_order(sandbox, wiki, liftwing, unique_title,
                                                                         tmp_path):
    admin, vandal, other = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1])
    set_config(admin, REVERTING)
    pages = [f"{unique_title} {i}" for i in range(5)]
    for page in pages:
        admin.edit(page, "Stable text.")
    liftwing.clear_script()
    start_at_stream_end(sandbox, tmp_path)
    # Made before the bot starts, so they wait in the wiki's queue together and are scored
    # ahead of their decisions; the stand-in's latency lets answers arrive out of order.
    liftwing.latency = lambda: 0.3
    try:
        first = vandal.edit(pages[0], "Stable text. VANDALISM one")
        second = vandal.edit(pages[0], "Stable text. VANDALISM one and two")
        rest = [(other if i % 2 else vandal).edit(page, f"Stable text. VANDALISM {i}")
                for i, page in enumerate(pages[1:], 1)]
        settings = bot_settings(sandbox, tmp_path, liftwing.url)
        data = yaml.safe_load(settings.read_text())
        data["scoring"] = {"max_in_flight": 4}
        write_settings(settings, data)
        bot = launch_bot(sandbox, tmp_path, settings, fresh_position=False)
        try:
            lines = {rev: bot.decision(rev, timeout=30) for rev in [first, second, *rest]}
        finally:
            bot.stop()
    finally:
        liftwing.latency = None
    assert "scored" in bot.log.read_text() and "queued revisions" in bot.log.read_text()  # it did score ahead

    assert lines[first]["decision"] == "reverted", lines[first]
    assert lines[second]["decision"] == "skip", lines[second]  # undone by the same rollback, as today
    assert all(lines[rev]["decision"] == "reverted" for rev in rest), lines
    order = [line["rev_id"] for line in bot.lines]
    assert order.index(first) < order.index(second), "the page's edits are decided in stream order"
    for page in pages:
        history = admin.revisions(page)
        bot_revs = [r for r in history if r["user"] == sandbox.bot.name]
        assert len(bot_revs) == 1, f"{page}: {len(bot_revs)} reverts"
        assert history[0]["slots"]["main"]["content"] == "Stable text."
    with Store(tmp_path / "automod.sqlite") as store:
        acted = sqlite_of(store).execute("SELECT rev_id, count(*) FROM decisions WHERE outcome = 'reverted' "
                                 "GROUP BY rev_id").fetchall()
    assert sorted(r[0] for r in acted) == sorted([first, *rest]) and all(r[1] == 1 for r in acted)
