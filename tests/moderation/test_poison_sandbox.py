"""Poison events between real vandal edits: each costs only itself (issue 15).

The relay serves a catalogue of bad events (not objects, huge integers, nulls and wrong
types, a 5 MB event, invalid UTF-8, deep nesting, a title that does not own the revision)
between real vandal edits; the real bot must revert every vandal edit once, record every
poison event with its id, and keep going across a restart.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
import requests

from automod.store import Store
from support.moderation_helpers import REVERTING, set_config, start_at_stream_end, top_revision
from support.poison_events import poison_catalogue
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox


def _inject(sandbox, raw: bytes) -> str:
    """Append ``raw`` to the relay's stream; return the event id the bot will see."""
    events = requests.post(f"{sandbox.relay_url}/_control", json={"inject_b64": base64.b64encode(raw).decode()},
                           timeout=30).json()["events"]
    return json.dumps([{"topic": "sandbox.mediawiki.recentchange", "partition": 0, "offset": events - 1}],
                      separators=(",", ":"))


def _event_of(sandbox, rev_id: int) -> dict[str, Any]:
    for line in reversed(sandbox.history.read_text().splitlines()):
        event = json.loads(line).get("event", {})
        if event.get("revision", {}).get("new") == rev_id:
            return event
    raise AssertionError(f"no stream event for r{rev_id}")


def test_poison_events_cost_only_themselves(sandbox, wiki, unique_title, bot_factory, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, REVERTING)
    pages = [f"{unique_title} {i}" for i in range(4)]
    for page in pages:
        admin.edit(page, f"Article {page}.")
    # A title/revision mismatch: the vandal's bad edit on one page, claimed for another page
    # whose top edit is the same vandal's good one. Only the claim reaches the bot.
    mismatch_page, elsewhere = f"{unique_title} good", f"{unique_title} bad"
    admin.edit(mismatch_page, "Good article.")
    admin.edit(elsewhere, "Other article.")
    good_top = vandal.edit(mismatch_page, "Good article. A sourced addition.")
    hidden_bad = vandal.edit(elsewhere, "Other article. VANDALISM")
    start_at_stream_end(sandbox, tmp_path)

    vandal_revs, poison_ids = [], []
    template = None
    for i, page in enumerate(pages[:3]):
        vandal_revs.append(vandal.edit(page, f"Article {page}. VANDALISM {i}"))
        template = template or _event_of(sandbox, vandal_revs[0])
        batch = poison_catalogue(template)
        for raw in batch[i::3]:
            poison_ids.append(_inject(sandbox, raw))
    claim = copy.deepcopy(template)
    claim["title"], claim["revision"] = mismatch_page, {"old": good_top, "new": hidden_bad}
    _inject(sandbox, json.dumps(claim).encode())
    missing = copy.deepcopy(template)
    missing["title"], missing["revision"] = f"{unique_title} missing", {"old": 10**12 - 1, "new": 10**12}
    _inject(sandbox, json.dumps(missing).encode())

    bot = bot_factory(fresh_position=False)
    for rev in vandal_revs:
        assert bot.decision(rev, timeout=30)["decision"] == "reverted"
    line = bot.decision(hidden_bad)
    assert line["decision"] == "target-mismatch", line
    assert top_revision(admin, mismatch_page)["revid"] == good_top  # the good edit stands
    assert bot.decision(10**12)["decision"] == "error"
    with Store(tmp_path / "automod.sqlite") as store:
        recorded = {row[0] for row in sqlite_of(store).execute("SELECT event_id FROM malformed_events")}
    assert set(poison_ids) <= recorded

    # A restart replays nothing that was handled and crashes on nothing; new vandalism is reverted.
    assert bot.stop() == 0
    again = bot_factory(fresh_position=False)
    later = vandal.edit(pages[3], f"Article {pages[3]}. VANDALISM later")
    assert again.decision(later)["decision"] == "reverted"
    assert all(not again.decisions(rev) for rev in vandal_revs)
    reverts = [r for page in pages[:3] for r in admin.revisions(page) if "mw-rollback" in r.get("tags", [])]
    assert len(reverts) == 3
