"""Train, evaluate and save a local model from a :class:`Dataset` or a labelled-edits table.

The protocol (:mod:`automod.training.protocol`): page-grouped 5-fold cross-validation with
early stopping gives out-of-fold scores for every edit; the served model is refit on all
edits; a logistic calibration fitted on the out-of-fold scores makes its output a
probability. The card's evaluation (ROC AUC, PR AUC, recall at 0.1/0.5/1 % false positives
with bootstrap intervals, thresholds per precision target, the recommended threshold) is
computed on those out-of-fold scores: edits no model that scored them had seen. The booster
is saved in xgboost's own JSON format (never pickle) with a model card in JSON and Markdown;
the card's ``id`` is the model version recorded with every score.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from automod.config import CAUTION_LEVELS, THRESHOLD_MAX, THRESHOLD_MIN
from automod.errors import AutomodError
from automod.scoring import CARD_FILE, FEATURE_NAMES, FEATURE_SET_VERSION, MODEL_FILE, QualityMaxima, sha256_path
from automod.training.dataset import Dataset
from automod.training.labels import LABEL_DEFINITION
from automod.training.metrics import auc, precision_recall_at, ranking_summary, threshold_for_precision
from automod.training.model_card import write_markdown
from automod.training.protocol import FOLDS, PARAMS, Calibration, cross_validate, fit_final

__all__ = ["MIN_EDITS", "PARAMS", "PRECISION_TARGETS", "THRESHOLDS", "TrainingError", "TrainingResult",
           "TrainingTable", "check_model_name", "recommend_threshold", "staged_model_dir", "train_model",
           "train_table"]

log = logging.getLogger("automod.training.train")

MIN_EDITS = 20
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)
#: The card gives the lowest threshold reaching each of these precisions.
PRECISION_TARGETS = (0.9, 0.95, 0.99)
#: The recommended threshold must reach this precision on held-out edits ...
TARGET_PRECISION = 0.95
#: ... flagging at least this many of them (a precision of 1/1 proves nothing).
MIN_FLAGGED = 5


class TrainingError(AutomodError):
    """The data cannot give a model (too few edits, one class only, bad name)."""


@dataclass(frozen=True)
class TrainingResult:
    model_dir: Path
    card: dict[str, Any]

    @property
    def auc(self) -> float | None:
        value = self.card["evaluation"]["auc"]
        return None if value is None else float(value)


@dataclass(frozen=True)
class TrainingTable:
    """Feature rows (in FEATURE_NAMES order, NaN = missing), labels, and what the card says."""

    wiki: str
    source: str
    label: str
    exclusions: str
    rows: list[list[float]]
    labels: list[bool]
    #: Rows of one group (a page) are never split between training and evaluation.
    groups: list[str]
    timestamps: list[datetime | None]
    quality_maxima: QualityMaxima = QualityMaxima()
    notes: tuple[str, ...] = ()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_model_name(name: str) -> None:
    """Raise TrainingError unless ``name`` can be a directory name and a ``local:`` model name."""
    if not name or name.startswith(".") or any(c in name for c in "/\\:") or name != name.strip():
        raise TrainingError(f"invalid model name {name!r}: use letters, digits, '-', '_' or '.'")


def train_model(dataset: Dataset, name: str, models_dir: Path) -> TrainingResult:
    """Train on a wiki's history (``dataset``) and write ``models_dir/name/``; return the card.

    Raises :class:`TrainingError` when the data cannot support a model.
    """
    check_model_name(name)
    records = dataset.sorted_records()
    if len(records) < MIN_EDITS:
        raise TrainingError(
            f"only {len(records)} labelled edits in {dataset.source}; need at least {MIN_EDITS}. A labelled edit "
            "is a namespace-0 edit (not a page creation, not by a bot) inside the window, marked reverted or not: "
            "reverted means undone by another user within 48 hours. To get more: a longer --days, or, on a "
            "sandbox, `automod sandbox seed --dir DIR` (a backdated history with vandalism and its reverts)")
    maxima = dataset.quality_maxima()
    table = TrainingTable(
        wiki=dataset.wiki, source=dataset.source, label=LABEL_DEFINITION,
        exclusions="bots, page creations, namespaces other than 0", rows=dataset.matrix(records, maxima),
        labels=[bool(r.label) for r in records], groups=[str(r.page_id) for r in records],
        timestamps=[r.revision.timestamp for r in records], quality_maxima=maxima, notes=dataset.notes)
    return train_table(table, name, models_dir)


def train_table(table: TrainingTable, name: str, models_dir: Path) -> TrainingResult:
    """Cross-validate, refit, calibrate and write ``models_dir/name/`` from ``table``."""
    import numpy as np
    import xgboost

    check_model_name(name)
    if len(table.rows) < MIN_EDITS:
        raise TrainingError(f"only {len(table.rows)} labelled edits in {table.source}; need at least {MIN_EDITS}")
    positives = sum(table.labels)
    if positives < 2 or len(table.labels) - positives < 2:
        raise TrainingError(f"{table.source} has {positives} edits labelled 1 and {len(table.labels) - positives} "
                            "labelled 0; need at least two of each (reverted and not-reverted edits)")
    x = np.asarray(table.rows, dtype=np.float32)
    y = np.asarray(table.labels, dtype=np.float32)
    log.info("cross-validating %s on %d edits (%d positive)", name, len(y), positives)
    cv = cross_validate(x, y, table.groups)
    calibration = Calibration.fit(cv.margins, table.labels)
    scores = [calibration.apply(m) for m in cv.margins]
    booster, rounds = fit_final(x, y, cv.rounds, FEATURE_NAMES)
    gains = booster.get_score(importance_type="gain")
    importance = dict(sorted(((f, round(float(gains.get(f, 0.0)), 4)) for f in FEATURE_NAMES),
                             key=lambda kv: -kv[1]))
    labels = table.labels
    evaluation = {
        "method": f"out-of-fold scores of {FOLDS}-fold cross-validation grouped by page (every edit scored by a "
                  "model that never saw its page), calibrated",
        "auc": auc(scores, labels),
        **ranking_summary(scores, labels),
        "thresholds": [precision_recall_at(scores, labels, t) for t in THRESHOLDS],
        "threshold_for_precision": {str(p): threshold_for_precision(scores, labels, p) for p in PRECISION_TARGETS},
        "recommended": recommend_threshold(scores, labels),
    }
    base_rate = positives / len(labels)
    created = datetime.now(UTC)
    known = sorted(t for t in table.timestamps if t is not None)
    summary = {**label_summary_of(labels), "first": _iso(known[0]) if known else None,
               "last": _iso(known[-1]) if known else None}
    card: dict[str, Any] = {
        "name": name, "wiki": table.wiki, "created": _iso(created),
        "feature_set": FEATURE_SET_VERSION, "feature_names": list(FEATURE_NAMES),
        "model_file": MODEL_FILE, "model_format": "xgboost JSON", "xgboost_version": xgboost.__version__,
        "params": PARAMS, "rounds": rounds, "fold_rounds": cv.rounds,
        "calibration": {**calibration.to_json(), "base_rate": base_rate,
                        "meaning": f"a score p means: about p of the edits scored near p were labelled 1, at this "
                                   f"data's rate of {base_rate:.1%} labelled edits; where vandalism is rarer the "
                                   "same score means a lower share (thresholds stay valid for ranking)"},
        "data": {
            "source": table.source,
            "window": {"start": summary["first"], "end": summary["last"]},
            "label": table.label, "exclusions": table.exclusions,
            "split": f"{FOLDS}-fold cross-validation grouped by page for the evaluation; the served model is refit "
                     "on all edits",
            "train": summary, "evaluation": summary,
            "notes": list(table.notes),
        },
        "quality_maxima": table.quality_maxima.to_json(),
        "evaluation": evaluation,
        "feature_importance": importance,
    }
    model_dir, card = _write(booster, card, name, Path(models_dir), created)
    return TrainingResult(model_dir, card)


def label_summary_of(labels: Sequence[bool]) -> dict[str, int]:
    positives = sum(1 for y in labels if y)
    return {"edits": len(labels), "reverted": positives, "not_reverted": len(labels) - positives}


def recommend_threshold(scores: Sequence[float], labels: Sequence[bool],
                        target: float = TARGET_PRECISION) -> dict[str, Any]:
    """The lowest threshold the community config accepts that reaches ``target`` precision on the
    held-out edits (flagging at least :data:`MIN_FLAGGED`), the loosest caution level that does,
    or None for both with the reason: a model's recommendation is always one the wiki can use.
    """
    def ok(threshold: float) -> bool:
        row = precision_recall_at(scores, labels, threshold)
        return int(row["flagged"] or 0) >= MIN_FLAGGED and (row["precision"] or 0.0) >= target

    candidates = sorted({THRESHOLD_MIN, *(math.ceil(s * 1000) / 1000 for s in scores
                                          if THRESHOLD_MIN <= math.ceil(s * 1000) / 1000 <= THRESHOLD_MAX)})
    threshold = next((t for t in candidates if ok(t)), None)
    levels = [name for name, value in sorted(CAUTION_LEVELS.items(), key=lambda kv: kv[1]) if ok(value)]
    found = {"target_precision": target, "allowed": [THRESHOLD_MIN, THRESHOLD_MAX], "threshold": threshold,
             "caution_level": levels[0] if levels else None, "reason": None}
    if threshold is not None:
        found.update({k: precision_recall_at(scores, labels, threshold)[k] for k in ("precision", "recall", "flagged")})
    else:
        above = sum(1 for s in scores if s > THRESHOLD_MIN)
        found["reason"] = (f"no threshold the config accepts ({THRESHOLD_MIN}-{THRESHOLD_MAX}) reaches "
                           f"{target:.0%} precision on the held-out edits while flagging at least {MIN_FLAGGED} "
                           f"({above} of {len(scores)} score above {THRESHOLD_MIN}): do not let this model revert; "
                           "train on more data or use it in log-only mode")
    return found


def _write(booster: Any, card: dict[str, Any], name: str, models_dir: Path,
           created: datetime) -> tuple[Path, dict[str, Any]]:
    with staged_model_dir(models_dir, name) as staging:
        booster.save_model(str(staging / MODEL_FILE))
        digest = sha256_path(staging / MODEL_FILE)
        card = {"id": f"{name}-{created.strftime('%Y%m%dT%H%M%SZ')}-{digest[:8]}", **card, "model_sha256": digest}
        (staging / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_markdown(card, staging / "MODEL_CARD.md")
    log.info("wrote model %s to %s (AUC %s)", card["id"], models_dir / name, card["evaluation"]["auc"])
    return models_dir / name, card


@contextmanager
def staged_model_dir(models_dir: Path, name: str) -> Iterator[Path]:
    """A fresh directory next to ``models_dir/name`` that replaces it when the block ends
    without an error (a serving process never reads half a model); removed otherwise."""
    check_model_name(name)
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=models_dir))
    try:
        yield staging
        final = models_dir / name
        old = models_dir / f".{name}.old"
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
