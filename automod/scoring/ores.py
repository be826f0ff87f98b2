"""ORES-style models (revscoring ``damaging`` / ``goodfaith``) served by Lift Wing.

Lift Wing serves them per wiki at ``{url}{wiki}-{model}:predict`` with body
``{"rev_id": N}`` and answers ORES's shape::

    {"<wiki>": {"models": {"damaging": {"version": "0.5.1"}},
                "scores": {"<rev>": {"damaging": {"score": {"prediction": true,
                                                            "probability": {"true": 0.93, "false": 0.07}}}}}}}

The revert probability is P(true) for ``damaging`` and P(false) — bad faith — for
``goodfaith``. Not every wiki has these models: a 404 means "not here", and the community
config that asks for one is refused (fail closed). Retries, timeouts and Retry-After come
from :class:`~automod.scoring.liftwing.LiftWingScorer`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from automod.scoring.base import (
    KNOWN_LIFTWING_MODELS,
    Score,
    ScoringError,
    UnknownModel,
)
from automod.scoring.liftwing import LiftWingScorer

__all__ = ["ORES_MODELS", "OresScorer"]

ORES_MODELS = ("damaging", "goodfaith")


class OresScorer(LiftWingScorer):
    """A damaging/goodfaith model of one wiki, as a revert probability."""

    def __init__(self, url: str, model: str, wiki: str, **kwargs: Any) -> None:
        if model not in ORES_MODELS:
            raise UnknownModel(f"ORES-style model {model!r} is not one of {', '.join(ORES_MODELS)}")
        super().__init__(url, KNOWN_LIFTWING_MODELS[0], **kwargs)
        self.model = model
        self.wiki = wiki
        self.endpoint = f"{self.url}{wiki}-{model}:predict"

    def __repr__(self) -> str:
        return f"OresScorer({self.endpoint!r})"

    def _request_body(self, wiki: str, rev_id: int) -> tuple[bytes, str]:
        if wiki != self.wiki:
            raise ScoringError(f"this scorer serves {self.wiki}, not {wiki}")  # caller bug
        return json.dumps({"rev_id": rev_id}).encode(), wiki

    def _parse(self, content: bytes, rev_id: int) -> Score:
        try:
            data = json.loads(content)[self.wiki]
            version = data["models"][self.model]["version"]
            probability = data["scores"][str(rev_id)][self.model]["score"]["probability"]
            p = probability["false" if self.model == "goodfaith" else "true"]
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p) or not 0 <= p <= 1:
                raise ValueError(f"probability is {p!r}")
            if not isinstance(version, str):
                raise ValueError(f"version is {version!r}")
        except (ValueError, KeyError, TypeError) as exc:
            self.stats.errors["bad_response"] += 1
            raise ScoringError(f"unexpected Lift Wing response for {self.endpoint}: {exc!r}") from exc
        return Score(probability=float(p), model=self.model, version=version)

    def available(self) -> bool:
        """Whether Lift Wing has this model for this wiki (404 = no); probed once."""
        try:
            self._session.post(self.endpoint, data=b'{"rev_id": 1}', headers=self._headers(),
                               timeout=(self.timeouts.connect, self.timeouts.read), allow_redirects=False
                               ).raise_for_status()
        except Exception as exc:  # noqa: BLE001 - any answer but 404 means the model exists
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status == 404:
                return False
            if status is None:
                raise ScoringError(f"cannot reach Lift Wing to check {self.endpoint}: {exc}") from exc
        return True
