"""A real EventStreams relay (automod.sandbox.relay) run in a thread, for stream tests."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from automod.sandbox.relay import PATH, Relay


def rc_packet(rev: int, *, title: str = "Page", wiki: str = "sandboxwiki", namespace: int = 0,
              user: str = "Vandal1", bot: bool = False) -> dict[str, Any]:
    """An RCFeed UDP packet shaped like MediaWiki's JSONRCFeedFormatter output."""
    return {
        "id": rev, "type": "edit", "namespace": namespace, "title": title, "comment": "",
        "timestamp": int(time.time()), "user": user, "bot": bot, "minor": False,
        "patrolled": None, "length": {"old": 10, "new": 20}, "revision": {"old": rev - 1, "new": rev},
        "server_url": "http://127.0.0.1:1", "server_name": "127.0.0.1", "server_script_path": "/",
        "wiki": wiki,
    }


class RunningRelay:
    def __init__(self, relay: Relay):
        self.relay = relay
        self.url = f"http://127.0.0.1:{relay.http_port}{PATH}"
        self.base = f"http://127.0.0.1:{relay.http_port}"

    def add(self, *packets: dict[str, Any]) -> None:
        for packet in packets:
            self.relay.add_packet(json.dumps(packet).encode())

    def clients(self) -> int:
        return int(requests.get(f"{self.base}/health", timeout=5).json()["clients"])

    def connections(self) -> int:
        return int(requests.get(f"{self.base}/health", timeout=5).json()["connections"])

    def control(self, **body: Any) -> dict[str, Any]:
        return requests.post(f"{self.base}/_control", json=body, timeout=5).json()


@contextmanager
def running_relay(tmp_path: Path, **kwargs: Any) -> Iterator[RunningRelay]:
    kwargs.setdefault("canary_interval", 0)
    relay = Relay(tmp_path / "history.ndjson", udp_port=0, http_host="127.0.0.1", http_port=kwargs.pop("http_port", 0),
                  **kwargs)
    thread = threading.Thread(target=relay.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningRelay(relay)
    finally:
        relay.stop()
        relay.http.server_close()
        relay.udp.close()
        thread.join(5)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGKILL when the test process dies, however it dies."""
    import ctypes
    import signal as _signal
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(_signal.SIGKILL))  # PR_SET_PDEATHSIG
    except OSError:
        pass


_CHILDREN: list = []


def spawn(argv: list[str], **kwargs: Any):
    """Popen for bot processes in tests: never outlives the test run (a stray bot would
    reconnect to a later sandbox that reuses its ports and act on it)."""
    import atexit
    import subprocess
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
    if not _CHILDREN:
        atexit.register(lambda: [p.kill() for p in _CHILDREN if p.poll() is None])
    _CHILDREN.append(proc)
    return proc


# Timeouts in the tests are written for a quiet machine. A loaded 2-core CI machine gets this
# many times longer before a wait fails; a wait that passes still returns as soon as its
# condition holds, so the factor costs nothing then. No test waits for something to not happen.
WAIT_SCALE = float(os.environ.get("AUTOMOD_TEST_WAIT_SCALE", "3"))


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s
    (times ``WAIT_SCALE``)."""
    timeout *= WAIT_SCALE
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
