"""Scoring revisions with the revert-risk models on Lift Wing (WMF's inference service).

One call per revision: ``POST {url}{model}:predict`` with ``{"rev_id": N, "lang": "en"}``;
the revert probability is ``output.probabilities.true`` (reference: revert-risk-models.md
§1). Unlike AutoModerator's ``LiftWingClient.php`` (automoderator-and-peers.md §8), every
attempt carries the User-Agent (and token), timeouts are explicit, and retries are decided
by status code, never by the text of a message:

* 5xx, timeouts, connection errors: retried with capped exponential backoff;
* 429: retried after ``Retry-After`` (seconds or HTTP date, capped); counts as an attempt;
* 400, 422: :class:`Unscorable` at once (page creations, hidden revisions, unknown lang);
* other 4xx: :class:`ScoringError` at once; malformed 200 bodies: :class:`MalformedAnswer`
  at once (a passing fault to the bot, which decides the edit again later);
* all attempts failed: :class:`ScorerUnavailable`, or :class:`ScorerTimeout` when the last
  attempt timed out.

Every ``requests`` exception is translated here (``raise … from exc``); nothing above this
module sees one.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3.exceptions

from automod.errors import ScoringError
from automod.scoring.base import (
    KNOWN_LIFTWING_MODELS,
    Score,
    ScorerTimeout,
    ScorerUnavailable,
    UnknownModel,
    Unscorable,
    wiki_lang,
)

__all__ = ["DEFAULT_RETRY", "DEFAULT_TIMEOUTS", "DEFAULT_URL", "LiftWingRetry", "LiftWingScorer",
           "LiftWingStats", "MalformedAnswer", "Timeouts", "parse_retry_after"]

log = logging.getLogger("automod.scoring.liftwing")

#: Public Lift Wing base URL (api.wikimedia.org gateway); the model name and ``:predict`` follow.
DEFAULT_URL = "https://api.wikimedia.org/service/lw/inference/v1/models/"


class MalformedAnswer(ScoringError):
    """A 200 whose body is not the contract's: not retried here, but worth deciding the edit
    again later (a deploy or a proxy in a bad state passes; a refusal does not)."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and for each read of the answer (never unbounded)."""

    connect: float = 5.0
    read: float = 10.0

    def __post_init__(self) -> None:
        if not (self.connect > 0 and self.read > 0):
            raise ValueError(f"timeouts must be positive: {self}")


