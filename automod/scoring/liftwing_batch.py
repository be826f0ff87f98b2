"""Lift Wing's batch form of the language-agnostic model, as a client reads it.

LW ``batch_model.py`` (``RevisionRevertRiskModelBatch``) takes ``{"instances": [{"lang",
"rev_id"}, …]}`` (at most 20, one ``lang``) and answers ``{"predictions": [<single answer>, …]}``,
plus ``"errors": ["Could not make prediction for revision N (xx). Reason: <code>", …]`` for
the revisions it could not score; when none could be, a 422 whose ``detail`` lists them all
(``dict_keys([(N, 'xx'), …]). Reason: ['<code>', …]``; ``automod serve`` gives one
``Could not make prediction for revision N (xx). Reason: <code>`` sentence per revision
instead, read alike). Each unscorable revision is turned
into one sentence (:func:`single_detail`), as a 422 to a single request is, so a decision
records the same reason whether its revision was scored alone or in a batch, by Lift Wing or
by ``automod serve``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["BATCH_MAX", "BATCH_MODELS", "batch_body", "failed_codes", "single_detail"]

#: Lift Wing's limit on a batch ("Only accept a maximum of 20 rev_ids in the request.").
BATCH_MAX = 20
#: The models Lift Wing serves with its batch class (the multilingual one has no batch path).
BATCH_MODELS = ("revertrisk-language-agnostic",)

_ERROR_ENTRY = re.compile(r"Could not make prediction for revision (-?\d+) \(([^)]*)\)\. Reason: ([A-Za-z_]+)")
_KEY = re.compile(r"\((-?\d+), '([^']*)'\)")
_CODE = re.compile(r"'([A-Za-z_]+)'")


def batch_body(lang: str, rev_ids: Sequence[int]) -> bytes:
    """The request body for ``rev_ids`` of one wiki."""
    return json.dumps({"instances": [{"lang": lang, "rev_id": rev_id} for rev_id in rev_ids]}).encode()


def single_detail(rev_id: int, lang: str, code: str) -> str:
    """The reason recorded for an unscorable revision, alone or in a batch, from any server:
    Lift Wing's sentence without Python reprs (its multilingual 422 and batch ``errors`` wording)."""
    return f"Could not make prediction for revision {rev_id} ({lang}). Reason: {code}"


def failed_codes(body: Any) -> dict[int, str]:
    """Reason codes by revision, from a 200's ``errors`` list or a 422's ``detail``; entries
    that cannot be read are left out (the caller treats a revision with no answer as malformed)."""
    if isinstance(body, list):  # the 200's "errors"
        found = (_ERROR_ENTRY.search(entry) for entry in body if isinstance(entry, str))
        return {int(m.group(1)): m.group(3) for m in found if m}
    if not isinstance(body, str) or "Reason:" not in body:
        return {}
    sentences = list(_ERROR_ENTRY.finditer(body))  # `automod serve`'s 422: one sentence per revision
    if sentences:
        return {int(m.group(1)): m.group(3) for m in sentences}
    keys, _, reasons = body.partition("Reason:")
    rev_ids = [int(m.group(1)) for m in _KEY.finditer(keys)]
    codes = _CODE.findall(reasons)
    return dict(zip(rev_ids, codes)) if len(rev_ids) == len(codes) else {}
