"""From scores to a decision: threshold (strict), mode, dry run, circuit breaker.

Pure: the moderator gathers the numbers (scores, reverts in the last hour, whether the
breaker is already tripped for this config revision) and records what comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from automod.config import CommunityConfig
from automod.records import Outcome
from automod.scoring import Score

__all__ = ["ThresholdDecision", "breaker_heals", "breaker_trips", "decide", "rate_window_start"]


@dataclass(frozen=True)
class ThresholdDecision:
    """What the scores say under the config: revert, would-revert or below-threshold."""

    outcome: Outcome  # REVERT | WOULD_REVERT | BELOW_THRESHOLD
    reason: str
    probability: float  # of the primary (first) model
    threshold: float

    @property
    def above_threshold(self) -> bool:
        return self.outcome in (Outcome.REVERT, Outcome.WOULD_REVERT)


def breaker_trips(reverts_last_hour: int, config: CommunityConfig) -> bool:
    """True when one more revert would exceed ``max_reverts_per_hour``."""
    return reverts_last_hour >= config.max_reverts_per_hour


def breaker_heals(open_for_s: float, reverts_in_window: int, config: CommunityConfig) -> bool:
    """True when a tripped breaker may close by itself: it has been open for at least
    ``breaker_heal_seconds`` and, over that last window, reverts and would-be reverts (the
    breaker's own included, so a flood still under way keeps it open) ran below
    ``max_reverts_per_hour`` (scaled to the window)."""
    window = config.breaker_heal_seconds
    return open_for_s >= window and reverts_in_window * 3600 < config.max_reverts_per_hour * window


def rate_window_start(now: float, last_heal: float | None) -> float:
    """Where the hour counted for tripping the breaker starts: an hour ago, or when a breaker
    last closed by itself (the reverts that tripped it do not trip it again at once)."""
    hour_ago = now - 3600
    return hour_ago if last_heal is None else max(hour_ago, last_heal)


def decide(scores: Sequence[Score], config: CommunityConfig, *, dry_run: bool = False,
           breaker_tripped: bool = False) -> ThresholdDecision:
    """Revert only if every configured model scores strictly above its threshold.

    ``scores`` are in the order of ``config.models``.
    """
    if len(scores) != len(config.models):
        raise ValueError(f"{len(scores)} scores for {len(config.models)} models")  # caller bug
    first, first_model = scores[0], config.models[0]
    below = [f"{m.model} {s.probability:.4f} <= {m.threshold}"
             for s, m in zip(scores, config.models) if not s.probability > m.threshold]
    if below:
        return ThresholdDecision(Outcome.BELOW_THRESHOLD, "; ".join(below), first.probability, first_model.threshold)
    if dry_run:
        reason = "dry-run"
    elif config.mode != "revert":
        reason = "log-only"
    elif breaker_tripped:
        reason = "circuit-breaker"
    else:
        return ThresholdDecision(Outcome.REVERT, "above-threshold", first.probability, first_model.threshold)
    return ThresholdDecision(Outcome.WOULD_REVERT, reason, first.probability, first_model.threshold)