@dataclass(frozen=True)
class LiftWingRetry:
    """How often and how patiently to retry: ``attempts`` counts the first try."""

    attempts: int = 4
    initial: float = 0.5
    factor: float = 2.0
    cap: float = 8.0
    jitter: float = 0.1  # +/- this fraction of each backoff delay
    retry_after_default: float = 1.0  # minimum wait after a 429 that has no Retry-After
    retry_after_cap: float = 60.0  # never sleep longer than this, whatever the server asks

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (1 = after the first)."""
        base = min(self.cap, self.initial * self.factor ** max(0, failures - 1))
        return max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))


DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = LiftWingRetry()


@dataclass
class LiftWingStats:
    """Counters for the health report: HTTP requests made, retries, scores, errors by kind.

    Error kinds: ``timeout``, ``connection``, ``server_error``, ``rate_limited``,
    ``unscorable``, ``client_error``, ``unknown_model``, ``bad_response``.
    """

    requests: int = 0
    retries: int = 0
    scored: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    last_success: float | None = None  # time.time() of the last score

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "retries": self.retries, "scored": self.scored,
                "errors": dict(self.errors), "last_success": self.last_success}


@dataclass(frozen=True)
class _Failure:
    """A retryable failed attempt: the error to raise if it was the last one."""

    error: ScorerUnavailable
    kind: str
    cause: BaseException | None = None
    retry_after: float | None = None


class LiftWingScorer:
    """A :class:`automod.scoring.base.Scorer` backed by a Lift Wing revert-risk model.

    ``url`` is the models base URL (``DEFAULT_URL``); ``user_agent`` is required by the
    Wikimedia API policy (``<client>/<version> (<contact>) <library>/<version>``); ``token``
    (OAuth 2 access token) raises the rate limit. A ``session`` passed in stays the
    caller's to close. Not thread-safe: use one scorer per thread.
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        user_agent: str,
        token: str | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: LiftWingRetry = DEFAULT_RETRY,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if model not in KNOWN_LIFTWING_MODELS:
            raise UnknownModel(f"Lift Wing model {model!r} is not one of {', '.join(KNOWN_LIFTWING_MODELS)}")
        if not user_agent.strip():
            raise ValueError("a User-Agent is required by the Wikimedia API access policy")
        self.url = url if url.endswith("/") else url + "/"
        self.model = model
        self.endpoint = f"{self.url}{model}:predict"
        self.user_agent = user_agent
        self.timeouts = timeouts
        self.retry = retry
        self.stats = LiftWingStats()
        self._token = token
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep

    def __repr__(self) -> str:  # never shows the token
        return f"LiftWingScorer({self.endpoint!r})"

    def __enter__(self) -> LiftWingScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if this scorer opened it."""
        if self._own_session:
            self._session.close()

    def score(self, wiki: str, rev_id: int) -> Score:
        """Return Lift Wing's revert probability for ``rev_id`` on ``wiki`` (``enwiki``).

        Raises :class:`Unscorable` (the model cannot score this revision or wiki),
        :class:`ScorerUnavailable` / :class:`ScorerTimeout` (no answer after every retry),
        :class:`UnknownModel` (HTTP 404) or :class:`ScoringError` (refused, malformed answer).
        """
        body, lang = self._request_body(wiki, rev_id)
        attempts = self.retry.attempts
        failure: _Failure | None = None
        for attempt in range(1, attempts + 1):
            if failure is not None:
                wait = self._wait(failure, attempt - 1)
                log.warning("Lift Wing %s, %s rev %d, attempt %d/%d: %s; retrying in %.1f s",
                            self.model, wiki, rev_id, attempt - 1, attempts, failure.error, wait)
                self.stats.retries += 1
                self._sleep(wait)
            result = self._attempt(body, rev_id, lang)
            if isinstance(result, Score):
                self.stats.scored += 1
                self.stats.last_success = time.time()
                log.debug("%s rev %d: %s %.4f (v%s)", wiki, rev_id, self.model, result.probability, result.version)
                return result
            failure = result
        assert failure is not None
        log.warning("Lift Wing %s gave no score for %s rev %d after %d attempts: %s",
                    self.model, wiki, rev_id, attempts, failure.error)
        raise type(failure.error)(f"no score after {attempts} attempts: {failure.error}") from failure.cause

    def _request_body(self, wiki: str, rev_id: int) -> tuple[bytes, str]:
        """The JSON body for one revision, and the ``lang`` it names (for messages)."""
        try:
            lang = wiki_lang(wiki)
        except ValueError as exc:
            self.stats.errors["unscorable"] += 1
            raise Unscorable(str(exc), code="unsupported_wiki") from exc
        return json.dumps({"rev_id": rev_id, "lang": lang}).encode(), lang

    def _wait(self, failure: _Failure, failures: int) -> float:
        """Retry-After when the server sent one (capped), else backoff (at least the 429 default)."""
        if failure.retry_after is not None:
            return min(failure.retry_after, self.retry.retry_after_cap)
        wait = self.retry.delay(failures)
        return max(wait, self.retry.retry_after_default) if failure.kind == "rate_limited" else wait

    # -- one HTTP attempt ------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent, "Content-Type": "application/json",
                   "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _attempt(self, body: bytes, rev_id: int, lang: str) -> Score | _Failure:
        """Make one request: a Score, a retryable _Failure, or a raised ScoringError."""
        self.stats.requests += 1
        try:
            response = self._session.post(
                self.endpoint, data=body, headers=self._headers(),
                timeout=(self.timeouts.connect, self.timeouts.read), allow_redirects=False,
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            kind = _transport_failure(exc)
            if kind == "timeout":
                return self._failure(ScorerTimeout(f"timed out: {exc}"), kind, exc)
            if kind == "connection":
                return self._failure(ScorerUnavailable(f"connection failed: {exc}"), kind, exc)
            self.stats.errors["client_error"] += 1
            raise ScoringError(f"Lift Wing request could not be made: {exc}") from exc
        return self._handle(response, rev_id, lang)

    def _failure(self, error: ScorerUnavailable, kind: str, cause: BaseException | None = None,
                 retry_after: float | None = None) -> _Failure:
        self.stats.errors[kind] += 1
        return _Failure(error, kind, cause, retry_after)

    def _handle(self, response: requests.Response, rev_id: int, lang: str) -> Score | _Failure:
        status = response.status_code
        if status == 200:
            return self._parse(response.content, rev_id)
        message = _error_message(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            return self._failure(ScorerUnavailable(f"rate limited (HTTP 429): {message}"),
                                 "rate_limited", retry_after=retry_after)
        if status >= 500:
            return self._failure(ScorerUnavailable(f"HTTP {status}: {message}"),
                                 "server_error", retry_after=retry_after)
        if status in (400, 422):
            self.stats.errors["unscorable"] += 1
            log.debug("Lift Wing cannot score rev %d (%s): HTTP %d %s", rev_id, lang, status, message)
            match = _REASON.search(message)
            raise Unscorable(message, code=match.group(1) if match else None, status=status)
        if status == 404:
            self.stats.errors["unknown_model"] += 1
            raise UnknownModel(f"Lift Wing has no model at {self.endpoint}: {message}")
        kind = "client_error" if 400 <= status < 500 else "bad_response"
        self.stats.errors[kind] += 1
        raise ScoringError(f"Lift Wing refused the request (HTTP {status}): {message}")

    def _parse(self, content: bytes, rev_id: int) -> Score:
        """Read a 200 body strictly; anything unexpected is a ScoringError, not a guess."""
        try:
            data = json.loads(content)
            output = data["output"]
            p = output["probabilities"]["true"]
            version = data["model_version"]
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p):
                raise ValueError(f"probabilities.true is {p!r}")
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"probabilities.true {p!r} is outside [0, 1]")
            if not isinstance(version, str):
                raise ValueError(f"model_version is {version!r}")
            if data.get("model_name", self.model) != self.model:
                raise ValueError(f"model_name is {data['model_name']!r}")
            if data.get("revision_id", rev_id) != rev_id:
                raise ValueError(f"revision_id is {data['revision_id']!r}")
        except (ValueError, KeyError, TypeError) as exc:
            self.stats.errors["bad_response"] += 1
            raise MalformedAnswer(f"unexpected Lift Wing response: {_describe(exc)}") from exc
        return Score(probability=float(p), model=self.model, version=version)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (delay or HTTP date), or None.

    None when the header is missing or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _transport_failure(exc: BaseException) -> str | None:
    """``timeout`` or ``connection`` for failures a retry may cure; None for a bad URL etc."""
    args = getattr(exc, "args", ())
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)) or any(
            isinstance(a, urllib3.exceptions.TimeoutError) for a in args):  # timeout mid-body
        return "timeout"
    if isinstance(exc, requests.RequestException):  # (an OSError too, so test it first)
        transient = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)
        return "connection" if isinstance(exc, transient) else None
    return "connection"  # urllib3 or socket errors that slipped past requests


def _error_message(response: requests.Response) -> str:
    """The server's own words: ``detail`` (FastAPI) or ``error`` (KServe), else the text."""
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    text = response.text.strip() or response.reason or f"HTTP {response.status_code}"
    if isinstance(data, dict):
        for key in ("detail", "error", "httpReason", "message"):
            if key in data:
                text = data[key] if isinstance(data[key], str) else json.dumps(data[key])
                break
    return text[:500]


#: The reason code in either 422 wording: ``Reason: ['parent_revision_missing']`` (RRLA,
#: batch class) or ``Reason: parent_revision_missing`` (RRML).
_REASON = re.compile(r"Reason: \[?'?([A-Za-z_]+)")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return f"body is not JSON ({exc.msg})" if isinstance(exc, json.JSONDecodeError) else str(exc)
