"""Train, evaluate and save a local model from a :class:`Dataset`.

A time-based split (train on the oldest 70% of edits, evaluate on the newest 30%) mirrors
use: the model always scores edits newer than anything it saw. The booster is saved in
xgboost's own JSON format (never pickle) with a model card in JSON and Markdown; the card's
``id`` is the model version recorded with every score. Metrics are computed here (AUC by
ranks) rather than pulling in scikit-learn.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from automod.errors import AutomodError
from automod.onwiki.community_config import CAUTION_LEVELS, THRESHOLD_MAX, THRESHOLD_MIN
from automod.scoring.features import FEATURE_NAMES, FEATURE_SET_VERSION
from automod.scoring.local import CARD_FILE, MODEL_FILE
from automod.scoring.model_files import sha256_path
from automod.training.dataset import Dataset, label_summary
from automod.training.labels import LABEL_DEFINITION
from automod.training.metrics import auc, precision_recall_at, threshold_for_precision
from automod.training.model_card import write_markdown

__all__ = ["MIN_EDITS", "PARAMS", "THRESHOLDS", "TrainingError", "TrainingResult", "check_model_name",
           "recommend_threshold", "staged_model_dir", "train_model"]

log = logging.getLogger("automod.training.train")

TRAIN_FRACTION = 0.7
MIN_EDITS = 20
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)
PARAMS: dict[str, Any] = {"objective": "binary:logistic", "eval_metric": "auc", "max_depth": 4, "eta": 0.1,
                          "min_child_weight": 1.0, "subsample": 1.0, "tree_method": "hist", "seed": 0}
ROUNDS = 150
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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_model_name(name: str) -> None:
    """Raise TrainingError unless ``name`` can be a directory name and a ``local:`` model name."""
    if not name or name.startswith(".") or any(c in name for c in "/\\:") or name != name.strip():
        raise TrainingError(f"invalid model name {name!r}: use letters, digits, '-', '_' or '.'")


def train_model(dataset: Dataset, name: str, models_dir: Path, *, rounds: int = ROUNDS) -> TrainingResult:
    """Train on ``dataset`` and write ``models_dir/name/``; return the model card.

    Raises :class:`TrainingError` when the data cannot support a model.
    """
    import numpy as np
    import xgboost

    check_model_name(name)
    records = dataset.sorted_records()
    if len(records) < MIN_EDITS:
        raise TrainingError(
            f"only {len(records)} labelled edits in {dataset.source}; need at least {MIN_EDITS}. A labelled edit "
            "is a namespace-0 edit (not a page creation, not by a bot) inside the window, marked reverted or not: "
            "reverted means undone by another user within 48 hours. To get more: a longer --days, or, on a "
            "sandbox, `automod sandbox seed --dir DIR` (a backdated history with vandalism and its reverts)")
    cut = int(len(records) * TRAIN_FRACTION)
    train, held_out = records[:cut], records[cut:]
    if len({r.label for r in train}) < 2:
        raise TrainingError(f"the training part ({len(train)} edits) has only one label; need reverted and "
                            "not-reverted edits")
    maxima = dataset.quality_maxima()
    x_train = np.asarray(dataset.matrix(train, maxima), dtype=np.float32)
    x_eval = np.asarray(dataset.matrix(held_out, maxima), dtype=np.float32)
    y_train = np.asarray([r.label for r in train], dtype=np.float32)
    y_eval = [bool(r.label) for r in held_out]
    dtrain = xgboost.DMatrix(x_train, label=y_train, feature_names=list(FEATURE_NAMES))
    log.info("training %s on %d edits (%d reverted)", name, len(train), int(y_train.sum()))
    booster = xgboost.train({**PARAMS, "nthread": os.cpu_count() or 1}, dtrain, num_boost_round=rounds)
    scores = [float(p) for p in booster.predict(xgboost.DMatrix(x_eval, feature_names=list(FEATURE_NAMES)))]
    gains = booster.get_score(importance_type="gain")
    importance = dict(sorted(((f, round(float(gains.get(f, 0.0)), 4)) for f in FEATURE_NAMES),
                             key=lambda kv: -kv[1]))
    evaluation = {
        "auc": auc(scores, y_eval),
        "thresholds": [precision_recall_at(scores, y_eval, t) for t in THRESHOLDS],
        "threshold_for_precision": {str(p): threshold_for_precision(scores, y_eval, p) for p in (0.95, 0.99)},
        "recommended": recommend_threshold(scores, y_eval),
    }
    created = datetime.now(UTC)
    card: dict[str, Any] = {
        "name": name, "wiki": dataset.wiki, "created": _iso(created),
        "feature_set": FEATURE_SET_VERSION, "feature_names": list(FEATURE_NAMES),
        "model_file": MODEL_FILE, "model_format": "xgboost JSON", "xgboost_version": xgboost.__version__,
        "params": PARAMS, "rounds": rounds,
        "data": {
            "source": dataset.source, "window": {"start": _iso(dataset.start), "end": _iso(dataset.end)},
            "label": LABEL_DEFINITION, "exclusions": "bots, page creations, namespaces other than 0",
            "split": f"time-based: oldest {TRAIN_FRACTION:.0%} train, newest {1 - TRAIN_FRACTION:.0%} evaluation",
            "train": {**label_summary(train), **_span(train)},
            "evaluation": {**label_summary(held_out), **_span(held_out)},
            "notes": list(dataset.notes),
        },
        "quality_maxima": maxima.to_json(),
        "evaluation": evaluation,
        "feature_importance": importance,
    }
    model_dir, card = _write(booster, card, name, Path(models_dir), created)
    return TrainingResult(model_dir, card)


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


def _span(records: Sequence[Any]) -> dict[str, str | None]:
    if not records:
        return {"first": None, "last": None}
    return {"first": _iso(records[0].revision.timestamp), "last": _iso(records[-1].revision.timestamp)}


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
