"""Following an EventStreams (server-sent events) URL, across drops, stalls and restarts.

:class:`StreamFollower` yields ``(event_id, RecentChange)`` pairs. It never commits a
position itself: the caller saves ``event_id`` after it has handled the event, and passes
it back as ``last_event_id`` after a restart, so every event is handled at least once.
Within one process the follower remembers the id of the last event it *read* (canaries
and malformed events included) and sends it as ``Last-Event-ID`` on every reconnect.

Failure handling:

* connection refused, HTTP error, dropped connection: reconnect with capped exponential
  backoff and jitter (immediately after a connection that delivered events);
* stall watchdog: the socket read timeout is ``stall_seconds``; if not one byte (event,
  canary or comment) arrives in that window the connection is dropped and reopened;
* the body is read with partial reads (``read1``: whatever has arrived), so each event is
  handed on as soon as its blank line arrives, however the response is framed: chunked,
  length-framed (``Content-Length``) or close-delimited (HTTP/1.0 style, the body ends when
  the connection closes); a gzip body is decoded as it arrives;
* a malformed event is logged, handed to ``on_malformed`` (the store keeps it) and
  skipped; it never stops the follower;
* canaries (``meta.domain == "canary"``) are dropped.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions

from automod.errors import MalformedEvent
from automod.stream.events import RecentChange, decode_json, is_canary, parse_event

__all__ = ["RetryPolicy", "StreamFollower", "StreamStats"]

log = logging.getLogger("automod.stream.follower")


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, for reconnecting."""

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.2  # +/- this fraction of the delay

    def delay(self, failures: int) -> float:
        """Seconds to wait before attempt number ``failures`` (1 = first retry)."""
        if failures <= 0:
            return 0.0
        base = min(self.cap, self.initial * self.factor ** (failures - 1))
        return max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))


@dataclass
class StreamStats:
    connections: int = 0
    reconnects: int = 0
    events: int = 0
    canaries: int = 0
    malformed: int = 0
    stalls: int = 0
    last_activity: float = 0.0


#: How much of a malformed event the store keeps (a 5 MB poison event need not be kept whole).
MALFORMED_KEEP_BYTES = 64_000

MalformedHandler = Callable[[str | None, str, MalformedEvent], None]


