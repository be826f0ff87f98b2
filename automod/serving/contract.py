"""Lift Wing's revert-risk HTTP contract, without a web framework: requests in, answers out.

Kept free of kserve so the contract is testable on its own and the bot's core never needs
the ``serve`` extra. The wording and status codes follow Lift Wing's model server
(reference: revert-risk-models.md §1.3–1.5, LW ``revert_risk_model/model_server``): a bad
request is 400 ``{"error": …}`` (kserve ``InvalidInput``), an unscorable revision is 422
``{"detail": …}`` (FastAPI ``HTTPException``), a wiki that cannot be read is 500
``{"error": <the MediaWiki API message>}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "LIFTWING_NAMES", "MW_API_ERROR", "BadRequest", "RevisionRequest", "WikiRoute",
           "parse_request", "prediction", "unscorable_detail"]

#: Where ``automod serve`` listens by default: loopback, and KServe's (and Lift Wing's) pod port.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080

#: The name a local model is served under, by kind, so that any Lift Wing client finds it.
LIFTWING_NAMES = {"language-agnostic": "revertrisk-language-agnostic", "multilingual": "revertrisk-multilingual"}

#: Lift Wing's 500 body when the MediaWiki API could not be read (LW ``preprocess``).
MW_API_ERROR = ("An error happened while fetching info for revision from the MediaWiki API, "
                "please contact the ML-Team if the issue persists.")


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


def parse_request(payload: Any, routes: Mapping[str, WikiRoute]) -> RevisionRequest:
    """Check a request body as Lift Wing does, in its order; raise :class:`BadRequest`.

    Besides Lift Wing's ``{"rev_id": N, "lang": "xx"}``, ``{"rev_id": N, "wiki": "xxwiki"}``
    is accepted (a db name is what a bot has at hand; Lift Wing itself refuses it in ``lang``).
    """
    if not isinstance(payload, dict):
        raise BadRequest("Please verify that request input is a json dict")
    lang, rev_id = payload.get("lang"), payload.get("rev_id")
    wiki = payload.get("wiki")
    if lang is None and isinstance(wiki, str):
        lang = next((code for code, route in routes.items() if route.dbname == wiki), wiki)
    for key, value in (("lang", lang), ("rev_id", rev_id)):
        if value is None or value == "" or value == 0:
            raise BadRequest(f"The parameter {key} is required.")
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


def unscorable_detail(kind: str, request: RevisionRequest, code: str) -> str:
    """The 422 ``detail`` in the wording of the Lift Wing class serving this kind of model:
    the language-agnostic model is always served by the batch class, which words it per set."""
    if kind == "language-agnostic":
        return (f"Could not make prediction for revisions dict_keys([({request.rev_id}, '{request.lang}')])."
                f" Reason: ['{code}']")
    return f"Could not make prediction for revision {request.rev_id} ({request.lang}). Reason: {code}"


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
