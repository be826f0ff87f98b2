"""Issue 26.8e: `automod serve` refuses bodies far above Lift Wing's (a few KB) with 413 without
reading them, and closes connections whose request does not arrive in time, while it keeps
answering everyone else. A real server process, real sockets."""

from __future__ import annotations

import socket
import time

import pytest

from automod.training import train_model
from support.datasets import synthetic_dataset
from support.serve_helpers import ServeProcess

pytest.importorskip("kserve")
pytestmark = pytest.mark.sandbox

MODEL = "served-limits"
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def server(sandbox, tmp_path_factory):
    model_dir = train_model(synthetic_dataset(), MODEL, tmp_path_factory.mktemp("models")).model_dir
    with ServeProcess(sandbox.settings, model_dir, "--request-timeout", str(TIMEOUT)) as served:
        yield served


def answers(server, sandbox, wiki, title: str) -> int:
    writer = wiki(sandbox.vandals[0])
    writer.edit(title, "A town on a river.")
    rev = writer.edit(title, "A town on a river. Its market is old.")  # an edit with a parent: scorable
    return server.predict({"rev_id": rev, "lang": "sandbox"}).status_code


def test_a_body_above_the_limit_gets_413_unread_and_small_ones_are_answered(server, sandbox, wiki, unique_title):
    huge = b'{"rev_id": 1, "lang": "sandbox", "pad": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    resp = server.predict(huge)
    assert resp.status_code == 413, resp.text
    assert server.predict(b'{"rev_id": 1, "pad": "' + b"x" * (64 * 1024) + b'"}').status_code == 413

    def chunks():  # no Content-Length: refused once the body passes the limit
        for _ in range(64):
            yield b"x" * 4096
    chunked = server.session.post(f"{server.models_url}{server.name}:predict", data=chunks(),
                                  headers={"Content-Type": "application/json"}, timeout=30)
    assert chunked.status_code == 413
    assert answers(server, sandbox, wiki, unique_title) == 200


def test_a_half_sent_request_is_closed_within_the_timeout_and_others_are_still_answered(
        server, sandbox, wiki, unique_title):
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        slow.sendall(f"POST /v1/models/{server.name}:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"rev_id\"".encode())
        opened = time.monotonic()
        assert answers(server, sandbox, wiki, unique_title) == 200, "others are answered meanwhile"
        assert slow.recv(4096) == b"", "the half-sent request got an answer instead of being closed"
        closed_after = time.monotonic() - opened
        assert closed_after < TIMEOUT + 3, f"closed after {closed_after:.1f} s (timeout {TIMEOUT} s)"
        assert idle.recv(4096) == b"", "a connection that never sends is closed too"
    finally:
        slow.close()
        idle.close()
    # The same server still answers afterwards.
    assert server.session.get(f"{server.base}/v1/models/{server.name}", timeout=5).status_code == 200