class StreamFollower:
    """Iterate over the recent changes at ``url``, resuming after ``last_event_id``.

    ``since`` (ISO 8601 or ms epoch) is sent only when there is no event id to resume from.
    ``close()`` may be called from another thread (signal handler, timer) to stop it.
    """

    def __init__(
        self,
        url: str,
        *,
        user_agent: str,
        last_event_id: str | None = None,
        since: str | None = None,
        stall_seconds: float = 120.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        on_malformed: MalformedHandler | None = None,
        session: requests.Session | None = None,
        wikis: Collection[str] | None = None,
    ):
        self.url = url
        self.user_agent = user_agent
        self.last_event_id = last_event_id
        self.since = since
        self.stall_seconds = stall_seconds
        self.connect_timeout = connect_timeout
        self.retry = retry
        self.on_malformed = on_malformed
        #: When given, events that plainly belong to other wikis are dropped before parsing.
        self.wikis = frozenset(w.encode() for w in wikis) if wikis is not None else None
        self.session = session or requests.Session()
        self.stats = StreamStats()
        self._closed = threading.Event()
        self._response: requests.Response | None = None

    # -- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Stop following: the iterator ends promptly, even if blocked reading."""
        self._closed.set()
        response = self._response
        if response is not None:
            _shutdown_socket(response)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # -- iteration -----------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[str, RecentChange]]:
        failures = 0
        while not self.closed:
            if failures:
                delay = self.retry.delay(failures)
                log.info("reconnecting to %s in %.1f s (attempt %d)", self.url, delay, failures)
                if self._closed.wait(delay):
                    break
            delivered = 0
            try:
                for item in self._one_connection():
                    delivered += 1
                    yield item
            except requests.RequestException as exc:
                if self.closed:
                    break
                if _is_timeout(exc):
                    self.stats.stalls += 1
                    log.warning("stream stalled: nothing for %.0f s, reconnecting", self.stall_seconds)
                else:
                    log.warning("stream connection failed: %s", exc)
            else:
                if not self.closed:
                    log.info("stream ended by the server, reconnecting")
            finally:
                self._release()
            # A connection that delivered events was healthy: reconnect at once.
            failures = 0 if delivered else failures + 1
            if not self.closed:
                self.stats.reconnects += 1

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "User-Agent": self.user_agent}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def _one_connection(self) -> Iterator[tuple[str, RecentChange]]:
        params = {"since": self.since} if self.since and not self.last_event_id else None
        response = self.session.get(
            self.url,
            params=params,
            headers=self._headers(),
            stream=True,
            timeout=(self.connect_timeout, self.stall_seconds),
        )
        self._response = response
        if self.closed:
            return
        if response.status_code != 200:
            raise requests.HTTPError(f"HTTP {response.status_code} from {self.url}", response=response)
        self.stats.connections += 1
        self.stats.last_activity = time.monotonic()
        log.info("connected to %s (Last-Event-ID %s)", self.url, self.last_event_id or "none")
        for event_id, data in sse_events(arrived_chunks(response)):
            self.stats.last_activity = time.monotonic()
            if self.closed:
                return
            change = None if self.wikis is not None and other_wiki(data, self.wikis) else self._parse(event_id, data)
            if event_id:
                self.last_event_id = event_id
            if change is not None:
                self.stats.events += 1
                yield event_id or "", change

    def _parse(self, event_id: str | None, data: bytes) -> RecentChange | None:
        try:
            decoded = decode_json(data)
            if isinstance(decoded, dict) and is_canary(decoded):
                self.stats.canaries += 1
                return None
            return parse_event(decoded)
        except MalformedEvent as exc:
            error = exc
        self.stats.malformed += 1
        text = data[:MALFORMED_KEEP_BYTES].decode("utf-8", errors="backslashreplace")
        log.warning("skipping malformed event %s: %s: %.200s", event_id, error, text)
        if self.on_malformed is not None:
            self.on_malformed(event_id, text, error)
        return None

    def _release(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()


_WIKI_KEY = re.compile(rb'"wiki"\s*:\s*"([^"]*)"')


def other_wiki(data: bytes, wikis: frozenset[bytes]) -> bool:
    """True when ``data`` names exactly one ``wiki``, plainly written, and it is not served.

    Only such events are dropped unparsed; any doubt (no such key, several, escapes) means
    the full parse, so an event that is kept is validated exactly as before."""
    found = _WIKI_KEY.findall(data)
    return len(found) == 1 and b"\\" not in found[0] and found[0] not in wikis and data.count(b'"wiki"') == 1


def sse_events(chunks: Iterable[bytes]) -> Iterator[tuple[str | None, bytes]]:
    """``(id, data)`` for each event of a server-sent-events byte stream.

    Our own small reader instead of sseclient's: it keeps ``data`` as bytes, so invalid
    UTF-8 in one event becomes that event's parse error instead of ending the connection,
    and it skips the per-line decoding that made the stream slower than a bare loop.
    An event without data (a comment, a keep-alive) is not yielded; ``id`` is the last
    ``id:`` field seen, as the SSE spec says.
    """
    pending: list[bytes] = []  # the unfinished last line, possibly over several chunks
    data: list[bytes] = []
    event_id: str | None = None
    for chunk in chunks:
        if b"\n" not in chunk:
            pending.append(chunk)
            continue
        lines = chunk.split(b"\n")
        if pending:
            lines[0] = b"".join(pending) + lines[0]
        pending = [lines.pop()]
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if data:
                    yield event_id, b"\n".join(data)
                    data = []
                continue
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                data.append(value)
            elif name == b"id":
                event_id = value.decode("utf-8", errors="replace") or None
    # An event cut off before its blank line is not dispatched (SSE spec); the reconnect's
    # Last-Event-ID brings it again.


#: The most one partial read returns; it waits for at least one byte, never for this many.
READ_SIZE = 1 << 16


def arrived_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body of ``response`` (content-decoded) as it arrives, one partial read at a time.

    Not ``iter_content``: on a body that is neither chunked nor length-framed it reads to the
    end of the connection before returning anything, and on a length-framed one to the end of
    the length, so a quiet stream's last events would wait for a reconnect. ``read1`` returns
    what the socket has (up to ``READ_SIZE``) as soon as there is anything; with chunked
    framing at most the rest of one chunk. urllib3's errors become requests' (as in
    ``iter_content``), so the follower's reconnect and stall handling see what they saw before.
    """
    raw = response.raw
    try:
        while True:
            data = raw.read1(READ_SIZE, decode_content=True)
            if not data:  # end of the body (or None: the response was released)
                return
            yield data
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ReadTimeout(exc, response=response) from exc
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc, response=response) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc, response=response) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise requests.ConnectionError(exc, response=response) from exc


def _is_timeout(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.Timeout):
        return True
    return "timed out" in str(exc).lower()


def _shutdown_socket(response: requests.Response) -> None:
    """Unblock a read in progress on another thread by shutting the socket down."""
    raw: Any = response.raw  # private attributes of urllib3 and http.client, probed under try
    sock = None
    try:
        sock = raw._connection.sock  # urllib3 2.x
    except AttributeError:
        pass
    if sock is None:
        try:
            sock = raw._fp.fp.raw._sock  # http.client underneath
        except AttributeError:
            sock = None
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
