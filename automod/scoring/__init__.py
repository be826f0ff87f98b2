"""Scorers: turn a revision into a revert probability (:class:`Score`).

``base`` holds the :class:`Scorer` protocol, :class:`Score`, the scoring errors and a
:class:`FunctionScorer` test double; ``liftwing`` the remote Lift Wing scorer; ``ores`` the
ORES-style ones; ``features``, ``content_features``, ``revision_data`` and ``local`` the local
language-agnostic model; ``model_files`` a model directory's card and checksums. The
multilingual model has its own face, :mod:`automod.scoring.multilingual`. Other packages
import these names from here, not from the modules (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

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
from automod.scoring.content_features import (
    CONTENT_FEATURE_NAMES,
    EditDiff,
    content_features,
    edit_diff,
    word_lists,
)
from automod.scoring.features import (
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    MISSING,
    EditData,
    NamespaceNames,
    QualityMaxima,
    RevisionInfo,
    TextCounts,
    UserInfo,
    edit_features,
    feature_vector,
    text_counts,
    text_features,
    user_features,
)
from automod.scoring.liftwing import (
    BATCH_MAX,
    LiftWingRetry,
    LiftWingScorer,
    LiftWingStats,
    MalformedAnswer,
    Timeouts,
)
from automod.scoring.local import MODEL_FILE, LocalModel, LocalScorer, local_model_names
from automod.scoring.model_files import CARD_FILE, CorruptModel, sha256_path, verify_sha256
from automod.scoring.ores import ORES_MODELS, OresScorer
from automod.scoring.revision_data import Query, parse_timestamp

__all__ = [
    "BATCH_MAX",
    "CARD_FILE",
    "CONTENT_FEATURE_NAMES",
    "FEATURE_NAMES",
    "FEATURE_SET_VERSION",
    "KNOWN_LIFTWING_MODELS",
    "MISSING",
    "MODEL_FILE",
    "ORES_MODELS",
    "CorruptModel",
    "EditData",
    "EditDiff",
    "FunctionScorer",
    "LiftWingRetry",
    "LiftWingScorer",
    "LiftWingStats",
    "LocalModel",
    "LocalScorer",
    "MalformedAnswer",
    "NamespaceNames",
    "OresScorer",
    "QualityMaxima",
    "Query",
    "RevisionInfo",
    "Score",
    "Scorer",
    "ScorerTimeout",
    "ScorerUnavailable",
    "TextCounts",
    "Timeouts",
    "UnknownModel",
    "Unscorable",
    "UserInfo",
    "content_features",
    "edit_diff",
    "edit_features",
    "feature_vector",
    "local_model_names",
    "parse_timestamp",
    "sha256_path",
    "text_counts",
    "text_features",
    "user_features",
    "verify_sha256",
    "wiki_lang",
    "word_lists",
]
