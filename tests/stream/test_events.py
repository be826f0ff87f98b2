"""Parsing recent-change events: every real fixture parses; bad input fails one clear way."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from automod.errors import MalformedEvent
from automod.moderation.candidates import rejection_reason
from automod.records import RecentChange
from automod.stream import parse_event
from automod.stream.events import is_canary

FIXTURE = Path(__file__).resolve().parents[1] / "data/fixtures/eventstreams/recentchange_enwiki_2023-07-29.ndjson"
EXPECTED = Path(__file__).parents[1] / "data/enwiki_2023-07-29_candidates.txt"


def fixture_lines() -> list[str]:
    return FIXTURE.read_text(encoding="utf-8").splitlines()


def sample() -> dict:
    return json.loads(fixture_lines()[0])


def test_every_recorded_wikimedia_event_parses():
    changes = [parse_event(line) for line in fixture_lines()]
    assert len(changes) == 100
    assert all(isinstance(c, RecentChange) and c.wiki == "enwiki" for c in changes)


def test_revision_old_is_the_parent_and_new_is_this_edit():
    change = parse_event(fixture_lines()[0])
    assert (change.parent_id, change.rev_id) == (1166824248, 1167689309)
    assert change.title == "EFL Championship" and change.user == "87.12.215.232"
    assert change.meta.dt == "2023-07-29T07:51:39Z" and change.meta.offset == 4820784717


def test_filtering_the_recording_keeps_exactly_the_unflagged_article_edits():
    expected = [int(x) for x in EXPECTED.read_text().split()]
    kept = [c.rev_id for c in map(parse_event, fixture_lines()) if rejection_reason(c, {"enwiki"}) is None]
    assert kept == expected
    assert len(kept) == 85  # 86 namespace-0 edits, one by InternetArchiveBot (bot flag)


def test_clue_bot_revert_is_a_candidate_because_it_is_not_bot_flagged():
    changes = {c.rev_id: c for c in map(parse_event, fixture_lines())}
    revert = changes[1167689416]
    assert revert.user == "ClueBot NG" and revert.parent_id == 1167689413
    assert rejection_reason(revert, {"enwiki"}) is None


def test_events_of_wikis_not_served_are_rejected_with_a_reason():
    reasons = {rejection_reason(parse_event(line), {"frwiki"}) for line in fixture_lines()}
    assert reasons == {"wiki-not-served"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e.update(namespace=2), "not-namespace-0"),
        (lambda e: e.update(bot=True), "bot-flagged"),
        (lambda e: (e.update(type="new"), e["revision"].pop("old")), "page-creation"),
        (lambda e: (e.update(type="log"), e.pop("revision")), "not-an-edit:log"),
    ],
    ids=["user-page", "bot", "creation", "log"],
)
def test_non_candidates_carry_their_reason(change, reason):
    event = sample()
    change(event)
    assert rejection_reason(parse_event(event), {"enwiki"}) == reason


def _without(path: str):
    def mutate(event: dict) -> None:
        *parents, last = path.split(".")
        target = event
        for key in parents:
            target = target[key]
        del target[last]
    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_without("title"), "missing field title"),
        (_without("meta"), "missing field meta"),
        (_without("meta.dt"), "missing field meta.dt"),
        (_without("revision"), "missing field revision.new"),
        (_without("revision.old"), "missing field revision.old"),
        (lambda e: e.update(namespace="0"), "namespace should be an integer"),
        (lambda e: e.update(bot="false"), "bot should be a boolean"),
        (lambda e: e["revision"].update(new=True), "revision.new should be an integer"),
        (lambda e: e.update(type="delete"), "unknown change type"),
        (lambda e: e.update(meta=[]), "meta should be an object"),
    ],
)
def test_malformed_events_raise_one_clear_error(mutate, message):
    event = copy.deepcopy(sample())
    mutate(event)
    with pytest.raises(MalformedEvent, match=message):
        parse_event(json.dumps(event))


@pytest.mark.parametrize("raw", ["", "{", "[]", "null", '"edit"', b"\xff\xfe"])
def test_non_json_or_non_object_input_is_malformed(raw):
    with pytest.raises(MalformedEvent):
        parse_event(raw)


def test_canary_is_recognised_before_strict_parsing():
    event = sample()
    event["meta"]["domain"] = "canary"
    assert is_canary(event)
    assert parse_event(event).is_canary
    assert not is_canary(sample())


def test_a_move_log_event_names_its_target() -> None:
    event = {"meta": {"id": "x", "dt": "2026-01-01T00:00:00Z", "domain": "w.example", "stream": "s"},
             "type": "log", "wiki": "w", "server_name": "w.example", "namespace": 4, "title": "Project:Reports",
             "user": "Sock", "bot": False, "timestamp": 1, "log_type": "move", "log_action": "move",
             "log_params": {"target": "User:Sock/Reports", "noredir": "0"}}
    change = parse_event(event)
    assert change.is_move and change.move_target == "User:Sock/Reports" and change.log_action == "move"
    assert not parse_event({**event, "log_type": "delete", "log_params": []}).is_move
    with pytest.raises(MalformedEvent):
        parse_event({**event, "log_params": {"noredir": "0"}})
