"""A locally hosted language-agnostic model (``model: "local:<name>"``), scored in-process.

``models/<name>/`` holds what ``automod train`` writes: ``model.json`` (xgboost's own JSON
format, never pickle: loading a model must not run code), ``model_card.json`` (its ``id``
is the model version recorded with every score; it also pins the feature set, the model
file's SHA-256 and the quality maxima used in training) and ``MODEL_CARD.md`` for people.

The model is loaded once, at construction. A missing model raises
:class:`~automod.scoring.base.UnknownModel`, an unreadable or tampered one
:class:`CorruptModel`: the caller then disables the wiki (fail closed).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automod.errors import ScoringError, WikiError, WikiUnavailable
from automod.scoring.base import Score, ScorerUnavailable, UnknownModel
from automod.scoring.features import (
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    EditData,
    NamespaceNames,
    QualityMaxima,
    RevisionInfo,
    TextCounts,
    edit_features,
    feature_vector,
    text_counts,
)
from automod.scoring.model_files import (
    CARD_FILE,
    CorruptModel,
    read_card,
    verify_sha256,
)
from automod.scoring.revision_data import Query, RevisionFetcher

__all__ = ["CARD_FILE", "MODEL_FILE", "CorruptModel", "CountsCache", "LocalModel", "LocalScorer", "ModelCard",
           "local_model_names"]  # CARD_FILE and CorruptModel: from model_files, shared with multilingual models

log = logging.getLogger("automod.scoring.local")

MODEL_FILE = "model.json"
PREFIX = "local:"


def local_model_names(models_dir: Path) -> list[str]:
    """Names of the model directories under ``models_dir`` (those holding a model card), sorted.

    A listed model may still fail to load (:class:`CorruptModel`): listing it lets the
    error say exactly what is wrong instead of "unknown model".
    """
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.iterdir() if p.is_dir() and (p / CARD_FILE).is_file())


@dataclass(frozen=True)
class ModelCard:
    """The parts of ``model_card.json`` that serving depends on."""

    id: str
    name: str
    wiki: str
    feature_set: str
    feature_names: tuple[str, ...]
    model_file: str
    model_sha256: str
    quality_maxima: QualityMaxima
    #: Platt scaling of the booster's margin: (slope, intercept); None: the booster's own output.
    calibration: tuple[float, float] | None = None

    @classmethod
    def from_json(cls, data: Any) -> ModelCard:
        if not isinstance(data, dict):
            raise ValueError("the card should be a JSON object")
        maxima = data.get("quality_maxima") or {}
        platt = data.get("calibration")
        return cls(id=str(data["id"]), name=str(data["name"]), wiki=str(data.get("wiki", "")),
                   feature_set=str(data["feature_set"]), feature_names=tuple(data["feature_names"]),
                   model_file=str(data.get("model_file", MODEL_FILE)), model_sha256=str(data["model_sha256"]),
                   quality_maxima=QualityMaxima(**{k: float(v) for k, v in maxima.items()}),
                   calibration=(float(platt["slope"]), float(platt["intercept"])) if platt else None)


class LocalModel:
    """A loaded booster and its card; :meth:`predict` takes rows in FEATURE_NAMES order."""

    def __init__(self, card: ModelCard, booster: Any) -> None:
        self.card = card
        self.booster = booster

    @classmethod
    def load(cls, model_dir: Path) -> LocalModel:
        """Load and verify ``model_dir``; raises UnknownModel or CorruptModel."""
        model_dir = Path(model_dir)
        card = read_card(model_dir, ModelCard.from_json, "local model (train one with `automod train`)")
        if card.feature_set != FEATURE_SET_VERSION or card.feature_names != FEATURE_NAMES:
            raise CorruptModel(f"model {card.id} was trained on feature set {card.feature_set!r}; "
                               f"this automod computes {FEATURE_SET_VERSION!r}: retrain it")
        model_path = model_dir / card.model_file
        if model_path.suffix not in (".json", ".ubj") or model_path.parent != model_dir:
            raise CorruptModel(f"model file {card.model_file!r} must be a .json or .ubj file in {model_dir}")
        verify_sha256(model_path, card.model_sha256, card.id)
        try:
            import xgboost  # late: only processes serving local models pay for it
        except ImportError as exc:
            raise UnknownModel(f"local models need xgboost: pip install -e '.[local]' in the checkout"
                               f" ({exc})") from exc

        try:
            booster = xgboost.Booster(model_file=str(model_path))
        except xgboost.core.XGBoostError as exc:
            raise CorruptModel(f"xgboost cannot load {model_path}: {str(exc).splitlines()[0]}") from exc
        if booster.num_features() != len(FEATURE_NAMES):
            raise CorruptModel(f"model {card.id} expects {booster.num_features()} features, not {len(FEATURE_NAMES)}")
        booster.set_param({"nthread": 1})  # one row at a time: threads cost more than they give
        log.info("loaded local model %s (%s) from %s", card.name, card.id, model_dir)
        return cls(card, booster)

    def predict(self, rows: Sequence[Sequence[float]]) -> list[float]:
        import numpy as np

        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES))
        if self.card.calibration is None:
            return [float(p) for p in self.booster.inplace_predict(matrix)]
        slope, intercept = self.card.calibration
        margins = self.booster.inplace_predict(matrix, predict_type="margin")
        return [float(p) for p in 1.0 / (1.0 + np.exp(-(slope * margins.astype(np.float64) + intercept)))]

    def features(self, edit: EditData, names: NamespaceNames, cache: CountsCache | None = None) -> dict[str, float]:
        counts = cache.counts(edit.revision, names) if cache else text_counts(edit.revision.text, names)
        parent = cache.counts(edit.parent, names) if cache else text_counts(edit.parent.text, names)
        return edit_features(edit, counts, parent, self.card.quality_maxima)

    def score_edit(self, edit: EditData, names: NamespaceNames, cache: CountsCache | None = None) -> float:
        """Features plus prediction for one edit: the revert probability."""
        return self.predict([feature_vector(self.features(edit, names, cache))])[0]


class CountsCache:
    """Text counts of recent revisions by id: an edit's parent is usually the edit scored
    just before it on that page, so its (costly, text-sized) counts are reused."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[int, TextCounts] = OrderedDict()

    def counts(self, revision: RevisionInfo, names: NamespaceNames) -> TextCounts:
        found = self._items.get(revision.rev_id)
        if found is None:
            found = self._items[revision.rev_id] = text_counts(revision.text, names)
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(revision.rev_id)
        return found


