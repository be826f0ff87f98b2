"""Property-based fuzzing of the inputs anyone can shape (issue 15): stream events, the
community config page, the false-positive report page. Whatever they hold, each parser
answers with a value or its own error, never another exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from automod.config import ParsedConfig, parse_config
from automod.errors import MalformedEvent
from automod.onwiki.reports import parse_report_page
from automod.records import RecentChange
from automod.stream import parse_event
from automod.stream.follower import sse_events

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)

VALID_EVENT: dict[str, Any] = {
    "meta": {"id": "e1", "dt": "2024-05-01T10:00:00Z", "domain": "en.wikipedia.org", "stream": "mediawiki.recentchange",
             "topic": "eqiad.mediawiki.recentchange", "partition": 0, "offset": 12},
    "type": "edit", "wiki": "enwiki", "server_name": "en.wikipedia.org", "namespace": 0, "title": "Riverford",
    "user": "Vandal1", "bot": False, "timestamp": 1714557600, "comment": "", "minor": False, "id": 99,
    "revision": {"old": 10, "new": 11}, "length": {"old": 100, "new": 120},
}
PATHS = [(key,) for key in VALID_EVENT] + [("meta", key) for key in VALID_EVENT["meta"]] + [
    ("revision", "old"), ("revision", "new"), ("length", "old"), ("length", "new")]


def _parses_or_refuses(raw: Any) -> None:
    try:
        change = parse_event(raw)
    except MalformedEvent:
        return
    assert isinstance(change, RecentChange)
    for value in (change.rev_id, change.parent_id, change.namespace, change.timestamp):
        assert value is None or -(2**63) <= value < 2**63  # storable in SQLite
    json.dumps([change.title, change.user, change.comment]).encode("utf-8")  # printable


@FUZZ
@given(JSON)
def test_any_json_value_is_an_event_or_malformed(value: Any) -> None:
    _parses_or_refuses(value)
    _parses_or_refuses(json.dumps(value))


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes_are_an_event_or_malformed(raw: bytes) -> None:
    _parses_or_refuses(raw)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON | st.text(alphabet=st.characters(), max_size=5)),
                min_size=1, max_size=4))
def test_a_real_event_with_any_fields_changed_is_an_event_or_malformed(
        changes: list[tuple[tuple[str, ...], Any]]) -> None:
    event = json.loads(json.dumps(VALID_EVENT))
    for path, value in changes:
        target = event
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    _parses_or_refuses(event)


@FUZZ
@given(st.lists(st.binary(max_size=40), max_size=6), st.data())
def test_sse_events_do_not_depend_on_how_the_bytes_are_cut(payloads: list[bytes], data: st.DataObject) -> None:
    events = [(f"id{i}", b"x" + p.replace(b"\n", b" ").replace(b"\r", b" ")) for i, p in enumerate(payloads)]
    stream = b":ok\n\n" + b"".join(b"event: message\nid: %s\ndata: %s\n\n" % (i.encode(), d) for i, d in events)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert list(sse_events(chunks)) == events


CONFIG_KEYS = ["enabled", "mode", "model", "models", "threshold", "caution_level", "skip_rights",
               "max_reverts_per_user_per_page", "max_edit_age_minutes", "max_reverts_per_hour", "minor",
               "talk_notice", "false_positive_page", "help_page", "summary", "report_reviewer_rights"]


@FUZZ
@given(st.dictionaries(st.sampled_from(CONFIG_KEYS) | st.text(max_size=8), JSON, max_size=6))
def test_any_config_object_is_a_config_or_its_problems(page: dict[str, Any]) -> None:
    parsed = parse_config(json.dumps(page), {"revertrisk-language-agnostic"})
    assert isinstance(parsed, ParsedConfig)
    assert parsed.valid or parsed.problems


@FUZZ
@given(st.text(max_size=300))
def test_any_config_text_is_a_config_or_its_problems(text: str) -> None:
    parsed = parse_config(text, {"revertrisk-language-agnostic"})
    assert parsed.valid or parsed.problems


REPORT_BITS = st.sampled_from(["== ", " ==", "\n", "<!-- automod-report rev=", " -->", "Special:Diff/",
                               "automod — revision ", " status: ", "open", "confirmed", "=", "9" * 30, "12", "٣"])


@FUZZ
@example("== Report ==\nSpecial:Diff/" + "9" * 5000)
@example("== Report ==\n<!-- automod-report rev=99999999999999999999999 -->")
@given(st.lists(REPORT_BITS | st.text(max_size=10), max_size=40).map("".join))
def test_any_report_page_is_a_list_of_sections(text: str) -> None:
    for section in parse_report_page(text):
        assert section.rev_id is None or 0 <= section.rev_id < 2**63
