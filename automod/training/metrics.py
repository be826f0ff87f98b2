"""Evaluation metrics, small enough to own (no scikit-learn in a 512 MiB job).

Thresholds follow the bot's rule: an edit is flagged when its probability is *strictly
greater* than the threshold (docs/ARCHITECTURE.md, community config).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

__all__ = ["auc", "precision_recall_at", "threshold_for_precision"]


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


def precision_recall_at(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> dict[str, float | int | None]:
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
