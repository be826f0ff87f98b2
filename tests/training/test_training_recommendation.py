"""The trainer recommends only thresholds the community config page accepts, or says why none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from automod.config import THRESHOLD_MAX, THRESHOLD_MIN
from automod.training import Dataset, TrainingError, train_model
from automod.training.train import recommend_threshold


def test_a_low_precision_cut_is_raised_into_the_accepted_range() -> None:
    # 0.5 would already give 100% precision; the page refuses it, so 0.85 is recommended.
    scores = [0.02, 0.1, 0.3, 0.5] + [0.97, 0.98, 0.99, 0.995, 0.996, 0.997]
    labels = [False] * 4 + [True] * 6
    found = recommend_threshold(scores, labels)
    assert found["threshold"] == THRESHOLD_MIN and found["reason"] is None
    assert found["precision"] == 1.0 and found["flagged"] == 6
    assert found["caution_level"] == "less-cautious"  # 0.975: still 5 flagged, all bad


def test_the_recommendation_rises_past_good_edits_scored_high() -> None:
    scores = [0.9, 0.93, 0.96] + [0.97, 0.98, 0.99, 0.995, 0.996, 0.997]
    labels = [False] * 3 + [True] * 6
    found = recommend_threshold(scores, labels)
    assert THRESHOLD_MIN <= found["threshold"] <= THRESHOLD_MAX
    assert found["threshold"] == 0.96 and found["precision"] == 1.0


def test_no_safe_threshold_is_said_with_a_reason() -> None:
    scores = [0.1, 0.2, 0.4, 0.6, 0.7, 0.8, 0.84]
    labels = [False, False, True, True, False, True, True]
    found = recommend_threshold(scores, labels)
    assert found["threshold"] is None and found["caution_level"] is None
    assert "no threshold the config accepts" in found["reason"] and "0.85" in found["reason"]


def test_too_few_labelled_edits_says_what_a_labelled_edit_is_and_how_to_get_more(tmp_path) -> None:
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    empty = Dataset(wiki="sandboxwiki", source="api: recent changes, last 1 days", start=moment, end=moment,
                    records=[], user_info=lambda record: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(TrainingError) as caught:
        train_model(empty, "demo", tmp_path)
    message = str(caught.value)
    assert "only 0 labelled edits" in message and "undone by another user within 48 hours" in message
    assert "--days" in message and "automod sandbox seed" in message