class LocalScorer:
    """The :class:`~automod.scoring.base.Scorer` for ``local:<name>`` on one wiki.

    ``query`` is that wiki's ``WikiGateway.query`` (or any function answering Action API
    queries in formatversion 2). Wiki failures while fetching become scoring errors, so a
    bad moment on the wiki never stops the moderator.
    """

    def __init__(self, model_dir: Path, query: Query, *, names: NamespaceNames | None = None,
                 lang: str | None = None, warning_pattern: str | None = None) -> None:
        """``warning_pattern``: what counts as a vandalism warning on the editor's talk page
        (default: the one for the wiki's content language, :func:`~.revision_data.warning_pattern`)."""
        self.model_dir = Path(model_dir)
        self.model = LocalModel.load(self.model_dir)
        self.model_name = PREFIX + self.model_dir.name
        self.fetcher = RevisionFetcher(query, names, lang=lang, warning_pattern=warning_pattern)
        self.cache = CountsCache()
        self.closed = False

    @property
    def version(self) -> str:
        return self.model.card.id

    def score(self, wiki: str, rev_id: int) -> Score:
        if self.closed:
            raise ScoringError(f"{self.model_name} is closed")
        try:
            edit = self.fetcher.fetch(rev_id)
        except WikiUnavailable as exc:
            raise ScorerUnavailable(f"{self.model_name}: cannot read r{rev_id} from {wiki}: {exc}") from exc
        except WikiError as exc:
            raise ScoringError(f"{self.model_name}: cannot read r{rev_id} from {wiki}: {exc}") from exc
        assert self.fetcher.names is not None
        probability = self.model.score_edit(edit, self.fetcher.names, self.cache)
        log.debug("%s: r%d scored %.4f by %s", wiki, rev_id, probability, self.model_name)
        return Score(probability=min(1.0, max(0.0, probability)), model=self.model_name, version=self.version)

    def close(self) -> None:
        self.closed = True
