"""LiftWingScorer against a local stand-in that speaks Lift Wing's contract (loopback only)."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from automod.errors import ScoringError
from automod.scoring import (
    FunctionScorer,
    LiftWingRetry,
    LiftWingScorer,
    Score,
    Scorer,
    ScorerTimeout,
    ScorerUnavailable,
    Timeouts,
    UnknownModel,
    Unscorable,
    wiki_lang,
)
from automod.scoring.liftwing import parse_retry_after
from support.liftwing_standin import BASE_PATH, LA, ML, UA, LiftWingStandin, running_standin

NO_JITTER = LiftWingRetry(attempts=4, initial=0.5, cap=8.0, jitter=0.0)

MakeScorer = Callable[..., LiftWingScorer]


@pytest.fixture
def make_scorer(liftwing: LiftWingStandin, sleeps: list[float]) -> Iterator[MakeScorer]:
    sessions: list[requests.Session] = []

    def make(model: str = LA, **kwargs: Any) -> LiftWingScorer:
        session = requests.Session()
        session.trust_env = False  # loopback only: never through an environment proxy
        sessions.append(session)
        kwargs.setdefault("user_agent", UA)
        kwargs.setdefault("retry", NO_JITTER)
        kwargs.setdefault("timeouts", Timeouts(connect=2.0, read=2.0))
        kwargs.setdefault("sleep", sleeps.append)
        return LiftWingScorer(kwargs.pop("url", liftwing.url), model, session=session, **kwargs)

    yield make
    for session in sessions:
        session.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- scores --------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "version"), [(LA, "3"), (ML, "4")])
def test_score_is_revert_probability_with_model_and_version(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, model: str, version: str) -> None:
    liftwing.set_score(7, 0.93)
    assert make_scorer(model).score("sandboxwiki", 7) == Score(0.93, model, version)


def test_unset_revision_gets_the_standin_default_score(make_scorer: MakeScorer) -> None:
    assert make_scorer().score("sandboxwiki", 8).probability == 0.1


def test_request_body_path_and_headers_follow_liftwing_contract(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    make_scorer().score("zh_min_nanwiki", 42)
    (request,) = liftwing.requests
    assert request.method == "POST"
    assert request.path == f"{BASE_PATH}{LA}:predict"
    assert request.json() == {"rev_id": 42, "lang": "zh-min-nan"}
    assert request.headers["user-agent"] == UA
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers


def test_bearer_token_is_sent_when_given_and_never_shown(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    scorer = make_scorer(token="s3cret")
    scorer.score("sandboxwiki", 1)
    assert liftwing.requests[0].headers["authorization"] == "Bearer s3cret"
    assert "s3cret" not in repr(scorer)


def test_user_agent_and_token_are_sent_on_every_retry(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    liftwing.fail_next(500, times=2)
    make_scorer(token="s3cret").score("sandboxwiki", 1)
    assert len(liftwing.requests) == 3
    assert {r.headers["user-agent"] for r in liftwing.requests} == {UA}
    assert {r.headers["authorization"] for r in liftwing.requests} == {"Bearer s3cret"}


# -- retries -------------------------------------------------------------------------


def test_server_error_then_success_scores_after_one_retry(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.set_score(5, 0.7)
    liftwing.fail_next(500)
    scorer = make_scorer()
    assert scorer.score("sandboxwiki", 5).probability == 0.7
    assert len(liftwing.requests) == 2
    assert sleeps == [0.5]
    assert scorer.stats.as_dict() | {"last_success": None} == {
        "requests": 2, "retries": 1, "scored": 1, "errors": {"server_error": 1}, "last_success": None}


def test_persistent_503_raises_unavailable_after_all_attempts_with_backoff(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.fail_next(503, times=10)
    with pytest.raises(ScorerUnavailable, match="after 4 attempts.*HTTP 503.*upstream") as info:
        make_scorer().score("sandboxwiki", 1)
    assert not isinstance(info.value, ScorerTimeout)
    assert len(liftwing.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_is_capped(liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.fail_next(502, times=10)
    with pytest.raises(ScorerUnavailable):
        make_scorer(retry=LiftWingRetry(attempts=6, initial=0.5, cap=3.0, jitter=0.0)).score("sandboxwiki", 1)
    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_hanging_response_times_out_then_retry_succeeds(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    liftwing.hang_next(1.0)
    scorer = make_scorer(timeouts=Timeouts(connect=1.0, read=0.3))
    assert scorer.score("sandboxwiki", 3) == Score(0.1, LA, "3")
    assert len(liftwing.requests) == 2
    assert scorer.stats.errors == {"timeout": 1}


def test_hanging_on_every_attempt_raises_scorer_timeout(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    liftwing.hang_next(1.0, times=2)
    scorer = make_scorer(timeouts=Timeouts(connect=1.0, read=0.2), retry=LiftWingRetry(attempts=2, jitter=0.0))
    with pytest.raises(ScorerTimeout, match="after 2 attempts") as info:
        scorer.score("sandboxwiki", 3)
    assert isinstance(info.value.__cause__, requests.Timeout)


def test_rate_limited_waits_retry_after_then_succeeds(liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    liftwing.fail_next(429, retry_after=1)
    start = time.monotonic()
    score = make_scorer(sleep=time.sleep).score("sandboxwiki", 2)
    assert time.monotonic() - start >= 1.0
    assert score.probability == 0.1
    first, second = liftwing.requests
    assert second.received_at - first.received_at >= 1.0


def test_retry_after_http_date_is_honoured(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.fail_next(429, retry_after=email.utils.formatdate(time.time() + 30, usegmt=True))
    make_scorer().score("sandboxwiki", 2)
    assert len(sleeps) == 1 and 28.0 <= sleeps[0] <= 30.5


def test_retry_after_is_capped(liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.fail_next(429, retry_after=3600)
    make_scorer().score("sandboxwiki", 2)
    assert sleeps == [60.0]


def test_rate_limit_without_retry_after_waits_the_default(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.fail_next(429)
    make_scorer().score("sandboxwiki", 2)
    assert sleeps == [1.0]


def test_retry_after_on_503_is_honoured(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.fail_next(503, retry_after=2)
    make_scorer().score("sandboxwiki", 2)
    assert sleeps == [2.0]


def test_rate_limited_on_every_attempt_raises_unavailable(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    liftwing.fail_next(429, retry_after=0, times=10)
    scorer = make_scorer()
    with pytest.raises(ScorerUnavailable, match="rate limited"):
        scorer.score("sandboxwiki", 2)
    assert len(liftwing.requests) == 4
    assert scorer.stats.errors == {"rate_limited": 4}


def test_connection_refused_raises_unavailable_after_all_attempts(
        make_scorer: MakeScorer, sleeps: list[float]) -> None:
    scorer = make_scorer(url=f"http://127.0.0.1:{free_port()}{BASE_PATH}")
    with pytest.raises(ScorerUnavailable, match="connection failed") as info:
        scorer.score("sandboxwiki", 1)
    assert not isinstance(info.value, ScorerTimeout)
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert len(sleeps) == 3
    assert scorer.stats.errors == {"connection": 4}


# -- refusals: never retried ---------------------------------------------------------


def test_unscorable_revision_raises_unscorable_after_exactly_one_request(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, sleeps: list[float]) -> None:
    liftwing.set_unscorable(123, lang="en")
    with pytest.raises(Unscorable) as info:
        make_scorer().score("enwiki", 123)
    assert info.value.status == 422
    assert info.value.code == "parent_revision_missing"
    # Lift Wing's batch-class wording (Python reprs) is recorded as the plain sentence a batch records.
    assert info.value.reason == "Could not make prediction for revision 123 (en). Reason: parent_revision_missing"
    assert len(liftwing.requests) == 1 and sleeps == []


def test_multilingual_unscorable_detail_gives_the_reason_code(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    liftwing.set_unscorable(9, reason="revision_info_deleted")
    with pytest.raises(Unscorable) as info:
        make_scorer(ML).score("sandboxwiki", 9)
    assert info.value.code == "revision_info_deleted"
    assert info.value.reason == "Could not make prediction for revision 9 (sandbox). Reason: revision_info_deleted"


def test_unknown_lang_400_raises_unscorable_without_retry(make_scorer: MakeScorer) -> None:
    with running_standin(known_langs={"en"}) as standin:
        with pytest.raises(Unscorable, match="lang 'sandbox' does not exist") as info:
            make_scorer(url=standin.url).score("sandboxwiki", 1)
        assert info.value.status == 400
        assert len(standin.requests) == 1


def test_non_wikipedia_db_name_is_unscorable_without_a_request(
        liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    with pytest.raises(Unscorable) as info:
        make_scorer().score("enwiktionary", 1)
    assert info.value.code == "unsupported_wiki"
    assert liftwing.requests == []


@pytest.mark.parametrize("status", [401, 403, 405])
def test_other_client_errors_raise_scoring_error_without_retry(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, status: int) -> None:
    liftwing.fail_next(status, body=b'{"error": "no"}')
    with pytest.raises(ScoringError, match=f"HTTP {status}.*no") as info:
        make_scorer().score("sandboxwiki", 1)
    assert not isinstance(info.value, (Unscorable, ScorerUnavailable))
    assert len(liftwing.requests) == 1


def test_missing_model_path_raises_unknown_model(liftwing: LiftWingStandin, make_scorer: MakeScorer) -> None:
    with pytest.raises(UnknownModel, match="does not exist"):
        make_scorer(url=liftwing.url.replace("/v1/", "/v2/")).score("sandboxwiki", 1)
    assert len(liftwing.requests) == 1


def test_unknown_model_name_is_refused_before_any_request() -> None:
    with pytest.raises(UnknownModel):
        LiftWingScorer("http://127.0.0.1:9/", "damaging", user_agent=UA)


@pytest.mark.parametrize("body", [
    pytest.param(b"<html>oops</html>", id="not_json"),
    pytest.param(b"[]", id="not_an_object"),
    pytest.param(b'{"model_version": "3"}', id="no_output"),
    pytest.param(b'{"model_version": "3", "output": {"prediction": true}}', id="no_probabilities"),
    pytest.param(b'{"model_version": "3", "output": {"probabilities": {"true": "0.9"}}}', id="string_p"),
    pytest.param(b'{"model_version": "3", "output": {"probabilities": {"true": 1.5}}}', id="p_above_1"),
    pytest.param(b'{"model_version": "3", "output": {"probabilities": {"true": true}}}', id="bool_p"),
    pytest.param(b'{"model_version": "3", "output": {"probabilities": {"true": NaN}}}', id="nan_p"),
    pytest.param(b'{"output": {"probabilities": {"true": 0.5}}}', id="no_version"),
    pytest.param(b'{"model_version": 3, "output": {"probabilities": {"true": 0.5}}}', id="int_version"),
    pytest.param(b'{"model_name": "revertrisk-multilingual", "model_version": "3",'
                 b' "output": {"probabilities": {"true": 0.5}}}', id="other_model"),
    pytest.param(b'{"revision_id": 2, "model_version": "3", "output": {"probabilities": {"true": 0.5}}}',
                 id="other_revision"),
])
def test_malformed_200_body_raises_scoring_error_without_retry(
        liftwing: LiftWingStandin, make_scorer: MakeScorer, body: bytes) -> None:
    liftwing.reply_next(body)
    with pytest.raises(ScoringError, match="unexpected Lift Wing response") as info:
        make_scorer().score("sandboxwiki", 1)
    assert not isinstance(info.value, (Unscorable, ScorerUnavailable))
    assert len(liftwing.requests) == 1


# -- the boundary: no requests exception escapes -------------------------------------


def _all_request_exceptions() -> list[type[requests.RequestException]]:
    found, todo = [], [requests.RequestException]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


class _RaisingSession:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        raise self.exc

    def close(self) -> None:
        pass


@pytest.mark.parametrize("cls", _all_request_exceptions(), ids=lambda c: c.__name__)
def test_every_requests_exception_becomes_a_scoring_error(cls: type[requests.RequestException]) -> None:
    try:
        exc = cls("boom")
    except TypeError:
        exc = cls("boom", "", 0)  # JSONDecodeError's signature
    session = _RaisingSession(exc)
    scorer = LiftWingScorer("http://127.0.0.1:9/", LA, user_agent=UA, session=session,  # type: ignore[arg-type]
                            retry=NO_JITTER, sleep=lambda s: None)
    with pytest.raises(ScoringError) as info:
        scorer.score("sandboxwiki", 1)
    assert info.value.__cause__ is exc
    if issubclass(cls, requests.Timeout):
        assert isinstance(info.value, ScorerTimeout) and session.calls == 4
    elif issubclass(cls, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        assert isinstance(info.value, ScorerUnavailable) and session.calls == 4


# -- helpers and doubles -------------------------------------------------------------


@pytest.mark.parametrize(("dbname", "lang"), [
    ("enwiki", "en"), ("simplewiki", "simple"), ("zh_min_nanwiki", "zh-min-nan"),
    ("be_x_oldwiki", "be-x-old"), ("sandboxwiki", "sandbox"), ("testwiki", "test"), ("zh_yuewiki", "zh-yue"),
])
def test_wiki_lang_strips_wiki_and_hyphenates(dbname: str, lang: str) -> None:
    assert wiki_lang(dbname) == lang


@pytest.mark.parametrize("dbname", ["enwiktionary", "wikidata", "wiki", ""])
def test_wiki_lang_refuses_names_not_ending_in_wiki(dbname: str) -> None:
    with pytest.raises(ValueError):
        wiki_lang(dbname)


@pytest.mark.parametrize(("value", "seconds"), [
    (None, None), ("1", 1.0), ("0", 0.0), ("2.5", 2.5), ("-3", 0.0), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0), ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
])
def test_parse_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    assert parse_retry_after(value, now=now) == seconds


def test_injected_session_stays_open_after_close(liftwing: LiftWingStandin) -> None:
    class Tracking(requests.Session):
        closed = False

        def close(self) -> None:
            self.closed = True
            super().close()

    session = Tracking()
    LiftWingScorer(liftwing.url, LA, user_agent=UA, session=session).close()
    assert not session.closed
    session.close()


def test_function_scorer_wraps_floats_and_passes_scores_and_errors_through() -> None:
    def fn(wiki: str, rev_id: int) -> float | Score:
        if rev_id == 3:
            raise Unscorable("page creation", code="parent_revision_missing")
        return Score(0.5, "other", "9") if rev_id == 2 else 0.25

    scorer = FunctionScorer(fn, model="fake", version="1")
    assert isinstance(scorer, Scorer)
    assert scorer.score("enwiki", 1) == Score(0.25, "fake", "1")
    assert scorer.score("enwiki", 2) == Score(0.5, "other", "9")
    with pytest.raises(Unscorable):
        scorer.score("enwiki", 3)
    assert scorer.calls == [("enwiki", 1), ("enwiki", 2), ("enwiki", 3)]
    scorer.close()
    assert scorer.closed


def test_liftwing_scorer_satisfies_the_scorer_protocol(make_scorer: MakeScorer) -> None:
    assert isinstance(make_scorer(), Scorer)


@pytest.mark.parametrize("p", [-0.1, 1.1, float("nan"), True])
def test_score_refuses_probabilities_outside_0_1(p: float) -> None:
    with pytest.raises(ValueError):
        Score(p, LA, "3")


# -- the stand-in speaks Lift Wing's contract ----------------------------------------


@pytest.mark.parametrize(("body", "status", "answer"), [
    (b"not json", 400, {"error": "Please verify that request input is a json dict"}),
    (b'{"rev_id": 1}', 400, {"error": "The parameter lang is required."}),
    (b'{"lang": "en"}', 400, {"error": "The parameter rev_id is required."}),
    (b'{"lang": "en", "rev_id": "1"}', 400, {"error": 'Expected "rev_id" to be a int.'}),
    (b'{"lang": "enwiki", "rev_id": 1}', 400,
     {"error": "Language field should not have a 'wiki' suffix, i.e. use 'en', not 'enwiki'"}),
    (b'{"lang": "en", "rev_id": 1}', 200,
     {"model_name": LA, "model_version": "3", "wiki_db": "enwiki", "revision_id": 1,
      "output": {"prediction": False, "probabilities": {"true": 0.1, "false": 0.9}}}),
])
def test_standin_validates_bodies_like_liftwing(
        liftwing: LiftWingStandin, body: bytes, status: int, answer: dict[str, Any]) -> None:
    with requests.Session() as session:
        session.trust_env = False
        response = session.post(f"{liftwing.url}{LA}:predict", data=body, timeout=5)
    assert (response.status_code, response.json()) == (status, answer)
