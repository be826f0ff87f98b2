"""Prefetched scores wait in a bounded memo: a candidate skipped before it is scored never
takes its prefetched score, and the oldest such scores are dropped (issue 29)."""

from __future__ import annotations

from automod.moderation.prefetch import MEMO_MAX, ConcurrentPrefetch
from automod.scoring import FunctionScorer


def test_the_memo_keeps_at_most_its_bound_and_drops_the_oldest_first() -> None:
    pool_scorer = FunctionScorer(lambda wiki, rev_id: 0.5)
    own = FunctionScorer(lambda wiki, rev_id: 0.25)
    prefetch = ConcurrentPrefetch(own, lambda: pool_scorer, max_in_flight=2)
    try:
        for rev_id in range(1, MEMO_MAX + 2):  # N + 1, as the worker would: a few at a time
            prefetch.prefetch("sandboxwiki", [rev_id])
        assert len(prefetch._memo) == MEMO_MAX
        assert prefetch.score("sandboxwiki", MEMO_MAX + 1).probability == 0.5  # the newest: prefetched
        assert prefetch.score("sandboxwiki", 1).probability == 0.25  # the oldest was dropped: scored now
        assert own.calls == [("sandboxwiki", 1)]
    finally:
        prefetch.close()


def test_a_skipped_revision_forgotten_leaves_nothing_behind_after_ten_times_the_bound() -> None:
    """The worker forgets each decided edit's prefetched score: skipped edits (whose score is
    never taken) no longer fill the memo up to its bound, pinning memory for hundreds of decisions."""
    pool_scorer = FunctionScorer(lambda wiki, rev_id: 0.5)
    own = FunctionScorer(lambda wiki, rev_id: 0.25)
    prefetch = ConcurrentPrefetch(own, lambda: pool_scorer, max_in_flight=2)
    try:
        for rev_id in range(1, 10 * MEMO_MAX + 1, 2):  # two queued at a time; the first of each is skipped
            prefetch.prefetch("sandboxwiki", [rev_id, rev_id + 1])
            prefetch.forget("sandboxwiki", rev_id)  # decided without its score
            assert prefetch.score("sandboxwiki", rev_id + 1).probability == 0.5  # decided with it
            prefetch.forget("sandboxwiki", rev_id + 1)  # already taken: nothing to drop
            assert len(prefetch._memo) == 0
        assert prefetch.score("sandboxwiki", 1).probability == 0.25  # asked again after all: scored now
        assert own.calls == [("sandboxwiki", 1)]
    finally:
        prefetch.close()
