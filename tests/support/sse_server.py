"""A small threaded SSE server on 127.0.0.1 that frames its body as told (issue 27 item 5).

``framing`` is one of

* ``"close"`` — close-delimited, HTTP/1.0 style: no ``Content-Length``, no chunking, the
  body ends when the connection closes (a legal way to serve SSE, used by simple servers
  and some proxies);
* ``"chunked"`` — ``Transfer-Encoding: chunked``, one chunk per piece (as Wikimedia serves);
* ``"length"`` — a ``Content-Length`` declared up front, far larger than what is sent
  before the connection is held open or closed.

``gzip=True`` adds ``Content-Encoding: gzip``, each piece flushed (``Z_SYNC_FLUSH``) so it
can be decoded the moment it arrives.

What a connection gets is the ``script``: called with the connection's number (0 first)
and its ``Last-Event-ID`` (or None), it yields the pieces of body to send, each at once;
yielding :data:`HOLD` keeps the connection open, sending only keep-alive comments
(``:\\n\\n``) until the server is closed; :data:`SILENT` keeps it open sending nothing.
A script that ends without either closes the connection (for ``"close"`` that is the
body's end; for the others a dropped stream).
The server notes when each piece went out (``sent``), so a test can tell how long an event
took to come through.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

HOLD = object()
"""Yielded by a script: keep this connection open with keep-alive comments only."""
SILENT = object()
"""Yielded by a script: keep this connection open and send nothing more (a stalled stream)."""

Script = Callable[[int, str | None], Iterable[object]]

_HEADS = {
    "close": b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n",
    "chunked": b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n",
    "length": b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n" % (1 << 30),
}


def sse_event(event_id: str | None, data: bytes, *, newline: bytes = b"\n") -> bytes:
    """One event's bytes: its ``id:`` and ``data:`` lines and the blank line that ends it."""
    head = b"id: " + event_id.encode() + newline if event_id is not None else b""
    return head + b"data: " + data + newline + newline


def offset_id(offset: int) -> str:
    """An EventStreams-shaped event id for position ``offset``."""
    return json.dumps([{"topic": "test.recentchange", "partition": 0, "offset": offset}], separators=(",", ":"))


def offset_of(event_id: str | None) -> int | None:
    """The offset named by ``event_id``, as :func:`offset_id` wrote it (None: from the start)."""
    if not event_id:
        return None
    return int(json.loads(event_id)[0]["offset"])


@dataclass
class Connection:
    number: int
    request: str
    last_event_id: str | None
    open: bool = True
    #: (time.monotonic() when sent, the piece) for every piece of body sent, keep-alives excluded.
    sent: list[tuple[float, bytes]] = field(default_factory=list)


class FramedSSEServer:
    def __init__(self, framing: str, script: Script, *, gzip: bool = False, keepalive_seconds: float = 0.1):
        if framing not in _HEADS:
            raise ValueError(f"unknown framing {framing!r}")
        self.framing = framing
        self.script = script
        self.gzip = gzip
        self.keepalive_seconds = keepalive_seconds
        self.connections: list[Connection] = []
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v2/stream/recentchange"
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> FramedSSEServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open_connections(self) -> int:
        with self._lock:
            return sum(c.open for c in self.connections)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    # -- serving --------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        request = _read_head(sock)
        last_event_id = None
        for line in request.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "last-event-id":
                last_event_id = value.strip()
        with self._lock:
            conn = Connection(len(self.connections), request, last_event_id)
            self.connections.append(conn)
        encoder = zlib.compressobj(wbits=31) if self.gzip else None
        head = _HEADS[self.framing] + (b"Content-Encoding: gzip\r\n" if self.gzip else b"") + b"\r\n"
        try:
            sock.sendall(head)
            for piece in self._pieces(conn):
                body = piece if encoder is None else encoder.compress(piece) + encoder.flush(zlib.Z_SYNC_FLUSH)
                if self.framing == "chunked":
                    body = b"%x\r\n%s\r\n" % (len(body), body)
                sock.sendall(body)
        except OSError:
            pass  # the client went away
        finally:
            conn.open = False
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _pieces(self, conn: Connection) -> Iterator[bytes]:
        for piece in self.script(conn.number, conn.last_event_id):
            if self._stop.is_set():
                return
            if piece is HOLD:
                while not self._stop.wait(self.keepalive_seconds):
                    yield b":\n\n"
                return
            if piece is SILENT:
                self._stop.wait()
                return
            assert isinstance(piece, bytes) and piece, "a piece is non-empty bytes (an empty chunk ends a body)"
            conn.sent.append((time.monotonic(), piece))
            yield piece


def _read_head(sock: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            break
        data += more
    return data.decode("latin-1")
