"""The training protocol: grouped cross-validation, early stopping, refit, calibration.

Why each step:

- **Grouped folds** (by page): edits of one page share text and vandals; a page in both
  the training and the evaluation part would flatter the scores.
- **Early stopping** on a validation part of each fold's training data chooses the number
  of boosting rounds; the final model is then **refit on all the data** with the median of
  the folds' choices (measured: fitting on 70 % only lost 0.01–0.05 AUC).
- **Class weighting** (negatives / positives) so the rare class shapes the trees.
- **Calibration**: the weighted booster's scores are not probabilities. A logistic map
  (Platt) fitted on the out-of-fold margins turns them into the share of reverted edits
  among edits scored alike *at the training data's base rate*; it is monotonic, so it never
  changes the ranking nor merges the high scores a community threshold separates.
"""

from __future__ import annotations

import math
import os
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_ROUNDS", "PARAMS", "Calibration", "CrossValidation", "cross_validate", "fit_final", "group_folds"]

PARAMS: dict[str, Any] = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 4, "eta": 0.05,
                          "min_child_weight": 2.0, "subsample": 0.8, "colsample_bytree": 0.8,
                          "tree_method": "hist", "seed": 0}
MAX_ROUNDS = 1000
EARLY_STOPPING = 50
FOLDS = 5
VALIDATION_SHARE = 0.2


@dataclass(frozen=True)
class Calibration:
    """``probability = 1 / (1 + exp(-(slope * margin + intercept)))`` (Platt scaling)."""

    slope: float = 1.0
    intercept: float = 0.0

    def apply(self, margin: float) -> float:
        z = self.slope * margin + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    @classmethod
    def fit(cls, margins: Sequence[float], labels: Sequence[bool]) -> Calibration:
        """Logistic regression of the labels on the margins (Newton steps, small ridge)."""
        a, b = 1.0, 0.0
        for _ in range(50):
            ga = gb = haa = hab = hbb = 0.0
            for m, y in zip(margins, labels):
                p = cls(a, b).apply(m)
                r = p - (1.0 if y else 0.0)
                w = max(p * (1 - p), 1e-9)
                ga += r * m
                gb += r
                haa += w * m * m
                hab += w * m
                hbb += w
            haa += 1e-6
            hbb += 1e-6
            det = haa * hbb - hab * hab
            if det <= 0:
                break
            da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
            a, b = a - da, b - db
            if abs(da) + abs(db) < 1e-9:
                break
        return cls(a, b)

    def to_json(self) -> dict[str, Any]:
        return {"method": "platt", "slope": self.slope, "intercept": self.intercept}


def group_folds(groups: Sequence[str], folds: int = FOLDS, seed: int = 0) -> list[int]:
    """A fold number per row; every row of a group in the same fold (groups shuffled)."""
    distinct = sorted(set(groups))
    random.Random(seed).shuffle(distinct)
    k = max(2, min(folds, len(distinct)))
    fold_of = {g: i % k for i, g in enumerate(distinct)}
    return [fold_of[g] for g in groups]


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold raw margins (one per row) and the rounds early stopping chose per fold."""

    margins: list[float]
    rounds: list[int]


def _threads(rows: int) -> int:
    """Threads pay off only on larger data: a few hundred rows train fastest on one."""
    return max(1, min(os.cpu_count() or 1, rows // 2000))


def _weight(labels: Any) -> float:
    positives = float(labels.sum())
    return (len(labels) - positives) / positives if positives else 1.0


def _fit_early_stopped(x: Any, y: Any, groups: Sequence[str]) -> tuple[Any, int]:
    import numpy as np
    import xgboost

    inner = group_folds(groups, folds=int(round(1 / VALIDATION_SHARE)), seed=1)
    val = np.asarray([f == 0 for f in inner])
    if val.all() or not val.any() or len(set(y[~val].tolist())) < 2 or len(set(y[val].tolist())) < 2:
        val = np.zeros(len(y), dtype=bool)
        val[::5] = True
    params = {**PARAMS, "scale_pos_weight": _weight(y[~val]), "nthread": _threads(len(y))}
    dfit = xgboost.DMatrix(x[~val], label=y[~val])
    dval = xgboost.DMatrix(x[val], label=y[val])
    booster = xgboost.train(params, dfit, num_boost_round=MAX_ROUNDS, evals=[(dval, "validation")],
                            early_stopping_rounds=EARLY_STOPPING, verbose_eval=False)
    return booster, int(booster.best_iteration) + 1


def cross_validate(x: Any, y: Any, groups: Sequence[str]) -> CrossValidation:
    """Out-of-fold margins by page-grouped folds, each fold early-stopped on its own data."""
    import numpy as np
    import xgboost

    folds = np.asarray(group_folds(groups))
    margins = np.zeros(len(y))
    rounds = []
    for fold in sorted(set(folds.tolist())):
        test = folds == fold
        train_groups = [g for g, t in zip(groups, test) if not t]
        booster, best = _fit_early_stopped(x[~test], y[~test], train_groups)
        rounds.append(best)
        margins[test] = booster.predict(xgboost.DMatrix(x[test]), output_margin=True,
                                        iteration_range=(0, best))
    return CrossValidation(margins=[float(m) for m in margins], rounds=rounds)


def fit_final(x: Any, y: Any, rounds: Sequence[int], feature_names: Sequence[str]) -> tuple[Any, int]:
    """The model served: all rows, the median of the folds' early-stopped rounds."""
    import xgboost

    chosen = max(1, int(statistics.median(rounds)))
    params = {**PARAMS, "scale_pos_weight": _weight(y), "nthread": _threads(len(y))}
    booster = xgboost.train(params, xgboost.DMatrix(x, label=y, feature_names=list(feature_names)),
                            num_boost_round=chosen)
    return booster, chosen
