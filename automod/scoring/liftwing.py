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

Several revisions of one wiki for the language-agnostic model (:meth:`LiftWingScorer.score_many`,
:meth:`~LiftWingScorer.prefetch`) go in Lift Wing's batch form, up to 20 a request, retried
as singles are; a revision listed in the answer's ``errors`` is :class:`Unscorable` exactly as
its own 422 would make it (liftwing_batch.py). A server that refuses the batch form (400/404:
older than it) is asked one revision at a time from then on.

Every ``requests`` exception is translated here (``raise … from exc``); nothing above this
module sees one.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

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
from automod.scoring.liftwing_batch import BATCH_MAX, BATCH_MODELS, batch_body, failed_codes, single_detail
from automod.scoring.liftwing_policy import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUTS,
    REASON,
    LiftWingRetry,
    LiftWingStats,
    Timeouts,
    describe,
    error_message,
    parse_retry_after,
    transport_failure,
)

__all__ = ["DEFAULT_RETRY", "DEFAULT_TIMEOUTS", "DEFAULT_URL", "LiftWingRetry", "LiftWingScorer",
           "LiftWingStats", "MalformedAnswer", "Timeouts", "parse_retry_after"]

log = logging.getLogger("automod.scoring.liftwing")

T = TypeVar("T")
#: Batch answers kept for revisions not asked for yet (skipped later): past this the oldest go.
PREFETCHED_MAX = 256

#: Public Lift Wing base URL (api.wikimedia.org gateway); the model name and ``:predict`` follow.
DEFAULT_URL = "https://api.wikimedia.org/service/lw/inference/v1/models/"


class MalformedAnswer(ScoringError):
    """A 200 whose body is not the contract's: not retried here, but worth deciding the edit
    again later (a deploy or a proxy in a bad state passes; a refusal does not)."""


@dataclass(frozen=True)
class _Failure:
    """A retryable failed attempt: the error to raise if it was the last one."""

    error: ScorerUnavailable
    kind: str
    cause: BaseException | None = None
    retry_after: float | None = None


