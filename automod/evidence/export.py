"""Every stored score, out: ``prediction_classification_change`` events or CSV.

Events follow ``mediawiki/page/prediction_classification_change`` as Lift Wing emits them
(revert-risk-models.md §4): ``$schema``, ``meta``, ``predicted_classification`` and the
page and revision fields the store has (title, namespace 0 — only articles are candidates —
revision id, parent id, time, editor name). The store keeps no page id, sha1 or size, so
those are absent; a receiver validating the full page-change schema must allow that.

``meta.id`` is a UUID derived from ``(wiki, rev_id, model)``, not random: exporting twice,
or resending a batch whose answer was lost, yields the same ids, so an EventGate (or any
receiver) can drop duplicates. :func:`post_events` sends batches as a JSON array and resends
only what failed: the whole batch after a network error, 429 or 5xx without a body; only the
``error`` events of a 207 (EventGate's partial success). ``invalid`` events (schema
rejections) are never resent: retrying cannot fix them; they are returned to the caller.
"""

from __future__ import annotations

import csv
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import requests

from automod.errors import AutomodError
from automod.evidence.labels import truth
from automod.store import Store
from automod.stream import RetryPolicy

__all__ = [
    "CSV_COLUMNS", "DEFAULT_STREAM", "SCHEMA", "ExportError", "PostResult", "StoredScore", "event_id",
    "post_events", "stored_scores", "to_event", "write_events", "write_scores_csv",
]

log = logging.getLogger("automod.evidence.export")

SCHEMA = "/mediawiki/page/prediction_classification_change/1.3.0"
#: Our own stream name: Wikimedia's revert-risk streams carry Lift Wing's scores, not ours.
DEFAULT_STREAM = "automod.page_prediction_classification_change.v1"
#: Fixed namespace for :func:`event_id` (uuid5); never change it, or ids stop deduplicating.
ID_NAMESPACE = uuid.UUID("6f1c3e2a-9b7d-5c44-a0e1-3d5b2f8c9a17")
CSV_COLUMNS = ("wiki", "rev_id", "model", "model_version", "probability", "prediction", "label", "timestamp",
               "scored_at", "title", "user", "parent_id", "event_id")
POST_RETRY = RetryPolicy(initial=1.0, factor=2.0, cap=30.0, jitter=0.2)


class ExportError(AutomodError):
    """Events could not be delivered (after retries) or the receiver refused them all."""


@dataclass(frozen=True)
class StoredScore:
    wiki: str
    rev_id: int
    model: str
    model_version: str | None
    probability: float
    scored_at: float
    title: str | None
    user: str | None
    parent_id: int | None
    event_dt: str | None
    label: bool | None


def stored_scores(store: Store, *, since: float | None = None, wiki: str | None = None,
                  model: str | None = None) -> list[StoredScore]:
    """Scores with what the decisions table knows about their edits, oldest edit first.

    ``since`` (epoch seconds) filters on the edit's time (the score's time if unknown).
    """
    return [StoredScore(e.wiki, e.rev_id, e.model, e.version, e.probability, e.scored_at, e.title, e.user,
                        e.parent_id, e.event_dt, truth(e.labels) if e.labels else None)
            for e in store.scored_edits(since=since, wiki=wiki, model=model)]


