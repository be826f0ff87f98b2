"""Lift Wing's batch form: the stand-in serves it as LW ``batch_model.py`` does, and the bot's
LiftWingScorer sends a wiki's waiting revisions in it (one request per 20), reading each
unscorable revision exactly as its own 422 would read, and asking one by one when the server
predates the batch form."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from automod.scoring import (
    LiftWingRetry,
    LiftWingScorer,
    MalformedAnswer,
    Score,
    ScorerUnavailable,
    Timeouts,
    Unscorable,
)
from support.liftwing_standin import LA, ML, UA, LiftWingStandin, running_standin


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # loopback only
        yield s


def scorer_for(standin: LiftWingStandin, session: requests.Session, sleeps: list[float],
               model: str = LA) -> LiftWingScorer:
    return LiftWingScorer(standin.url, model, user_agent=UA, session=session, sleep=sleeps.append,
                          retry=LiftWingRetry(attempts=3, initial=0.5, jitter=0.0), timeouts=Timeouts(2.0, 2.0))


@pytest.fixture
def scorer(liftwing: LiftWingStandin, session: requests.Session, sleeps: list[float]) -> LiftWingScorer:
    return scorer_for(liftwing, session, sleeps)


def bodies(standin: LiftWingStandin) -> list[Any]:
    return [r.json() for r in standin.requests]


def post(standin: LiftWingStandin, body: object, model: str = LA) -> tuple[int, Any]:
    with requests.Session() as s:
        s.trust_env = False
        response = s.post(f"{standin.url}{model}:predict", json=body, timeout=5)
    return response.status_code, response.json()


def instances(*rev_ids: int, lang: str = "en") -> dict[str, Any]:
    return {"instances": [{"lang": lang, "rev_id": rev_id} for rev_id in rev_ids]}


# -- the stand-in answers the batch form as Lift Wing does -----------------------------


def test_standin_batch_lists_unscorable_revisions_in_errors(liftwing: LiftWingStandin) -> None:
    liftwing.set_score(1, 0.9, lang="en")
    liftwing.set_unscorable(2, lang="en")
    status, body = post(liftwing, instances(1, 2))
    assert status == 200 and set(body) == {"predictions", "errors"}
    assert [(p["revision_id"], p["output"]["probabilities"]["true"]) for p in body["predictions"]] == [(1, 0.9)]
    assert body["errors"] == ["Could not make prediction for revision 2 (en). Reason: parent_revision_missing"]


@pytest.mark.parametrize(("body", "status", "answer"), [
    (instances(*range(1, 22)), 400, {"error": "Only accept a maximum of 20 rev_ids in the request."}),
    ({"instances": [{"lang": "en", "rev_id": 1}, {"lang": "fr", "rev_id": 2}]}, 400,
     {"error": "Requesting multiple revisions should have the same language."}),
    ({"instances": [{"lang": "en"}]}, 400, {"error": "The parameter rev_id is required."}),
], ids=["21 revisions", "two langs", "no rev_id"])
def test_standin_refuses_batches_lift_wing_refuses(
        liftwing: LiftWingStandin, body: dict[str, Any], status: int, answer: dict[str, str]) -> None:
    assert post(liftwing, body) == (status, answer)


def test_standin_answers_422_when_no_revision_of_a_batch_is_scorable(liftwing: LiftWingStandin) -> None:
    liftwing.set_unscorable(1, lang="en")
    liftwing.set_unscorable(2, lang="en", reason="revision_info_deleted")
    assert post(liftwing, instances(1, 2)) == (422, {"detail": (
        "Could not make prediction for revisions dict_keys([(1, 'en'), (2, 'en')]). "
        "Reason: ['parent_revision_missing', 'revision_info_deleted']")})


def test_standin_multilingual_model_has_no_batch_form(liftwing: LiftWingStandin) -> None:
    assert post(liftwing, instances(1, 2), model=ML) == (400, {"error": "The parameter lang is required."})


# -- the client -------------------------------------------------------------------------


def test_waiting_revisions_are_scored_in_one_request(liftwing: LiftWingStandin, scorer: LiftWingScorer) -> None:
    for rev_id, p in ((11, 0.2), (12, 0.95), (13, 0.5)):
        liftwing.set_score(rev_id, p, lang="en")
    outcomes = scorer.score_many("enwiki", [11, 12, 13])
    assert outcomes == [Score(0.2, LA, "3"), Score(0.95, LA, "3"), Score(0.5, LA, "3")]
    assert bodies(liftwing) == [instances(11, 12, 13)]
    assert scorer.stats.requests == 1 and scorer.stats.scored == 3


def test_more_than_twenty_revisions_go_in_requests_of_twenty(
        liftwing: LiftWingStandin, scorer: LiftWingScorer) -> None:
    outcomes = scorer.score_many("enwiki", list(range(1, 46)))
    assert all(isinstance(o, Score) for o in outcomes) and len(outcomes) == 45
    assert [len(body["instances"]) for body in bodies(liftwing)] == [20, 20, 5]


def test_an_errors_entry_makes_only_that_revision_unscorable_as_its_own_422_would(
        liftwing: LiftWingStandin, scorer: LiftWingScorer) -> None:
    liftwing.set_unscorable(22, lang="en")
    first, second, third = scorer.score_many("enwiki", [21, 22, 23])
    assert isinstance(first, Score) and isinstance(third, Score)
    assert isinstance(second, Unscorable) and (second.code, second.status) == ("parent_revision_missing", 422)
    with pytest.raises(Unscorable) as alone:  # the same revision asked on its own
        scorer.score("enwiki", 22)
    assert str(second) == str(alone.value) and len(liftwing.requests) == 2


def test_a_batch_none_of_which_is_scorable_gives_each_revision_its_own_reason(
        liftwing: LiftWingStandin, scorer: LiftWingScorer) -> None:
    liftwing.set_unscorable(31, lang="en")
    liftwing.set_unscorable(32, lang="en", reason="revision_info_deleted")
    outcomes = scorer.score_many("enwiki", [31, 32])
    assert [(type(o), getattr(o, "code", None)) for o in outcomes] == [
        (Unscorable, "parent_revision_missing"), (Unscorable, "revision_info_deleted")]
    assert len(liftwing.requests) == 1


def test_prefetched_revisions_are_answered_from_memory_once(liftwing: LiftWingStandin, scorer: LiftWingScorer) -> None:
    liftwing.set_score(41, 0.97, lang="en")
    liftwing.set_unscorable(42, lang="en")
    assert scorer.prefetch("enwiki", [41, 42, 43]) == 3
    assert scorer.score("enwiki", 41) == Score(0.97, LA, "3")
    with pytest.raises(Unscorable, match="parent_revision_missing"):
        scorer.score("enwiki", 42)
    assert scorer.score("enwiki", 43).probability == 0.1
    assert len(liftwing.requests) == 1
    scorer.score("enwiki", 41)  # taken once: asked again now
    assert len(liftwing.requests) == 2 and "instances" not in liftwing.requests[-1].json()


def test_an_older_server_refusing_the_batch_form_is_asked_one_by_one(
        session: requests.Session, sleeps: list[float]) -> None:
    with running_standin(batch=False) as old:
        old.set_unscorable(52, lang="en")
        scorer = scorer_for(old, session, sleeps)
        outcomes = scorer.score_many("enwiki", [51, 52, 53])
        assert isinstance(outcomes[0], Score) and isinstance(outcomes[2], Score)
        assert isinstance(outcomes[1], Unscorable) and outcomes[1].code == "parent_revision_missing"
        assert bodies(old) == [instances(51, 52, 53), *({"rev_id": r, "lang": "en"} for r in (51, 52, 53))]
        assert scorer.prefetch("enwiki", [54, 55]) == 0  # not tried again
        scorer.score_many("enwiki", [54, 55])
        assert [b.get("rev_id") for b in bodies(old)[4:]] == [54, 55] and sleeps == []


def test_a_batch_is_retried_after_a_server_error_and_a_rate_limit(
        liftwing: LiftWingStandin, scorer: LiftWingScorer, sleeps: list[float]) -> None:
    liftwing.fail_next(503)
    liftwing.fail_next(429, retry_after=7)
    outcomes = scorer.score_many("enwiki", [61, 62])
    assert all(isinstance(o, Score) for o in outcomes)
    assert bodies(liftwing) == [instances(61, 62)] * 3 and sleeps == [0.5, 7.0]


def test_a_batch_without_an_answer_is_unavailable_for_each_and_not_remembered(
        liftwing: LiftWingStandin, scorer: LiftWingScorer) -> None:
    liftwing.fail_next(503, times=3)
    outcomes = scorer.score_many("enwiki", [71, 72])
    assert [type(o) for o in outcomes] == [ScorerUnavailable, ScorerUnavailable]
    liftwing.fail_next(503, times=3)
    assert scorer.prefetch("enwiki", [71, 72]) == 0
    assert scorer.score("enwiki", 71).probability == 0.1  # asked for itself now
    assert len(liftwing.requests) == 7


def test_a_batch_answer_silent_about_a_revision_is_malformed_for_it(
        liftwing: LiftWingStandin, scorer: LiftWingScorer) -> None:
    one = {"model_name": LA, "model_version": "3", "wiki_db": "enwiki", "revision_id": 81,
           "output": {"prediction": False, "probabilities": {"true": 0.3, "false": 0.7}}}
    liftwing.reply_next(json.dumps({"predictions": [one]}))
    first, second = scorer.score_many("enwiki", [81, 82])
    assert first == Score(0.3, LA, "3") and isinstance(second, MalformedAnswer)
    liftwing.reply_next(json.dumps({"predictions": "none"}))
    assert [type(o) for o in scorer.score_many("enwiki", [83, 84])] == [MalformedAnswer, MalformedAnswer]


def test_the_multilingual_model_is_asked_one_revision_per_request(
        liftwing: LiftWingStandin, session: requests.Session, sleeps: list[float]) -> None:
    scorer = scorer_for(liftwing, session, sleeps, model=ML)
    assert scorer.prefetch("enwiki", [91, 92]) == 0 and liftwing.requests == []
    assert all(isinstance(o, Score) for o in scorer.score_many("enwiki", [91, 92]))
    assert bodies(liftwing) == [{"rev_id": 91, "lang": "en"}, {"rev_id": 92, "lang": "en"}]


# -- the bot's concurrent prefetch shares a burst among its threads in batch requests ----


def test_concurrent_prefetch_sends_one_batch_per_thread_and_keeps_each_answer(
        liftwing: LiftWingStandin, session: requests.Session, sleeps: list[float]) -> None:
    from automod.moderation.prefetch import ConcurrentPrefetch

    for rev_id in range(1, 9):
        liftwing.set_score(rev_id, rev_id / 10, lang="en")
    liftwing.set_unscorable(9, lang="en")
    prefetch = ConcurrentPrefetch(scorer_for(liftwing, session, sleeps),
                                  lambda: scorer_for(liftwing, requests.Session(), sleeps), max_in_flight=3)
    try:
        assert prefetch.prefetch("enwiki", list(range(1, 10))) == 9
        answers = [prefetch.score("enwiki", rev_id).probability for rev_id in range(1, 9)]
        with pytest.raises(Unscorable):
            prefetch.score("enwiki", 9)
    finally:
        prefetch.close()
    assert answers == pytest.approx([rev_id / 10 for rev_id in range(1, 9)])
    asked = bodies(liftwing)
    assert sorted(len(body["instances"]) for body in asked) == [3, 3, 3], asked  # 9 revisions, 3 threads
    assert sorted(i["rev_id"] for body in asked for i in body["instances"]) == list(range(1, 10))
    # the unscorable one is not asked again on its own: its batch already gave Lift Wing's answer
