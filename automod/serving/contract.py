"""Lift Wing's revert-risk HTTP contract, without a web framework: requests in, answers out.

Kept free of kserve so the contract is testable on its own and the bot's core never needs
the ``serve`` extra. The wording and status codes follow Lift Wing's model server
(reference: revert-risk-models.md §1.3–1.5, LW ``revert_risk_model/model_server``): a bad
request is 400 ``{"error": …}`` (kserve ``InvalidInput``), an unscorable revision is 422
``{"detail": …}`` (FastAPI ``HTTPException``), a wiki that cannot be read is 500
``{"error": <the MediaWiki API message>}``.

One deliberate difference: Lift Wing's language-agnostic (batch) class words its 422 with
Python reprs (``revisions dict_keys([(123, 'en')]). Reason: ['<code>']``). This server gives
every 422 in the wording Lift Wing uses without them, its multilingual model's and its batch
``errors`` entries': ``Could not make prediction for revision 123 (en). Reason: <code>``, one
such sentence per revision (joined by ``; ``) when a whole batch fails. Lift Wing clients read
both (the bot's own: ``scoring/liftwing_batch.py``).

The language-agnostic model also takes Lift Wing's batch form (LW ``batch_model.py``,
``RevisionRevertRiskModelBatch``): ``{"instances": [{"lang", "rev_id"}, …]}``, at most 20 of
one ``lang``, answered ``{"predictions": […]}`` plus ``"errors"`` for the revisions it could
not score; 422 only when none could be. The multilingual model has no batch path on Lift
Wing, so an ``instances`` body fails its single-request checks there and here alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "LIFTWING_NAMES", "MAX_BATCH", "MW_API_ERROR", "BadRequest",
           "RevisionRequest", "WikiRoute", "batch_answer", "batch_error", "batch_unscorable_detail", "is_batch",
           "parse_batch", "parse_request", "prediction", "unscorable_detail"]

#: Where ``automod serve`` listens by default: loopback, and KServe's (and Lift Wing's) pod port.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080

#: The name a local model is served under, by kind, so that any Lift Wing client finds it.
LIFTWING_NAMES = {"language-agnostic": "revertrisk-language-agnostic", "multilingual": "revertrisk-multilingual"}

#: Lift Wing's 500 body when the MediaWiki API could not be read (LW ``preprocess``).
MW_API_ERROR = ("An error happened while fetching info for revision from the MediaWiki API, "
                "please contact the ML-Team if the issue persists.")

#: Lift Wing's batch limit and its two batch-only 400s (kserve ``InvalidInput``: ``{"error": …}``).
MAX_BATCH = 20
TOO_MANY = f"Only accept a maximum of {MAX_BATCH} rev_ids in the request."
MIXED_LANGS = "Requesting multiple revisions should have the same language."


class BadRequest(ValueError):
    """A request Lift Wing answers with 400 ``{"error": message}``."""


@dataclass(frozen=True)
class WikiRoute:
    """Where a ``lang`` is read from: the wiki's db name and its Action API URL."""

    dbname: str
    api: str


@dataclass(frozen=True)
class RevisionRequest:
    """One valid request: the revision and the wiki (Lift Wing's ``lang``) it belongs to."""

    lang: str
    rev_id: int
    route: WikiRoute


def _required(payload: dict[str, Any], routes: Mapping[str, WikiRoute]) -> tuple[Any, Any]:
    """``lang`` (from ``wiki`` when only that is given) and ``rev_id``, both present."""
    lang, rev_id = payload.get("lang"), payload.get("rev_id")
    wiki = payload.get("wiki")
    if lang is None and isinstance(wiki, str):
        lang = next((code for code, route in routes.items() if route.dbname == wiki), wiki)
    for key, value in (("lang", lang), ("rev_id", rev_id)):
        if value is None or value == "" or value == 0:
            raise BadRequest(f"The parameter {key} is required.")
    return lang, rev_id


