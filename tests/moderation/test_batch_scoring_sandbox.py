"""The bot asks Lift Wing for a wiki's waiting candidates in batch requests (Lift Wing's batch
form) instead of one request each: all at once with ``scoring.max_in_flight: 1``, in one share
per pool thread with the default 4 in flight. What is done does not change: each vandal edit
is rolled back once.
The real bot against the sandbox MediaWiki; only Lift Wing is stood in for."""

from __future__ import annotations

import pytest
import yaml

from support.moderation_helpers import REVERTING, bot_settings, launch_bot, set_config, start_at_stream_end
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


@pytest.mark.parametrize("in_flight", [1, 4])
def test_a_burst_is_scored_in_batch_requests_and_reverted_once_each(sandbox, wiki, liftwing, unique_title, tmp_path,
                                                                    in_flight):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, REVERTING)
    pages = [f"{unique_title} {i}" for i in range(10)]
    for page in pages:
        admin.edit(page, "Stable text.")
    liftwing.clear_script()
    start_at_stream_end(sandbox, tmp_path)
    # Made before the bot starts, so they wait in the wiki's queue together; the stand-in's
    # latency keeps the first decision busy while the rest are queued.
    liftwing.latency = lambda: 0.3
    try:
        burst = [vandal.edit(page, f"Stable text. VANDALISM {i}") for i, page in enumerate(pages)]
        settings = bot_settings(sandbox, tmp_path, liftwing.url)
        data = yaml.safe_load(settings.read_text())
        data["scoring"] = {"max_in_flight": in_flight}
        write_settings(settings, data)
        bot = launch_bot(sandbox, tmp_path, settings, fresh_position=False)
        try:
            lines = {rev: bot.decision(rev, timeout=30) for rev in burst}
        finally:
            bot.stop()
    finally:
        liftwing.latency = None
    assert all(line["decision"] == "reverted" for line in lines.values()), lines
    asked = [r.json() for r in liftwing.requests if r.path.endswith("revertrisk-language-agnostic:predict")]
    batches = [[i["rev_id"] for i in body["instances"]] for body in asked if "instances" in body]
    singles = [body["rev_id"] for body in asked if "instances" not in body and body["rev_id"] in burst]
    assert any(len(set(batch) & set(burst)) >= 2 for batch in batches), asked
    in_batches = {rev for batch in batches for rev in batch}
    assert not in_batches & set(singles), "a revision answered in a batch is not asked for again"
    assert in_batches | set(singles) >= set(burst) and len(batches) + len(singles) < len(burst)
    for page in pages:
        history = admin.revisions(page)
        assert [r["user"] for r in history].count(sandbox.bot.name) == 1, page
        assert history[0]["slots"]["main"]["content"] == "Stable text."
