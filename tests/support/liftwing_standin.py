"""A local stand-in for Lift Wing's revert-risk endpoints, for tests (loopback only).

It speaks the contract in revert-risk-models.md §1 as served by LW
``src/models/revert_risk_model/model_server/{base,batch}_model.py`` (commit ``ec57a4f``):

* ``POST /service/lw/inference/v1/models/revertrisk-language-agnostic:predict`` (version "3")
  and ``…/revertrisk-multilingual:predict`` (version "4"), body ``{"rev_id": N, "lang": "en"}``;
* 400 ``{"error": …}`` for a body that is not a JSON dict, a missing ``lang``/``rev_id``, a
  non-int ``rev_id``, a ``wiki`` suffix or an unknown ``lang`` (kserve ``InvalidInput``);
* 422 ``{"detail": …}`` for revisions marked unscorable, worded per model;
* 404 ``{"error": "Model with name … does not exist."}`` for other model paths;
* the language-agnostic model's batch form (``batch_model.py``): ``{"instances": [{"lang",
  "rev_id"}, …]}``, at most 20 of one ``lang`` (else 400), answered ``{"predictions": […]}``
  plus ``"errors"`` for unscorable revisions, 422 when none could be scored. The multilingual
  model has no batch path: it answers an ``instances`` body as a single one missing ``lang``.

Tests script it: ``set_score``, ``set_unscorable``, ``fail_next`` (5xx/429 with an optional
``Retry-After``), ``hang_next`` (sleep before answering), ``reply_next`` (raw bodies), ``latency`` (a
function giving each answer's delay, for benchmarks), ``batch=False`` (a Lift Wing from before
the batch form), and read back ``requests``, every request received (path, headers, body).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

#: Lift Wing's model names, and the User-Agent the scorer tests send.
LA = "revertrisk-language-agnostic"
ML = "revertrisk-multilingual"
UA = "automod-tests/0.1 (https://example.org/automod; automod@example.org) python-requests"



__all__ = ["BASE_PATH", "LiftWingStandin", "RecordedRequest", "running_standin"]

BASE_PATH = "/service/lw/inference/v1/models/"
MODEL_VERSIONS = {"revertrisk-language-agnostic": "3", "revertrisk-multilingual": "4"}
MW_API_ERROR = ("An error happened while fetching info for revision from the MediaWiki API, "
                "please contact the ML-Team if the issue persists.")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float  # time.monotonic()

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Scripted:
    """One scripted reply; ``hang`` seconds are slept first. status None = answer normally."""

    status: int | None = None
    body: bytes | None = None
    content_type: str = "application/json"
    retry_after: str | None = None
    hang: float = 0.0


class LiftWingStandin:
    """A threaded HTTP server on 127.0.0.1 (free port); ``url`` is the models base URL."""

    def __init__(self, *, default_score: float = 0.1, known_langs: Iterable[str] | None = None,
                 score_function: Callable[[str, int], float | str | None] | None = None,
                 ores_models: dict[str, set[str]] | None = None,
                 latency: Callable[[], float] | None = None, batch: bool = True) -> None:
        # ORES-style models (revscoring) each wiki has: {"sandboxwiki": {"damaging", "goodfaith"}}
        self.ores_models = ores_models or {}
        self.default_score = default_score
        # Like Lift Wing, which reads the revision from the wiki's API: a function of
        # (lang, rev_id) returning a probability, a 422 reason string, or None (default).
        self.score_function = score_function
        self.known_langs = set(known_langs) if known_langs is not None else None  # None: any
        # Seconds to wait before each answer (drawn per request), like Lift Wing's own latency.
        self.latency = latency
        self.batch = batch  # False: a Lift Wing from before the batch form (``instances`` is a 400)
        self.requests: list[RecordedRequest] = []
        self._scores: dict[tuple[str, int], float] = {}
        self._unscorable: dict[tuple[str, int], str] = {}
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> LiftWingStandin:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name="liftwing-standin", daemon=True)  # quick shutdown()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> LiftWingStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "stand-in not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{BASE_PATH}"

    # -- scripting -----------------------------------------------------------------

    def set_score(self, rev_id: int, p: float, *, lang: str = "sandbox") -> None:
        with self._lock:
            self._scores[(lang, rev_id)] = p

    def set_unscorable(self, rev_id: int, *, lang: str = "sandbox",
                       reason: str = "parent_revision_missing") -> None:
        with self._lock:
            self._unscorable[(lang, rev_id)] = reason

    def fail_next(self, status: int = 500, *, retry_after: float | str | None = None, times: int = 1,
                  body: bytes | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and Retry-After if given)."""
        if body is None:
            body = _fault_body(status)
        ra = None if retry_after is None else (retry_after if isinstance(retry_after, str)
                                               else f"{retry_after:g}")
        ctype = "application/json" if body.startswith(b"{") else "text/plain"
        self._push(_Scripted(status, body, ctype, ra), times)

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Sleep ``seconds`` before answering the next ``times`` requests (normally)."""
        self._push(_Scripted(hang=seconds), times)

    def reply_next(self, body: bytes | str, *, status: int = 200, times: int = 1,
                   content_type: str = "application/json") -> None:
        """Answer the next ``times`` requests with exactly this body."""
        raw = body.encode() if isinstance(body, str) else body
        self._push(_Scripted(status, raw, content_type), times)

    def _predict_ores(self, wiki: str, model: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        return _ores_answer(self, wiki, model, raw)

    def clear_script(self) -> None:
        """Forget scripted faults not yet used (so one test's faults never leak into the next)."""
        with self._lock:
            self._script.clear()

    def _push(self, item: _Scripted, times: int) -> None:
        with self._lock:
            self._script.extend([item] * times)

    # -- the contract ----------------------------------------------------------------

    def _next_scripted(self) -> _Scripted | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def predict(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Lift Wing's answer to a POST on ``path`` with body ``raw``: (status, JSON)."""
        model = path[len(BASE_PATH):].removesuffix(":predict") if path.startswith(BASE_PATH) else ""
        wiki, _, ores = model.rpartition("-")
        if path.endswith(":predict") and ores in ("damaging", "goodfaith") and ores in self.ores_models.get(wiki, ()):
            return self._predict_ores(wiki, ores, raw)
        if not path.endswith(":predict") or model not in MODEL_VERSIONS:
            return 404, {"error": f"Model with name {model or path} does not exist."}
        try:
            inputs = json.loads(raw)
        except ValueError:
            inputs = None
        if not isinstance(inputs, dict):
            return 400, {"error": "Please verify that request input is a json dict"}
        if model == "revertrisk-language-agnostic" and "instances" in inputs and self.batch:
            return self._predict_batch(model, inputs["instances"])
        checked = self._check(inputs)
        if isinstance(checked, dict):
            return 400, checked
        lang, rev_id = checked
        outcome = self._outcome(lang, rev_id)
        if isinstance(outcome, str):
            if model == "revertrisk-language-agnostic":  # always served by the batch class
                detail = (f"Could not make prediction for revisions dict_keys([({rev_id}, '{lang}')])."
                          f" Reason: ['{outcome}']")
            else:
                detail = f"Could not make prediction for revision {rev_id} ({lang}). Reason: {outcome}"
            return 422, {"detail": detail}
        return 200, _answer(model, lang, rev_id, outcome)

    def _check(self, inputs: dict[str, Any]) -> tuple[str, int] | dict[str, str]:
        """(lang, rev_id) of a valid single request, else Lift Wing's 400 body."""
        lang, rev_id = inputs.get("lang"), inputs.get("rev_id")
        for key, value in (("lang", lang), ("rev_id", rev_id)):
            if value is None:
                return {"error": f"The parameter {key} is required."}
        if not isinstance(rev_id, int):
            return {"error": 'Expected "rev_id" to be a int.'}
        if not isinstance(lang, str):
            return {"error": 'Expected "lang" to be a string.'}
        if lang.endswith("wiki"):
            return {"error": "Language field should not have a 'wiki' suffix, i.e. use 'en', not 'enwiki'"}
        if self.known_langs is not None and lang not in self.known_langs:
            return {"error": f"lang '{lang}' does not exist in the canonical Wikipedia language list."}
        return lang, rev_id

    def _outcome(self, lang: str, rev_id: int) -> float | str:
        """The scripted probability of a revision, or the reason it cannot be scored."""
        with self._lock:
            reason = self._unscorable.get((lang, rev_id))
            p = self._scores.get((lang, rev_id))
        if p is None and reason is None and self.score_function is not None:
            found = self.score_function(lang, rev_id)
            if isinstance(found, str):
                reason = found
            elif found is not None:
                p = found
        if reason is not None:
            return reason
        return self.default_score if p is None else p

    def _predict_batch(self, model: str, items: Any) -> tuple[int, dict[str, Any]]:
        """LW ``RevisionRevertRiskModelBatch``: items checked (present, ≤ 20, one lang), then
        scored; revisions that cannot be are listed in ``errors`` (422 if all of them)."""
        if items == []:  # Lift Wing's own crash, through kserve's generic handler
            return 500, {"error": "KeyError : 'pop from an empty set'"}
        langs = []
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, dict):
                return 500, {"error": f"AttributeError : '{type(item).__name__}' object has no attribute 'get'"}
            for key in ("lang", "rev_id"):
                if item.get(key) is None:
                    return 400, {"error": f"The parameter {key} is required."}
            langs.append(str(item["lang"]))
            if len(langs) > 20:
                return 400, {"error": "Only accept a maximum of 20 rev_ids in the request."}
        if len(set(langs)) > 1:
            return 400, {"error": "Requesting multiple revisions should have the same language."}
        revisions: dict[tuple[int, str], float | str] = {}
        for item in items:
            checked = self._check(item)
            if isinstance(checked, dict):
                return 400, checked
            lang, rev_id = checked
            revisions[(rev_id, lang)] = self._outcome(lang, rev_id)
        failed = {key: reason for key, reason in revisions.items() if isinstance(reason, str)}
        if len(failed) == len(revisions):
            return 422, {"detail": f"Could not make prediction for revisions {failed.keys()}."
                                   f" Reason: {list(failed.values())}"}
        body: dict[str, Any] = {"predictions": [_answer(model, lang, rev_id, p) for (rev_id, lang), p
                                                in revisions.items() if not isinstance(p, str)]}
        if failed:
            body["errors"] = [f"Could not make prediction for revision {rev_id} ({lang}). Reason: {reason}"
                              for (rev_id, lang), reason in failed.items()]
        return 200, body


def _answer(model: str, lang: str, rev_id: int, p: float) -> dict[str, Any]:
    return {
        "model_name": model,
        "model_version": MODEL_VERSIONS[model],
        "wiki_db": lang + "wiki",
        "revision_id": rev_id,
        "output": {"prediction": p > 0.5, "probabilities": {"true": p, "false": 1 - p}},
    }


def _ores_answer(standin: "LiftWingStandin", wiki: str, model: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Lift Wing's revscoring contract: body {"rev_id": N}; ORES-shaped answer."""
    try:
        rev_id = json.loads(raw)["rev_id"]
    except (ValueError, KeyError, TypeError):
        return 400, {"error": "Please verify that request input is a json dict with rev_id"}
    if not isinstance(rev_id, int):
        return 400, {"error": 'Expected "rev_id" to be a int.'}
    lang = wiki.removesuffix("wiki")
    p = standin._scores.get((lang, rev_id))
    if p is None and standin.score_function is not None:
        found = standin.score_function(lang, rev_id)
        p = found if isinstance(found, float) else None
    bad = standin.default_score if p is None else p  # probability that the edit is bad
    true = bad if model == "damaging" else 1 - bad  # goodfaith: P(good faith)
    return 200, {wiki: {"models": {model: {"version": "0.5.1"}},
                        "scores": {str(rev_id): {model: {"score": {"prediction": true > 0.5,
                                                                  "probability": {"true": true, "false": 1 - true}}}}}}}


def _fault_body(status: int) -> bytes:
    if status == 500:
        return json.dumps({"error": MW_API_ERROR}).encode()
    if status == 429:
        return json.dumps({"httpCode": 429, "httpReason": "Too Many Requests"}).encode()
    return b"upstream connect error or disconnect/reset before headers. reset reason: overflow"


class _Server(ThreadingHTTPServer):
    """Threads are daemons and not joined; stop() shuts kept-alive connections instead."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        with self.connections_lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    standin: LiftWingStandin
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        standin = self.standin
        with standin._lock:
            standin.requests.append(RecordedRequest(
                "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, raw,
                time.monotonic()))
        scripted = standin._next_scripted()
        if scripted is not None and scripted.hang and standin._stopping.wait(scripted.hang):
            return
        if scripted is not None and scripted.status is not None:
            assert scripted.body is not None
            self._send(scripted.status, scripted.body, scripted.content_type, scripted.retry_after)
            return
        if standin.latency is not None and standin._stopping.wait(standin.latency()):
            return
        status, payload = standin.predict(self.path, raw)
        self._send(status, json.dumps(payload).encode(), "application/json", None)

    def do_GET(self) -> None:
        self._send(405, b'{"detail": "Method Not Allowed"}', "application/json", None)

    def _send(self, status: int, body: bytes, content_type: str, retry_after: str | None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (read timeout)
            self.close_connection = True


@contextmanager
def running_standin(**kwargs: Any) -> Iterator[LiftWingStandin]:
    """A started :class:`LiftWingStandin`, stopped on exit: ``with running_standin() as lw:``."""
    with LiftWingStandin(**kwargs) as standin:
        yield standin