def event_id(wiki: str, rev_id: int, model: str) -> str:
    """The event's ``meta.id``: the same for the same (wiki, revision, model), always."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{wiki}/{rev_id}/{model}"))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_event(score: StoredScore, *, stream: str = DEFAULT_STREAM, domain: str | None = None) -> dict[str, Any]:
    """One ``prediction_classification_change`` event (prediction true when p > 0.5, as Lift Wing)."""
    p = score.probability
    meta: dict[str, Any] = {"stream": stream, "id": event_id(score.wiki, score.rev_id, score.model),
                            "dt": _iso(score.scored_at)}
    if domain:
        meta["domain"] = domain
    revision: dict[str, Any] = {"rev_id": score.rev_id}
    if score.parent_id is not None:
        revision["rev_parent_id"] = score.parent_id
    if score.event_dt:
        revision["rev_dt"] = score.event_dt
    if score.user is not None:
        revision["editor"] = {"user_text": score.user}
    event: dict[str, Any] = {
        "$schema": SCHEMA, "meta": meta, "dt": score.event_dt or _iso(score.scored_at), "wiki_id": score.wiki,
        "changelog_kind": "update", "page_change_kind": "edit",
    }
    if score.title is not None:
        event["page"] = {"page_title": score.title.replace(" ", "_"), "namespace_id": 0}
    event["revision"] = revision
    if score.user is not None:
        event["performer"] = {"user_text": score.user}
    event["predicted_classification"] = {
        "model_name": score.model, "model_version": str(score.model_version or ""),
        "predictions": ["true" if p > 0.5 else "false"],
        "probabilities": {"true": p, "false": round(1.0 - p, 12)},
    }
    return event


def write_events(events: Iterable[dict[str, Any]], out: TextIO) -> int:
    """JSON lines; return how many were written."""
    count = 0
    for event in events:
        out.write(json.dumps(event, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_scores_csv(scores: Iterable[StoredScore], out: TextIO) -> int:
    """CSV for notebooks; ``rev_id, probability, label, timestamp`` feed ``automod thresholds --input``."""
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for s in scores:
        writer.writerow({
            "wiki": s.wiki, "rev_id": s.rev_id, "model": s.model, "model_version": s.model_version or "",
            "probability": s.probability, "prediction": "true" if s.probability > 0.5 else "false",
            "label": "" if s.label is None else int(s.label), "timestamp": s.event_dt or _iso(s.scored_at),
            "scored_at": _iso(s.scored_at), "title": s.title or "", "user": s.user or "",
            "parent_id": s.parent_id or "", "event_id": event_id(s.wiki, s.rev_id, s.model)})
        count += 1
    return count


# -- posting to an EventGate ------------------------------------------------------------------------


@dataclass
class PostResult:
    accepted: int = 0
    requests: int = 0
    retried_events: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)  # EventGate's statuses, never resent


def _batches(items: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _status_ids(statuses: Any) -> set[str] | None:
    """meta.ids of the events in an EventGate status list; None if any cannot be identified."""
    if not isinstance(statuses, list):
        return set() if statuses is None else None
    ids = set()
    for status in statuses:
        try:
            ids.add(str(status["event"]["meta"]["id"]))
        except (KeyError, TypeError):
            return None
    return ids


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def post_events(events: Sequence[dict[str, Any]], url: str, *, user_agent: str, batch_size: int = 100,
                attempts: int = 5, retry: RetryPolicy = POST_RETRY, timeout: tuple[float, float] = (5.0, 30.0),
                session: requests.Session | None = None,
                sleep: Callable[[float], None] = time.sleep) -> PostResult:
    """POST ``events`` to an EventGate-style ``url`` in batches; resend only what failed.

    Raises ExportError when a batch still has failures after ``attempts`` tries, or on a
    refusal that retrying cannot fix (401, 403, 404, 413...): events of earlier batches have
    been delivered by then (``accepted`` in the message).
    """
    http = session or requests.Session()
    headers = {"Content-Type": "application/json", "User-Agent": user_agent}
    result = PostResult()
    for number, batch in enumerate(_batches(events, batch_size), 1):
        pending, problem = batch, ""
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                result.retried_events += len(pending)
            result.requests += 1
            wait: float | None = None
            try:
                response = http.post(url, data=json.dumps(pending, ensure_ascii=False).encode(), headers=headers,
                                     timeout=timeout)
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                pending, problem = _settle(response, pending, result)
                wait = _retry_after(response)
            if not pending:
                break
            log.warning("batch %d: %d events not accepted (%s), attempt %d of %d", number, len(pending), problem,
                        attempt, attempts)
            if attempt < attempts:
                sleep(wait if wait is not None else retry.delay(attempt))
        else:
            raise ExportError(f"{len(pending)} events of batch {number} not accepted by {url} after {attempts}"
                              f" attempts ({problem}); {result.accepted} accepted before")
    log.info("posted %d events to %s: %d accepted, %d invalid, %d requests", len(events), url, result.accepted,
             len(result.invalid), result.requests)
    return result


def _settle(response: requests.Response, pending: list[dict[str, Any]],
            result: PostResult) -> tuple[list[dict[str, Any]], str]:
    """Count what ``response`` accepted; return the events to resend and why."""
    status = response.status_code
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict) and ("invalid" in body or "error" in body):
        invalid, errored = _status_ids(body.get("invalid")), _status_ids(body.get("error"))
        if invalid is not None and errored is not None:
            ids = {e["meta"]["id"]: e for e in pending}
            result.invalid.extend(s for s in body.get("invalid") or [] if s["event"]["meta"]["id"] in ids)
            failed = invalid | errored
            result.accepted += sum(1 for i in ids if i not in failed)
            return [e for e in pending if e["meta"]["id"] in errored], f"HTTP {status}: {len(errored)} errored"
        return pending, f"HTTP {status} with unreadable event statuses"
    if 200 <= status < 300:
        result.accepted += len(pending)
        return [], ""
    if status in (408, 429) or status >= 500:
        return pending, f"HTTP {status}"
    raise ExportError(f"{response.request.url if response.request else 'receiver'} refused the events: "
                      f"HTTP {status} {response.text[:200]}")
