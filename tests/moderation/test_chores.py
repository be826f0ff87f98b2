"""The worker's chore scheduler: named chores, each run when its interval has passed."""

from __future__ import annotations

import logging

import pytest

from automod.moderation.chores import Chore, Scheduler


def _scheduler(calls: list[str], *chores: tuple[str, float, object]) -> Scheduler:
    def make(name: str, answer: object):
        def fn():
            calls.append(name)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return fn
    return Scheduler([Chore(name, interval, make(name, answer)) for name, interval, answer in chores])


def test_each_chore_runs_at_once_then_when_its_interval_has_passed():
    calls: list[str] = []
    scheduler = _scheduler(calls, ("statistics", 3600.0, None), ("labels", 60.0, None), ("retries", 0.0, None))
    assert scheduler.run_due(now=1000.0) == ["statistics", "labels", "retries"]
    assert scheduler.run_due(now=1059.9) == ["retries"]  # not due: labels waits its minute
    assert scheduler.run_due(now=1060.0) == ["labels", "retries"]
    assert scheduler.run_due(now=4599.0) == ["labels", "retries"]
    assert scheduler.run_due(now=4600.0) == ["statistics", "retries"]
    assert calls.count("statistics") == 2 and calls.count("retries") == 5


def test_a_chore_that_could_not_run_is_due_again_at_the_next_pass():
    calls: list[str] = []
    answers = iter([False, True, True])
    scheduler = Scheduler([Chore("labels", 60.0, lambda: calls.append("labels") or next(answers))])
    assert scheduler.run_due(now=0.0) == []          # no connection yet
    assert scheduler.run_due(now=1.0) == ["labels"]  # tried again at once
    assert scheduler.run_due(now=30.0) == []         # then its interval counts
    assert scheduler.run_due(now=61.0) == ["labels"]


def test_a_failing_chore_is_logged_by_name_and_its_error_goes_up_as_before(caplog):
    """Today a chore's unexpected error stops the worker (which stops the bot loudly): the
    scheduler keeps that, names the chore, and does not run it again at once."""
    calls: list[str] = []
    scheduler = _scheduler(calls, ("statistics", 3600.0, RuntimeError("boom")), ("labels", 60.0, None))
    with caplog.at_level(logging.ERROR, logger="automod.moderation.chores"), pytest.raises(RuntimeError):
        scheduler.run_due(now=0.0)
    assert "'statistics' failed" in caplog.text
    assert scheduler.run_due(now=1.0) == ["labels"]  # the failed one waits its interval
    assert calls == ["statistics", "labels"]


def test_chore_names_are_unique():
    with pytest.raises(ValueError):
        Scheduler([Chore("a", 1.0, lambda: None), Chore("a", 2.0, lambda: None)])
