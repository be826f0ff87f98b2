"""What a rollback says and when a refused one is sent again (the moderator sends it)."""

from __future__ import annotations

from dataclasses import dataclass

from automod.records import RecentChange

__all__ = ["ROLLBACK_DELAYS", "PendingRollback", "render_summary"]

#: Waits before re-sending a rollback the wiki refused as rate-limited or lagged.
ROLLBACK_DELAYS = (10.0, 30.0, 60.0, 120.0)


@dataclass
class PendingRollback:
    """A rollback the wiki refused for a passing reason, to send again at ``due``."""

    change: RecentChange
    attempts: int
    due: float
    summary: str


def render_summary(template: str, *, title: str, user: str, probability: float, model: str,
                   report_page: str, rev_id: int) -> str:
    """The edit summary, from the community's template with ``$1``…``$6`` filled in."""
    values = {"1": title, "2": user, "3": f"{probability:.3f}", "4": model, "5": report_page, "6": str(rev_id)}
    out = template
    for key in sorted(values, reverse=True):
        out = out.replace(f"${key}", values[key])
    return out[:500]
