"""What ``automod serve`` accepts from a client: small bodies, sent in good time.

Lift Wing's revert-risk inputs are a few hundred bytes (``{"rev_id": …, "lang": …}``), so a
body above :data:`MAX_BODY_BYTES` is refused with 413 before it is read (by its
``Content-Length``, or as soon as a chunked body passes the limit): a 300 MB body cannot make
the server hold 300 MB. And a client must send its whole request within the request timeout
(default :data:`REQUEST_TIMEOUT_SECONDS`): a half-sent request no longer holds a connection
open forever — the server closes it, and goes on answering everyone else.

KServe runs the app on uvicorn with its FastAPI ``kserve.model_server:app`` (an import
string, so that worker processes can import it): :func:`limit` points uvicorn's config at
:data:`app` here (KServe's app, wrapped) and at :class:`TimedH11Protocol` (uvicorn's h11
protocol with a deadline for each request).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["MAX_BODY_BYTES", "REQUEST_TIMEOUT_SECONDS", "BodyLimit", "TimedH11Protocol", "limit"]

#: Far above any Lift Wing request (a few KB at most), far below what could hurt the server.
MAX_BODY_BYTES = 64 * 1024
#: How long a client has to send a whole request (headers and body).
REQUEST_TIMEOUT_SECONDS = 10.0
#: Where uvicorn finds the wrapped app (worker processes import it by this name).
APP_IMPORT_STRING = "automod.serving.limits:app"

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimit:
    """ASGI middleware: a request body above ``max_bytes`` gets 413 and never reaches the app."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            too_big = declared is not None and int(declared) > self.max_bytes
        except ValueError:
            too_big = False  # h11 refuses a malformed Content-Length before this point
        if too_big:
            await _refuse(send, self.max_bytes)
            return
        seen = 0
        refused = False

        async def counted() -> Message:
            """The body, until it passes the limit: then an empty end (the app's answer to
            that is dropped, and the client gets 413)."""
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)
        if refused:
            await _refuse(send, self.max_bytes)


async def _refuse(send: Any, max_bytes: int) -> None:
    body = (b'{"error": "request body too large: at most %d bytes (Lift Wing inputs are a few KB)"}'
            % max_bytes)
    try:
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
    except RuntimeError:
        pass  # the app had started its answer already: the connection is closed instead


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for receiving each request: started by the
    request's first bytes, cleared once the whole request is in; past it the connection is
    closed (the timeout, in seconds, is the config's ``automod_request_timeout``)."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.request_timeout = float(getattr(config, "automod_request_timeout", REQUEST_TIMEOUT_SECONDS))
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a client that connects and sends nothing is timed too

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and not self._received():
            self._arm()
        super().data_received(data)
        if self._received():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _received(self) -> bool:
        return self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self._received() and not self.transport.is_closing():
            self.logger.info("closing a connection from %s: no whole request within %.0f s", self.client,
                             self.request_timeout)
            self.transport.close()


def limit(config: Any, request_timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
    """Make the uvicorn ``config`` KServe built serve the wrapped app with timed requests."""
    config.app = APP_IMPORT_STRING
    config.http = TimedH11Protocol
    config.automod_request_timeout = request_timeout


def _kserve_app() -> Any:
    from kserve.model_server import app as kserve_app  # the app KServe configures in each process

    return kserve_app


def __getattr__(name: str) -> Any:
    if name == "app":  # imported by uvicorn, after KServe set its app up (PEP 562: lazily)
        return BodyLimit(_kserve_app())
    raise AttributeError(name)
