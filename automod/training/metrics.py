"""Evaluation metrics, small enough to own (no scikit-learn in a 512 MiB job).

Thresholds follow the bot's rule: an edit is flagged when its probability is *strictly
greater* than the threshold (docs/ARCHITECTURE.md, community config).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["auc", "average_precision", "bootstrap_interval", "precision_recall_at", "ranking_summary",
           "recall_at_fpr", "threshold_for_precision"]


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Return the ROC AUC (Mann-Whitney, ties count half), or None without both labels."""
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average_rank = (i + j) / 2 + 1
        rank_sum += average_rank * sum(1 for k in order[i:j + 1] if labels[k])
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def precision_recall_at(scores: Sequence[float], labels: Sequence[bool],
                        threshold: float) -> dict[str, float | int | None]:
    """Precision and recall when flagging scores above ``threshold`` (None when undefined)."""
    flagged = [y for s, y in zip(scores, labels) if s > threshold]
    true_pos = sum(1 for y in flagged if y)
    positives = sum(1 for y in labels if y)
    return {"threshold": threshold, "flagged": len(flagged), "true_positives": true_pos,
            "precision": true_pos / len(flagged) if flagged else None,
            "recall": true_pos / positives if positives else None}


def threshold_for_precision(scores: Sequence[float], labels: Sequence[bool], target: float) -> float | None:
    """The lowest threshold whose flagged edits reach ``target`` precision, or None.

    Candidates are 0 and the observed scores (flagging what lies strictly above each).
    """
    pairs = sorted(zip(scores, labels))
    values = [s for s, _y in pairs]
    positives_upto = [0]
    for _s, y in pairs:
        positives_upto.append(positives_upto[-1] + (1 if y else 0))
    for threshold in [0.0, *sorted(set(values))]:
        cut = bisect_right(values, threshold)
        flagged = len(pairs) - cut
        if flagged and (positives_upto[-1] - positives_upto[cut]) / flagged >= target:
            return round(threshold, 6)
    return None


def average_precision(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """PR AUC as average precision (precision at each true positive, ties broken pessimistically)."""
    positives = sum(1 for y in labels if y)
    if not positives:
        return None
    pairs = sorted(zip(scores, labels), key=lambda p: (-p[0], p[1]))
    found = total = 0.0
    for rank, (_s, y) in enumerate(pairs, 1):
        if y:
            found += 1
            total += found / rank
    return total / positives


def recall_at_fpr(scores: Sequence[float], labels: Sequence[bool], fpr: float) -> float | None:
    """Recall when flagging strictly above the lowest threshold whose false-positive rate is
    at most ``fpr`` (the threshold sits at a good edit's score, so ties never flag it)."""
    negatives = sorted((s for s, y in zip(scores, labels) if not y), reverse=True)
    positives = [s for s, y in zip(scores, labels) if y]
    if not negatives or not positives:
        return None
    allowed = int(fpr * len(negatives))  # good edits that may score above the threshold
    threshold = negatives[allowed] if allowed < len(negatives) else float("-inf")
    return sum(1 for s in positives if s > threshold) / len(positives)


def bootstrap_interval(scores: Sequence[float], labels: Sequence[bool], metric: Callable[..., float | None],
                       *, rounds: int = 200, seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    """A percentile bootstrap interval of ``metric(scores, labels)`` (edits resampled)."""
    rng = random.Random(seed)
    n = len(scores)
    values = []
    for _ in range(rounds):
        picks = [rng.randrange(n) for _ in range(n)]
        value = metric([scores[i] for i in picks], [labels[i] for i in picks])
        if value is not None:
            values.append(value)
    if not values:
        return None
    values.sort()
    tail = (1 - level) / 2
    return values[int(tail * (len(values) - 1))], values[int(round((1 - tail) * (len(values) - 1)))]


#: The false-positive rates a bot can afford, reported on every model card.
FPRS = (0.001, 0.005, 0.01)


def ranking_summary(scores: Sequence[float], labels: Sequence[bool], *, rounds: int = 200) -> dict[str, Any]:
    """ROC AUC, PR AUC and recall at :data:`FPRS`, each with a 95% bootstrap interval."""
    def entry(metric: Callable[..., float | None]) -> dict[str, Any]:
        value = metric(scores, labels)
        interval = bootstrap_interval(scores, labels, metric, rounds=rounds) if value is not None else None
        return {"value": value, "interval": list(interval) if interval else None}

    out = {"edits": len(scores), "positives": sum(1 for y in labels if y),
           "roc_auc": entry(_fast_auc), "pr_auc": entry(average_precision)}
    for fpr in FPRS:
        out[f"recall_at_{fpr * 100:g}pct_fpr"] = entry(lambda s, y, f=fpr: recall_at_fpr(s, y, f))
    return out


def _fast_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """ROC AUC in O(n log n) (ties count half), for bootstrap rounds on thousands of edits."""
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    pairs = sorted(zip(scores, labels))
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        rank_sum += ((i + j) / 2 + 1) * sum(1 for k in range(i, j + 1) if pairs[k][1])
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
