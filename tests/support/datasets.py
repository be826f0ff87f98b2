"""A synthetic labelled dataset for the language-agnostic model (training, serving, benchmarks)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from automod.scoring import RevisionInfo, TextCounts, UserInfo
from automod.training import Dataset, EditRecord

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def synthetic_dataset(n: int = 240, seed: int = 3) -> Dataset:
    """IP edits that remove most of a page get reverted; registered additions do not."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        vandal = rng.random() < 0.35
        size = rng.randint(2000, 9000)
        new = rng.randint(10, 300) if vandal else size + rng.randint(20, 800)
        when = T0 + timedelta(minutes=7 * i)
        records.append(EditRecord(
            page_id=i % 17, title=f"P{i % 17}",
            revision=RevisionInfo(1000 + i, when, new, comment="" if vandal else "expand"),
            parent=RevisionInfo(500 + i, when - timedelta(hours=3), size),
            counts=TextCounts(new, 0 if vandal else 4, 0 if vandal else 3, 2 if vandal else 30, 0 if vandal else 2, 0),
            parent_counts=TextCounts(size, 4, 3, 28, 2, 0),
            user="127.0.0.1" if vandal or rng.random() < 0.1 else f"User{i % 9}",
            anonymous=vandal or rng.random() < 0.1, page_created=T0 - timedelta(days=200),
            label=vandal if rng.random() > 0.05 else not vandal))

    def user_info(record: EditRecord) -> UserInfo:
        if record.anonymous:
            return UserInfo(record.user, anonymous=True)
        return UserInfo(record.user, anonymous=False, edit_count=300, registration=T0 - timedelta(days=400))

    return Dataset(wiki="testwiki", source="synthetic", start=T0, end=T0 + timedelta(days=2),
                   records=records, user_info=user_info)

