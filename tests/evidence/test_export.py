"""`automod export`: stored scores as prediction_classification_change events (fields as in
revert-risk-models.md §4) or CSV, and delivery to an EventGate-like stand-in on 127.0.0.1 that
fails now and then: every event must arrive exactly once."""

from __future__ import annotations

import csv
import io
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from automod.cli import main
from automod.evidence import post_events, stored_scores, to_event, with_labels
from automod.evidence.export import SCHEMA, event_id
from automod.evidence.labels import record_label
from automod.records import Outcome, Verdict
from automod.store import MIGRATIONS, DecidedEdit, Store
from automod.stream import RetryPolicy
from support.settings_files import write_settings

WIKI = "testwiki"
FAST = RetryPolicy(initial=0.01, factor=2.0, cap=0.05, jitter=0.0)


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    path = tmp_path / "settings.yaml"
    write_settings(path, {
        "user_agent": "automod-tests/0.1 (https://example.org; tests@example.org)",
        "store": "automod.sqlite", "stream": {"url": "http://127.0.0.1:9/v2/stream/recentchange"},
        "wikis": [{"name": WIKI, "api": "https://test.example.org/w/api.php"}]})
    return path


def fill_store(path: Path, n: int, models: tuple[str, ...] = ("revertrisk-language-agnostic",)) -> None:
    with Store(path, migrations=with_labels(MIGRATIONS)) as store:
        for i in range(n):
            rev = 1000 + i
            store.record_decision(DecidedEdit(wiki=WIKI, rev_id=rev, parent_id=rev - 1, title=f"Page {i % 7}",
                                              user=f"Editor {i % 3}" if i % 2 else "192.0.2.7",
                                              event_dt=f"2026-03-0{1 + i % 5}T12:{i % 60:02d}:00Z"),
                                  Verdict(Outcome.BELOW_THRESHOLD, model=models[0], model_version="3",
                                          probability=i / n, threshold=0.99))
            for model in models:
                store.record_score(WIKI, rev, model, "3", i / n)
        record_label(store, WIKI, 1000, "kept", "history")
        record_label(store, WIKI, 1001, "human-reverted", "identity-revert")


