"""How the Lift Wing client waits, retries, counts and reads answers it cannot use.

Split from :mod:`automod.scoring.liftwing` (which re-exports the public names): timeouts and
the retry policy, the health counters, ``Retry-After``, and the server's own words in an
error answer.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3.exceptions

__all__ = ["DEFAULT_RETRY", "DEFAULT_TIMEOUTS", "REASON", "LiftWingRetry", "LiftWingStats", "Timeouts",
           "describe", "error_message", "parse_retry_after", "transport_failure"]


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


def transport_failure(exc: BaseException) -> str | None:
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


def error_message(response: requests.Response) -> str:
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
REASON = re.compile(r"Reason: \[?'?([A-Za-z_]+)")


def describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return f"body is not JSON ({exc.msg})" if isinstance(exc, json.JSONDecodeError) else str(exc)
