"""Fixtures of the Lift Wing scorer tests (single and batch form).

``liftwing`` here is a bare stand-in (answers scripted by the test), not the root conftest's
one that scores by reading the sandbox wiki: nothing under tests/scoring needs the sandbox's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.liftwing_standin import LiftWingStandin, running_standin


@pytest.fixture
def liftwing() -> Iterator[LiftWingStandin]:
    """A running Lift Wing stand-in on 127.0.0.1; ``liftwing.url`` is the models base URL."""
    with running_standin() as standin:
        yield standin


@pytest.fixture
def sleeps() -> list[float]:
    """Waits the scorer asked for (the injected ``sleep`` records instead of sleeping)."""
    return []