class _NoBatch(Exception):
    """The server refused the batch form (400/404): it predates it; ask one by one."""


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
        self._batch_refused = False  # set when the server answers the batch form 400/404
        self._ready: OrderedDict[tuple[str, int], Score | Unscorable] = OrderedDict()

    @property
    def batches(self) -> bool:
        """Whether several revisions go in one request: Lift Wing's batch form, for the
        language-agnostic model, unless this server refused it."""
        return self.model in BATCH_MODELS and not self._batch_refused

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
        ready = self._ready.pop((wiki, rev_id), None)
        if isinstance(ready, Unscorable):
            raise ready
        if ready is not None:
            return ready
        body, lang = self._request_body(wiki, rev_id)
        score = self._with_retries(body, lambda response: self._handle(response, rev_id, lang), f"{wiki} rev {rev_id}")
        self._scored(1)
        log.debug("%s rev %d: %s %.4f (v%s)", wiki, rev_id, self.model, score.probability, score.version)
        return score

    def score_many(self, wiki: str, rev_ids: Sequence[int]) -> list[Score | ScoringError]:
        """Each revision's Score, or the error its own :meth:`score` would raise, in order.

        The language-agnostic model is asked in batches of up to 20 revisions (one request
        each, retried as a single one is); a batch that gets no answer gives every revision
        in it that error. Other models, or a server without the batch form, one by one.
        """
        unique = list(dict.fromkeys(rev_ids))
        outcomes: dict[int, Score | ScoringError] = {}
        todo = [rev_id for rev_id in unique if (wiki, rev_id) not in self._ready]
        try:
            lang = wiki_lang(wiki)
        except ValueError:
            lang = ""  # each is Unscorable below, without a request
        for start in range(0, len(todo), BATCH_MAX):
            chunk = todo[start:start + BATCH_MAX]
            if self.batches and lang and len(chunk) > 1:
                outcomes.update(self._batch(wiki, lang, chunk))
        for rev_id in unique:
            if rev_id not in outcomes:
                try:
                    outcomes[rev_id] = self.score(wiki, rev_id)
                except ScoringError as exc:
                    outcomes[rev_id] = exc
        return [outcomes[rev_id] for rev_id in rev_ids]

    def prefetch(self, wiki: str, rev_ids: Sequence[int]) -> int:
        """Score revisions waiting to be decided in batch requests, so :meth:`score` answers
        each from memory (its score, or the Unscorable its own request would raise). Other
        failures are left for :meth:`score` to meet again. The multilingual model (no batch
        form on Lift Wing) is left alone. Returns how many revisions were answered."""
        todo = [r for r in dict.fromkeys(rev_ids) if (wiki, r) not in self._ready]
        if not self.batches or len(todo) < 2:
            return 0
        answered = 0
        for rev_id, outcome in zip(todo, self.score_many(wiki, todo)):
            if isinstance(outcome, (Score, Unscorable)):
                self._ready[(wiki, rev_id)] = outcome
                answered += 1
        while len(self._ready) > PREFETCHED_MAX:
            self._ready.popitem(last=False)
        return answered

    def _batch(self, wiki: str, lang: str, rev_ids: list[int]) -> dict[int, Score | ScoringError]:
        """One batch request (with retries): an outcome per revision, or {} when the server
        refused the batch form (then never asked in it again)."""
        what = f"{wiki} batch of {len(rev_ids)}"
        try:
            return self._with_retries(batch_body(lang, rev_ids),
                                      lambda response: self._handle_batch(response, lang, rev_ids), what)
        except _NoBatch as exc:
            self._batch_refused = True
            log.info("Lift Wing %s refused the batch form (%s); scoring one revision per request", self.model, exc)
            return {}
        except ScoringError as exc:
            return {rev_id: exc for rev_id in rev_ids}

    def _with_retries(self, body: bytes, handle: Callable[[requests.Response], T | _Failure], what: str) -> T:
        """Post ``body`` until ``handle`` makes something of an answer, or attempts run out."""
        attempts = self.retry.attempts
        failure: _Failure | None = None
        for attempt in range(1, attempts + 1):
            if failure is not None:
                wait = self._wait(failure, attempt - 1)
                log.warning("Lift Wing %s, %s, attempt %d/%d: %s; retrying in %.1f s",
                            self.model, what, attempt - 1, attempts, failure.error, wait)
                self.stats.retries += 1
                self._sleep(wait)
            result = self._attempt(body, handle)
            if not isinstance(result, _Failure):
                return result
            failure = result
        assert failure is not None
        log.warning("Lift Wing %s gave no score for %s after %d attempts: %s",
                    self.model, what, attempts, failure.error)
        raise type(failure.error)(f"no score after {attempts} attempts: {failure.error}") from failure.cause

    def _scored(self, count: int) -> None:
        self.stats.scored += count
        if count:
            self.stats.last_success = time.time()

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

    def _attempt(self, body: bytes, handle: Callable[[requests.Response], T | _Failure]) -> T | _Failure:
        """Make one request: what ``handle`` makes of the answer, a retryable _Failure, or a
        raised ScoringError."""
        self.stats.requests += 1
        try:
            response = self._session.post(
                self.endpoint, data=body, headers=self._headers(),
                timeout=(self.timeouts.connect, self.timeouts.read), allow_redirects=False,
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            kind = transport_failure(exc)
            if kind == "timeout":
                return self._failure(ScorerTimeout(f"timed out: {exc}"), kind, exc)
            if kind == "connection":
                return self._failure(ScorerUnavailable(f"connection failed: {exc}"), kind, exc)
            self.stats.errors["client_error"] += 1
            raise ScoringError(f"Lift Wing request could not be made: {exc}") from exc
        return handle(response)

    def _failure(self, error: ScorerUnavailable, kind: str, cause: BaseException | None = None,
                 retry_after: float | None = None) -> _Failure:
        self.stats.errors[kind] += 1
        return _Failure(error, kind, cause, retry_after)

    def _retryable(self, response: requests.Response, message: str) -> _Failure | None:
        """A 429 or 5xx as a failure worth another attempt; None for any other status."""
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            return self._failure(ScorerUnavailable(f"rate limited (HTTP 429): {message}"),
                                 "rate_limited", retry_after=retry_after)
        if status >= 500:
            return self._failure(ScorerUnavailable(f"HTTP {status}: {message}"),
                                 "server_error", retry_after=retry_after)
        return None

    def _refused(self, status: int, message: str) -> ScoringError:
        """The error for a status neither scored, retried nor unscorable."""
        if status == 404:
            self.stats.errors["unknown_model"] += 1
            return UnknownModel(f"Lift Wing has no model at {self.endpoint}: {message}")
        kind = "client_error" if 400 <= status < 500 else "bad_response"
        self.stats.errors[kind] += 1
        return ScoringError(f"Lift Wing refused the request (HTTP {status}): {message}")

    def _handle(self, response: requests.Response, rev_id: int, lang: str) -> Score | _Failure:
        status = response.status_code
        if status == 200:
            return self._parse(response.content, rev_id)
        message = error_message(response)
        failure = self._retryable(response, message)
        if failure is not None:
            return failure
        if status in (400, 422):
            self.stats.errors["unscorable"] += 1
            log.debug("Lift Wing cannot score rev %d (%s): HTTP %d %s", rev_id, lang, status, message)
            match = REASON.search(message)
            code = match.group(1) if match else None
            # A reason code becomes the one sentence a batch records too (no Python reprs).
            reason = single_detail(rev_id, lang, code) if code and status == 422 else message
            raise Unscorable(reason, code=code, status=status)
        raise self._refused(status, message)

    def _handle_batch(self, response: requests.Response, lang: str,
                      rev_ids: list[int]) -> dict[int, Score | ScoringError] | _Failure:
        """A batch answer: a score or an Unscorable per revision (MalformedAnswer for one
        the answer is silent about); raises _NoBatch when the form itself was refused."""
        status = response.status_code
        if status == 200:
            try:
                data = json.loads(response.content)
                answers = {item["revision_id"]: item for item in data["predictions"]}
                scores = {rev_id: self._read(answers[rev_id], rev_id) for rev_id in rev_ids if rev_id in answers}
                codes = failed_codes(data.get("errors", []))
            except (ValueError, KeyError, TypeError) as exc:
                self.stats.errors["bad_response"] += 1
                raise MalformedAnswer(f"unexpected Lift Wing batch response: {describe(exc)}") from exc
            self._scored(len(scores))
        elif status == 422:  # none could be scored: the detail names each (unabridged, unlike message)
            scores, codes = {}, failed_codes(_detail(response.content))
        else:  # the body is read as an error only here: a 200 or a 422 is parsed once, above
            message = error_message(response)
            if (failure := self._retryable(response, message)) is not None:
                return failure
            if status in (400, 404):
                raise _NoBatch(f"HTTP {status}: {message}")
            raise self._refused(status, message)
        outcomes: dict[int, Score | ScoringError] = dict(scores)
        for rev_id in rev_ids:
            if rev_id in outcomes:
                continue
            if rev_id in codes:
                self.stats.errors["unscorable"] += 1
                outcomes[rev_id] = Unscorable(single_detail(rev_id, lang, codes[rev_id]), code=codes[rev_id],
                                              status=422)
            else:
                self.stats.errors["bad_response"] += 1
                outcomes[rev_id] = MalformedAnswer(
                    f"Lift Wing's batch answer (HTTP {status}) says nothing of rev {rev_id}")
        return outcomes

    def _parse(self, content: bytes, rev_id: int) -> Score:
        """Read a 200 body strictly; anything unexpected is a ScoringError, not a guess."""
        try:
            data = json.loads(content)
        except ValueError as exc:
            self.stats.errors["bad_response"] += 1
            raise MalformedAnswer(f"unexpected Lift Wing response: {describe(exc)}") from exc
        return self._read(data, rev_id)

    def _read(self, data: Any, rev_id: int) -> Score:
        """One revision's answer (a single 200 body, or an item of a batch's ``predictions``)."""
        try:
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
            raise MalformedAnswer(f"unexpected Lift Wing response: {describe(exc)}") from exc
        return Score(probability=float(p), model=self.model, version=version)


def _detail(content: bytes) -> Any:
    """A FastAPI error body's ``detail``, whole; None when there is none."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    return data.get("detail") if isinstance(data, dict) else None
