"""A config edit's expected impact is folded as the store reads the scores (issue 29): the same
row as the threshold table's, without holding a month of a large wiki's scores."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from automod.evidence import build_table, observations_from_store, threshold_row_from_store, with_labels
from automod.evidence.labels import record_label
from automod.records import Outcome, Verdict
from automod.store import MIGRATIONS, DecidedEdit, Store

WIKI, MODEL = "enwiki", "revertrisk-language-agnostic"
LABELS = ["kept", "human-reverted", "bot-reverted", "bot-revert-undone", "fp-confirmed", "fp-declined"]


def _fill(store: Store, seed: int, n: int) -> None:
    rng = random.Random(seed)
    for i in range(n):
        rev, p = 1000 + i, rng.random()
        day = 1 + rng.randrange(28)
        store.record_decision(DecidedEdit(wiki=WIKI, rev_id=rev, parent_id=rev - 1, title=f"Page {i % 7}",
                                          user="192.0.2.7", event_dt=f"2026-03-{day:02d}T12:{i % 60:02d}:00Z"),
                              Verdict(Outcome.BELOW_THRESHOLD, model=MODEL, model_version="3", probability=p,
                                      threshold=0.99))
        store.record_score(WIKI, rev, MODEL, "3", p)
        store.record_score(WIKI, rev, "other-model", "3", 1 - p)
        for label in rng.sample(LABELS, rng.randrange(3)):
            record_label(store, WIKI, rev, label, "history")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 60), st.sampled_from([0.0, 0.3, 0.5, 0.93, 0.99]),
       st.sampled_from([None, 1772409600.0, 1773500000.0]))
def test_the_folded_row_is_the_threshold_tables_row(tmp_path_factory, seed, n, threshold, since):
    with Store(tmp_path_factory.mktemp("fold") / "automod.sqlite", migrations=with_labels(MIGRATIONS)) as store:
        _fill(store, seed, n)
        observations = observations_from_store(store, WIKI, MODEL, since=since)
        for days in (None, 30.0):
            table = build_table(observations, grid=[threshold], days=days)
            row, scored = threshold_row_from_store(store, WIKI, MODEL, threshold, since, days=days)
            assert scored == len(observations)
            assert row == table.rows[0]


def test_the_scores_are_read_a_batch_at_a_time(tmp_path):
    with Store(tmp_path / "automod.sqlite", migrations=with_labels(MIGRATIONS)) as store:
        _fill(store, 7, 30)
        points = store.score_points(wiki=WIKI, model=MODEL, batch=4)
        first = next(points)  # a generator: nothing past the first batch is built yet
        assert 0.0 <= first.probability <= 1.0
        assert 1 + sum(1 for _ in points) == 30