def parse_request(payload: Any, routes: Mapping[str, WikiRoute]) -> RevisionRequest:
    """Check a request body as Lift Wing does, in its order; raise :class:`BadRequest`.

    Besides Lift Wing's ``{"rev_id": N, "lang": "xx"}``, ``{"rev_id": N, "wiki": "xxwiki"}``
    is accepted (a db name is what a bot has at hand; Lift Wing itself refuses it in ``lang``).
    """
    if not isinstance(payload, dict):
        raise BadRequest("Please verify that request input is a json dict")
    lang, rev_id = _required(payload, routes)
    if not isinstance(rev_id, int) or isinstance(rev_id, bool):
        raise BadRequest('Expected "rev_id" to be a int.')
    if not isinstance(lang, str):
        raise BadRequest('Expected "lang" to be a string.')
    if lang.endswith("wiki"):
        raise BadRequest("Language field should not have a 'wiki' suffix, i.e. use 'en', not 'enwiki'")
    route = routes.get(lang)
    if route is None:
        raise BadRequest(f"lang '{lang}' does not exist in the canonical Wikipedia language list.")
    return RevisionRequest(lang=lang, rev_id=rev_id, route=route)


def is_batch(payload: Any) -> bool:
    """Whether a body is Lift Wing's batch form (``instances`` wins over single keys there too)."""
    return isinstance(payload, dict) and "instances" in payload


def parse_batch(payload: dict[str, Any], routes: Mapping[str, WikiRoute]) -> tuple[RevisionRequest, ...]:
    """The revisions of a batch body, checked in Lift Wing's order (each item's ``lang`` and
    ``rev_id`` present, at most 20, one ``lang``), then each item as a single request.
    A revision named twice is scored once, as Lift Wing keys its batch by (rev_id, lang)."""
    items = payload["instances"]
    if not isinstance(items, list) or not items:  # Lift Wing fails with a 500 here; a 400 says why
        raise BadRequest('Expected "instances" to be a non-empty list of {"lang": …, "rev_id": …} dicts.')
    langs = []
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("Please verify that request input is a json dict")
        langs.append(str(_required(item, routes)[0]))
        if len(langs) > MAX_BATCH:
            raise BadRequest(TOO_MANY)
    if len(set(langs)) > 1:
        raise BadRequest(MIXED_LANGS)
    return tuple(dict.fromkeys(parse_request(item, routes) for item in items))


def unscorable_detail(kind: str, request: RevisionRequest, code: str) -> str:
    """The 422 ``detail`` for one revision, for either kind of model (Lift Wing's wording
    without Python reprs; see the module's docstring)."""
    return batch_error(request, code)


def batch_unscorable_detail(failed: Sequence[tuple[RevisionRequest, str]]) -> str:
    """The 422 ``detail`` when no revision of a batch could be scored: each revision's own
    ``errors`` sentence, in request order, a revision named once."""
    entries = {(request.rev_id, request.lang): batch_error(request, code) for request, code in failed}
    return "; ".join(entries.values())


def batch_error(request: RevisionRequest, code: str) -> str:
    """One ``errors`` entry of a partly scored batch (also the multilingual model's 422 detail)."""
    return f"Could not make prediction for revision {request.rev_id} ({request.lang}). Reason: {code}"


def batch_answer(predictions: list[dict[str, Any]], errors: list[str]) -> dict[str, Any]:
    """The batch class's 200 body: ``errors`` only when some revisions could not be scored."""
    return {"predictions": predictions, "errors": errors} if errors else {"predictions": predictions}


def prediction(name: str, version: str, request: RevisionRequest, probability: float) -> dict[str, Any]:
    """Lift Wing's 200 body (LW ``base_model.py::predict``)."""
    return {
        "model_name": name,
        "model_version": version,
        "wiki_db": request.lang + "wiki",
        "revision_id": request.rev_id,
        "output": {"prediction": probability > 0.5,
                   "probabilities": {"true": probability, "false": 1 - probability}},
    }
