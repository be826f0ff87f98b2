"""Scorers: turn a revision into a revert probability (:class:`Score`).

``base`` holds the :class:`Scorer` protocol, :class:`Score`, the scoring errors and a
:class:`FunctionScorer` test double; ``liftwing`` the remote Lift Wing scorer.
"""

from automod.scoring.base import (
    KNOWN_LIFTWING_MODELS,
    FunctionScorer,
    Score,
    Scorer,
    ScorerTimeout,
    ScorerUnavailable,
    UnknownModel,
    Unscorable,
    wiki_lang,
)
from automod.scoring.liftwing import (
    LiftWingRetry,
    LiftWingScorer,
    LiftWingStats,
    Timeouts,
)

__all__ = [
    "KNOWN_LIFTWING_MODELS",
    "FunctionScorer",
    "LiftWingRetry",
    "LiftWingScorer",
    "LiftWingStats",
    "Score",
    "Scorer",
    "ScorerTimeout",
    "ScorerUnavailable",
    "Timeouts",
    "UnknownModel",
    "Unscorable",
    "wiki_lang",
]