def export_events(capsys, settings: Path, *extra: str) -> list[dict[str, Any]]:
    assert main(["export", "--settings", str(settings), "--format", "events", *extra]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_events_carry_the_schema_fields(settings, capsys):
    fill_store(settings.parent / "automod.sqlite", 4)
    events = export_events(capsys, settings)
    assert len(events) == 4
    for event in events:
        assert event["$schema"] == SCHEMA == "/mediawiki/page/prediction_classification_change/1.3.0"
        meta = event["meta"]
        assert meta["stream"] and meta["domain"] == "test.example.org" and meta["dt"].endswith("Z")
        assert uuid.UUID(meta["id"])
        assert event["wiki_id"] == WIKI and event["dt"].startswith("2026-03-0")
        assert event["page"]["namespace_id"] == 0 and event["page"]["page_title"].startswith("Page_")
        rev = event["revision"]
        assert rev["rev_parent_id"] == rev["rev_id"] - 1 and rev["rev_dt"] == event["dt"]
        assert rev["editor"]["user_text"] == event["performer"]["user_text"]
        pc = event["predicted_classification"]
        assert set(pc) == {"model_name", "model_version", "predictions", "probabilities"}
        assert pc["model_name"] == "revertrisk-language-agnostic" and pc["model_version"] == "3"
        p = pc["probabilities"]
        assert set(p) == {"true", "false"} and p["true"] + p["false"] == pytest.approx(1.0)
        assert pc["predictions"] == (["true"] if p["true"] > 0.5 else ["false"])
    assert [e["predicted_classification"]["predictions"] for e in events] == [["false"]] * 3 + [["true"]]


def test_event_ids_are_the_same_on_every_export_and_differ_per_model(settings, capsys):
    fill_store(settings.parent / "automod.sqlite", 3,
               models=("revertrisk-language-agnostic", "revertrisk-multilingual"))
    first = [e["meta"]["id"] for e in export_events(capsys, settings)]
    again = [e["meta"]["id"] for e in export_events(capsys, settings)]
    assert first == again and len(set(first)) == 6
    assert first[0] == event_id(WIKI, 1000, "revertrisk-language-agnostic")


def test_csv_export_feeds_the_threshold_command(settings, capsys, tmp_path):
    fill_store(settings.parent / "automod.sqlite", 5)
    out = tmp_path / "scores.csv"
    assert main(["export", "--settings", str(settings), "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["rev_id"] for r in rows] == ["1000", "1001", "1002", "1003", "1004"]
    assert [r["label"] for r in rows] == ["0", "1", "", "", ""]
    assert rows[0]["event_id"] == event_id(WIKI, 1000, "revertrisk-language-agnostic")
    capsys.readouterr()
    assert main(["thresholds", "--input", str(out), "--json", "--no-files"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["would_revert"] == 2  # 0.6 and 0.8 are above 0.5


# -- posting ------------------------------------------------------------------------------------------------


class EventGateStandin:
    """Accepts JSON arrays on POST /v1/events and answers as EventGate does; scripted failures."""

    def __init__(self) -> None:
        self.accepted: list[str] = []          # meta.ids accepted, in order, duplicates kept
        self.received: list[list[str]] = []    # meta.ids of every request
        self.script: list[str] = []            # per request: "ok", "503", "207-half", "400-invalid"
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                events = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with standin.lock:
                    standin.received.append([e["meta"]["id"] for e in events])
                    mode = standin.script.pop(0) if standin.script else "ok"
                    if mode == "503":
                        self._reply(503, b"upstream overloaded")
                        return
                    if mode == "400-invalid":
                        body = {"invalid": [{"status": "invalid", "event": e, "context": {"message": "bad"}}
                                            for e in events]}
                        self._reply(400, json.dumps(body).encode())
                        return
                    if mode == "207-half":
                        keep, fail = events[: len(events) // 2], events[len(events) // 2:]
                        standin.accepted.extend(e["meta"]["id"] for e in keep)
                        body = {"invalid": [], "error": [{"status": "error", "event": e,
                                                          "context": {"message": "kafka timeout"}} for e in fail]}
                        self._reply(207, json.dumps(body).encode())
                        return
                    standin.accepted.extend(e["meta"]["id"] for e in events)
                    self._reply(201, b"")

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/events"


@pytest.fixture
def eventgate() -> Iterator[EventGateStandin]:
    standin = EventGateStandin()
    standin.thread.start()
    yield standin
    standin.server.shutdown()
    standin.server.server_close()


def test_a_batch_that_fails_once_is_resent_and_every_event_arrives_exactly_once(settings, capsys, eventgate):
    fill_store(settings.parent / "automod.sqlite", 250)
    eventgate.script = ["ok", "503"]  # the second batch fails once, then goes through
    assert main(["export", "--settings", str(settings), "--format", "events", "--post", eventgate.url,
                 "--batch-size", "100"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"events": 250, "accepted": 250, "invalid": 0, "requests": 4, "retried_events": 100}
    counts = Counter(eventgate.accepted)
    assert len(counts) == 250 and set(counts.values()) == {1}
    assert [len(r) for r in eventgate.received] == [100, 100, 100, 50]
    assert eventgate.received[1] == eventgate.received[2]  # the same batch, the same ids


def test_a_partial_success_resends_only_the_failed_events(settings, eventgate):
    fill_store(settings.parent / "automod.sqlite", 30)
    with Store(settings.parent / "automod.sqlite") as store:
        events = [to_event(s) for s in stored_scores(store)]
    eventgate.script = ["207-half", "503", "207-half"]
    result = post_events(events, eventgate.url, user_agent="automod-tests/0.1 (tests)", batch_size=20,
                         retry=FAST, sleep=lambda _: None)
    # batch 1: 10 accepted, 10 errored → 503 → 5 of those accepted, 5 errored → all 5 accepted
    assert [len(r) for r in eventgate.received] == [20, 10, 10, 5, 10]
    assert result.accepted == 30 and result.requests == 5 and result.invalid == []
    assert Counter(eventgate.accepted) == Counter({e["meta"]["id"]: 1 for e in events})


def test_invalid_events_are_reported_and_never_resent(settings, capsys, eventgate):
    fill_store(settings.parent / "automod.sqlite", 3)
    eventgate.script = ["400-invalid"]
    assert main(["export", "--settings", str(settings), "--format", "events", "--post", eventgate.url]) == 1
    captured = capsys.readouterr()
    assert "Error: 3 events were refused as invalid" in captured.err
    assert len(eventgate.received) == 1 and eventgate.accepted == []


def test_an_unreachable_receiver_is_an_error_after_the_retries(settings):
    fill_store(settings.parent / "automod.sqlite", 2)
    with Store(settings.parent / "automod.sqlite") as store:
        events = [to_event(s) for s in stored_scores(store)]
    from automod.evidence import ExportError

    with pytest.raises(ExportError, match="not accepted .* after 3 attempts"):
        post_events(events, "http://127.0.0.1:9/v1/events", user_agent="automod-tests/0.1 (tests)", attempts=3,
                    retry=FAST, sleep=lambda _: None, timeout=(0.5, 0.5))


def test_csv_is_readable_without_labels_table(tmp_path):
    """A store from before the labels migration still exports (labels empty)."""
    path = tmp_path / "old.sqlite"
    with Store(path) as store:
        store.record_score(WIKI, 7, "m", "1", 0.7)
        scores = stored_scores(store)
    assert [(s.rev_id, s.label, s.title) for s in scores] == [(7, None, None)]
    buffer = io.StringIO()
    from automod.evidence import write_scores_csv

    write_scores_csv(scores, buffer)
    assert buffer.getvalue().splitlines()[1].startswith(f"{WIKI},7,m,1,0.7,true,,")
