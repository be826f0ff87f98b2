"""A local model as a KServe ``Model`` that answers in Lift Wing's revert-risk contract.

KServe brings the HTTP server, ``/v1/models/<name>`` readiness, the liveness root and the
Prometheus ``/metrics``; this class only turns a request into a score. Scoring (two Action
API round trips plus the model) blocks, so it runs on the event loop's thread pool and the
loop stays free for health checks while a wiki is slow. The model is pickled into each
worker process (KServe spawns them), so it carries only its :class:`ModelSpec` across and
builds its scorers where it runs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import warnings
from http import HTTPStatus
from typing import Any

from automod.errors import ScoringError
from automod.records import Score
from automod.scoring import ScorerUnavailable, Unscorable
from automod.serving.contract import (
    MW_API_ERROR,
    BadRequest,
    RevisionRequest,
    batch_answer,
    batch_error,
    batch_unscorable_detail,
    is_batch,
    parse_batch,
    parse_request,
    prediction,
    unscorable_detail,
)
from automod.serving.scorers import ModelSpec, ScorerPool

__all__ = ["RevertRiskModel", "import_kserve"]

log = logging.getLogger("automod.serving.model")


def import_kserve() -> Any:
    """``import kserve`` without letting it parse our command line: ``kserve.model_server``
    runs ``argparse.parse_known_args()`` on ``sys.argv`` at import time."""
    argv = sys.argv
    sys.argv = argv[:1]
    try:
        import kserve
    finally:
        sys.argv = argv
    return kserve


kserve = import_kserve()
from fastapi import HTTPException  # noqa: E402  (kserve first: see import_kserve)
from fastapi.exceptions import FastAPIDeprecationWarning  # noqa: E402
from kserve.errors import InferenceError, InvalidInput  # noqa: E402

# KServe answers every v1 request with FastAPI's ORJSONResponse, which FastAPI now deprecates:
# a warning about KServe's code, not ours, that the operator can do nothing about. Set here so
# that every worker process (they import this module to unpickle the model) has it too.
warnings.filterwarnings("ignore", message="ORJSONResponse is deprecated", category=FastAPIDeprecationWarning)


class RevertRiskModel(kserve.Model):  # type: ignore[name-defined]  # kserve: a module imported at run time (Any)
    """``POST /v1/models/<name>:predict`` with ``{"rev_id": N, "lang": "xx"}`` → Lift Wing's body
    (and, for the language-agnostic model, ``{"instances": […]}`` → its batch body)."""

    def __init__(self, spec: ModelSpec, name: str | None = None) -> None:
        super().__init__(name or spec.liftwing_name)
        self.spec = spec
        self.version = ""
        self._pool: ScorerPool | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_pool"] = None  # scorers hold sessions and loaded models: rebuilt in each worker
        return state

    def load(self) -> bool:
        """Load the model once here so a missing or corrupt model stops the server at start."""
        lang = next(iter(self.spec.routes))  # the server refuses to start without a wiki
        with self.pool.borrow(lang) as scorer:
            self.version = str(getattr(scorer, "version", "") or self.spec.local_name)
        self.ready = True
        return self.ready

    @property
    def pool(self) -> ScorerPool:
        if self._pool is None:
            self._pool = ScorerPool(self.spec)
        return self._pool

    async def predict(self, payload: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
        batch = self.spec.kind == "language-agnostic" and is_batch(payload)
        try:
            if batch:
                requests = parse_batch(payload, self.spec.routes)
            else:
                request = parse_request(payload, self.spec.routes)
        except BadRequest as exc:
            if is_batch(payload) and not batch:
                log.info("refused a batch request: the %s model has no batch form (nor on Lift Wing)", self.spec.kind)
            raise InvalidInput(str(exc)) from None
        loop = asyncio.get_running_loop()
        if batch:
            return await loop.run_in_executor(None, self._score_batch, requests)
        return await loop.run_in_executor(None, self._score, request)

    def _score_batch(self, requests: tuple[RevisionRequest, ...]) -> dict[str, Any]:
        """Lift Wing's batch answer: a wiki that cannot be read fails the whole batch (500),
        an unscorable revision only itself (an ``errors`` entry; 422 if none was scored)."""
        lang = requests[0].lang
        outcomes = self.pool.score_many(lang, [request.rev_id for request in requests])
        predictions, failed = [], []
        for request, outcome in zip(requests, outcomes):
            if isinstance(outcome, Score):
                predictions.append(prediction(self.name, outcome.version or self.version, request, outcome.probability))
            elif isinstance(outcome, Unscorable):
                failed.append((request, outcome.code or "revision_info_deleted"))
            else:
                log.error("r%d (%s): %s", request.rev_id, lang, outcome)
                if isinstance(outcome, ScorerUnavailable):
                    raise InferenceError(MW_API_ERROR) from None
                raise InferenceError(f"Could not make prediction for revisions "
                                     f"{[r.rev_id for r in requests]} ({lang}).") from None
        if failed:
            log.info("batch of %d (%s): unscorable %s", len(requests), lang,
                     ", ".join(f"r{request.rev_id} {code}" for request, code in failed))
        if not predictions:
            raise HTTPException(status_code=HTTPStatus.UNPROCESSABLE_ENTITY, detail=batch_unscorable_detail(failed))
        return batch_answer(predictions, [batch_error(request, code) for request, code in failed])

    def _score(self, request: RevisionRequest) -> dict[str, Any]:
        try:
            with self.pool.borrow(request.lang) as scorer:
                score = scorer.score(request.route.dbname, request.rev_id)
        except Unscorable as exc:
            code = exc.code or "revision_info_deleted"
            log.info("r%d (%s): %s", request.rev_id, request.lang, code)
            raise HTTPException(status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
                                detail=unscorable_detail(self.spec.kind, request, code)) from None
        except ScorerUnavailable as exc:
            log.error("r%d (%s): %s", request.rev_id, request.lang, exc)
            raise InferenceError(MW_API_ERROR) from None
        except ScoringError as exc:
            log.error("r%d (%s): %s", request.rev_id, request.lang, exc)
            raise InferenceError(f"Could not make prediction for revision {request.rev_id} "
                                 f"({request.lang}).") from None
        return prediction(self.name, score.version or self.version, request, score.probability)
