"""An edit that only follows another user's fresh vandalism does not shield it.

The design (the simplest safe one): when an untrusted user's edit E lands within
:data:`SHIELD_WINDOW_S` seconds on top of another user's edit P that the bot had to leave
alone because of E (recorded ``skip: not-top-editor`` or ``beaten``), the bot re-examines P
while deciding E — P's skip rules again (its age, the cap, exclusion… with E alone allowed on
top) and its scores. If P is to be reverted, one undo edit restores the revision before P,
undoing P and E together; nothing older is touched and a trusted editor's edit on top (E
skipped for a trust reason, or a longer run) is never undone. Pure predicates; the moderator acts.
"""

from __future__ import annotations

from automod.records import Outcome, RecentChange, SkipReason, Verdict
from automod.store import Decision

__all__ = ["SHIELD_WINDOW_S", "follows_within_window", "may_shield"]

#: How soon after P an untrusted edit on top of it makes the bot re-examine P.
SHIELD_WINDOW_S = 30


def may_shield(previous: Decision | None, verdict: Verdict) -> bool:
    """Whether the recorded decision on the parent revision says the bot left it only because
    someone edited on top (``not-top-editor``, ``beaten``), and the new edit's verdict says its
    editor is untrusted (it was scored: below the threshold, or to be reverted itself)."""
    if previous is None or verdict.outcome not in (Outcome.BELOW_THRESHOLD, Outcome.REVERT):
        return False
    left_alone = (previous.outcome == Outcome.SKIP.value and previous.reason == SkipReason.NOT_TOP_EDITOR.value) \
        or previous.outcome == Outcome.BEATEN.value
    return left_alone


def follows_within_window(previous: RecentChange, change: RecentChange) -> bool:
    """``change`` is another user's edit, made within the window after ``previous``."""
    other = previous.user.replace("_", " ") != change.user.replace("_", " ")
    return other and 0 <= change.timestamp - previous.timestamp <= SHIELD_WINDOW_S
