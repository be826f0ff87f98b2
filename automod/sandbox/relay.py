"""An EventStreams look-alike for the sandbox wiki: MediaWiki's UDP RCFeed in, SSE out.

MediaWiki's ``$wgRCFeeds`` with ``JSONRCFeedFormatter`` sends one UDP datagram per
recent-change row. Wikimedia's EventStreams serves the same rows (via EventBus, with a
``$schema`` and a ``meta`` envelope and without null-valued keys) as server-sent events.
This relay does that conversion so the bot follows the sandbox exactly as it follows
``stream.wikimedia.org``:

* ``GET /v2/stream/recentchange``: ``:ok`` first, then ``event: message``, ``id:`` a JSON
  list ``[{"topic", "partition", "offset"}]`` and ``data:`` the event;
* ``Last-Event-ID`` (offset or ``timestamp`` form) and ``?since=`` (ms epoch or ISO 8601)
  resume from history, kept in an NDJSON file so a restarted relay still has it;
* a canary event (``meta.domain = "canary"``) every ``--canary-interval`` seconds;
* ``POST /_control`` with JSON ``{"drop_every": K}`` makes it cut each client connection
  after K events (a dropped stream, for tests), ``{"canary": true}`` emits a canary now,
  ``{"inject": "<raw data line>"}`` appends a raw (possibly malformed) event, and
  ``{"inject_b64": "<base64>"}`` one whose bytes need not be UTF-8 (a poison catalogue).

It only ever binds loopback addresses.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import logging
import signal
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

__all__ = ["EventLog", "Relay", "eventstreams_event", "main", "require_loopback"]

log = logging.getLogger("automod.sandbox.relay")

SCHEMA = "/mediawiki/recentchange/1.0.0"
STREAM = "mediawiki.recentchange"
TOPIC = "sandbox.mediawiki.recentchange"
PATH = "/v2/stream/recentchange"


def require_loopback(host: str) -> str:
    """Return ``host`` if it is a loopback address; raise ValueError otherwise."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"refusing to bind {host!r}: the sandbox only listens on loopback")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _drop_nulls(value: Any) -> Any:
    """EventBus drops null-valued keys; local RCFeed packets keep them."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def eventstreams_event(packet: dict[str, Any], *, server_name: str) -> dict[str, Any]:
    """Return the EventStreams form of one RCFeed packet (offset filled in by the log)."""
    event = _drop_nulls(packet)
    ts = event.get("timestamp")
    dt = _iso(ts if isinstance(ts, (int, float)) else time.time())
    server_url = event.get("server_url", f"http://{server_name}")
    title = str(event.get("title", ""))
    event["$schema"] = SCHEMA
    event["meta"] = {
        "uri": f"{server_url}/index.php/{quote(title.replace(' ', '_'))}",
        "request_id": str(uuid.uuid4()),
        "id": str(uuid.uuid4()),
        "dt": dt,
        "domain": event.get("server_name", server_name),
        "stream": STREAM,
    }
    return event


def canary_event() -> dict[str, Any]:
    now = time.time()
    return {
        "$schema": SCHEMA,
        "meta": {
            "uri": "https://canary/Canary",
            "request_id": str(uuid.uuid4()),
            "id": str(uuid.uuid4()),
            "dt": _iso(now),
            "domain": "canary",
            "stream": STREAM,
        },
        "type": "edit",
        "namespace": 0,
        "title": "Canary",
        "wiki": "canary",
        "server_name": "canary",
        "user": "Canary",
        "bot": False,
        "timestamp": int(now),
        "comment": "canary event",
        "revision": {"old": 1, "new": 2},
    }


class EventLog:
    """Every event the relay ever served, in order, in memory and in an NDJSON file."""

    def __init__(self, path: Path):
        self.path = path
        self.frames: list[bytes] = []  # pre-rendered SSE frames, index = offset
        self.times_ms: list[int] = []
        self.cond = threading.Condition()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self._remember(json.loads(line))
        self._file = path.open("a", encoding="utf-8")

    def __len__(self) -> int:
        return len(self.frames)

    def _remember(self, record: dict[str, Any]) -> None:
        offset = len(self.frames)
        ident = json.dumps([{"topic": TOPIC, "partition": 0, "offset": offset}], separators=(",", ":"))
        if "raw" in record:  # injected on purpose, served byte for byte
            data, dt_ms = record["raw"], int(record["received"] * 1000)
        elif "raw_b64" in record:  # injected bytes (invalid UTF-8 included), served as they are
            data, dt_ms = base64.b64decode(record["raw_b64"]), int(record["received"] * 1000)
        else:
            event = record["event"]
            event["meta"].update(topic=TOPIC, partition=0, offset=offset)
            data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            dt_ms = int(datetime.strptime(event["meta"]["dt"], "%Y-%m-%dT%H:%M:%SZ")
                        .replace(tzinfo=timezone.utc).timestamp() * 1000)
        body = data if isinstance(data, bytes) else data.encode("utf-8", errors="surrogatepass")
        frame = f"event: message\nid: {ident}\ndata: ".encode() + body + b"\n\n"
        self.frames.append(frame)
        self.times_ms.append(dt_ms)

    def append(self, record: dict[str, Any]) -> None:
        with self.cond:
            self._remember(record)
            self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            self._file.flush()
            self.cond.notify_all()

    def start_for(self, last_event_id: str | None, since: str | None) -> int:
        """Return the first offset a client should get (len(self) = only new events)."""
        if last_event_id:
            try:
                entries = json.loads(last_event_id)
                entry = next(e for e in entries if e.get("topic", TOPIC) == TOPIC)
                if "offset" in entry:
                    return min(int(entry["offset"]) + 1, len(self))
                if "timestamp" in entry:
                    return self._first_at(int(entry["timestamp"]) + 1)
            except (ValueError, TypeError, StopIteration, AttributeError):
                log.warning("ignoring unreadable Last-Event-ID %r", last_event_id)
        if since:
            if since.isdigit():
                return self._first_at(int(since))
            try:
                parsed = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                log.warning("ignoring unreadable since=%r", since)
            else:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=timezone.utc)
                return self._first_at(int(parsed.timestamp() * 1000))
        return len(self)

    def _first_at(self, ms: int) -> int:
        with self.cond:
            for offset, t in enumerate(self.times_ms):
                if t >= ms:
                    return offset
            return len(self.times_ms)


class Relay:
    """The UDP listener, the canary clock and the SSE server around one EventLog."""

    def __init__(self, history: Path, *, udp_port: int, http_host: str, http_port: int,
                 server_name: str = "127.0.0.1", canary_interval: float = 60.0, drop_every: int = 0):
        require_loopback(http_host)
        self.log = EventLog(history)
        self.server_name = server_name
        self.canary_interval = canary_interval
        self.drop_every = drop_every
        self.clients = 0  # open stream connections, reported by /health for tests
        # Streams ever opened: a client that went away is only noticed at the next write,
        # so "a new client connected" is told by this count, which never goes down.
        self.connections = 0
        self._clients_lock = threading.Lock()
        self.stopping = threading.Event()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", udp_port))
        self.udp.settimeout(0.5)
        self.http = ThreadingHTTPServer((http_host, http_port), _handler_for(self))
        self.http.daemon_threads = True

    @property
    def http_port(self) -> int:
        return int(self.http.server_address[1])

    def add_packet(self, payload: bytes) -> None:
        try:
            packet = json.loads(payload)
            if not isinstance(packet, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            log.warning("dropping unreadable RCFeed datagram (%s): %r", exc, payload[:200])
            return
        self.log.append({"event": eventstreams_event(packet, server_name=self.server_name)})

    def _udp_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                payload, _ = self.udp.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            self.add_packet(payload)

    def _canary_loop(self) -> None:
        while not self.stopping.wait(self.canary_interval):
            self.log.append({"event": canary_event()})

    def serve_forever(self) -> None:
        threading.Thread(target=self._udp_loop, daemon=True).start()
        if self.canary_interval > 0:
            threading.Thread(target=self._canary_loop, daemon=True).start()
        log.info("relay serving http://%s:%d%s", self.http.server_address[0], self.http_port, PATH)
        self.http.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.stopping.set()
        with self.log.cond:
            self.log.cond.notify_all()
        self.http.shutdown()


def _handler_for(relay: Relay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/health":
                self._reply(200, {"events": len(relay.log), "drop_every": relay.drop_every,
                                 "clients": relay.clients, "connections": relay.connections})
            elif url.path == PATH:
                since = parse_qs(url.query).get("since", [None])[0]
                self._stream(relay.log.start_for(self.headers.get("Last-Event-ID"), since))
            else:
                self._reply(404, {"error": f"no stream at {url.path}"})

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/_control":
                self._reply(404, {"error": "not found"})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            except ValueError:
                self._reply(400, {"error": "body is not JSON"})
                return
            if "drop_every" in body:
                relay.drop_every = int(body["drop_every"])
            if body.get("canary"):
                relay.log.append({"event": canary_event()})
            if "inject" in body:
                relay.log.append({"raw": str(body["inject"]), "received": time.time()})
            if "inject_b64" in body:
                relay.log.append({"raw_b64": str(body["inject_b64"]), "received": time.time()})
            self._reply(200, {"events": len(relay.log), "drop_every": relay.drop_every})

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def _stream(self, offset: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            drop_every, sent = relay.drop_every, 0
            with relay._clients_lock:
                relay.clients += 1
                relay.connections += 1
            try:
                self._chunk(b":ok\n\n")
                while not relay.stopping.is_set():
                    with relay.log.cond:
                        if offset >= len(relay.log.frames):
                            relay.log.cond.wait(timeout=1.0)
                        frames = relay.log.frames[offset:offset + 1000]
                    if not frames:
                        continue
                    if drop_every:
                        frames = frames[: drop_every - sent]
                    self._chunk(b"".join(frames))
                    offset += len(frames)
                    sent += len(frames)
                    if drop_every and sent >= drop_every:
                        # Cut the connection without the closing chunk: a dropped stream.
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass  # the client went away
            finally:
                with relay._clients_lock:
                    relay.clients -= 1
            self.close_connection = True

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=Path, required=True)
    parser.add_argument("--udp-port", type=int, required=True)
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--server-name", default="127.0.0.1")
    parser.add_argument("--canary-interval", type=float, default=60.0)
    parser.add_argument("--drop-every", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        relay = Relay(args.history, udp_port=args.udp_port, http_host=args.http_host,
                      http_port=args.http_port, server_name=args.server_name,
                      canary_interval=args.canary_interval, drop_every=args.drop_every)
    except ValueError as exc:
        parser.error(str(exc))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=relay.stop).start())
    relay.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
