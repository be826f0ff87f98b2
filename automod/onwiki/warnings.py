"""Escalating warnings, read the way patrollers' tools write them.

Twinkle, Huggle and ClueBot NG mark each warning with a hidden comment
``<!-- Template:uw-vandalism2 -->`` (the template name comes from the message files:
``automod-warning-template``, since wikis name their templates differently). The next level
is one above the highest such comment added to the editor's talk page within the window.

Who added a comment is read from the talk page's **history**, never from its text: only
comments the bot added itself, or that an editor holding the community's trusted right
added, count. Otherwise one ``uw-vandalism4`` comment planted by anyone would get an
innocent editor reported to administrators after a single false positive. Revision times,
not signatures (which anyone can type), decide what falls within the window.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from automod.onwiki.community_config import CommunityConfig
from automod.onwiki.gateway import WikiGateway, is_ip, same_title
from automod.onwiki.messages import messages_for

__all__ = ["HISTORY_DEPTH", "WarningLevel", "level_comment", "level_pattern", "warning_level"]

#: Talk-page revisions read back (newest first); older warnings are beyond any sane window.
HISTORY_DEPTH = 50


@dataclass(frozen=True)
class WarningLevel:
    """The highest trusted warning within the window (0: none) and the level to give now."""

    highest: int
    levels: int

    @property
    def next(self) -> int:
        return min(self.highest + 1, self.levels)

    @property
    def final_given(self) -> bool:
        """Whether the editor already holds the last level (escalation is exhausted)."""
        return self.levels > 1 and self.highest >= self.levels


def level_comment(template: str, level: int) -> str:
    return f"<!-- Template:{template}{level} -->"


def level_pattern(template: str) -> re.Pattern[str]:
    """Matches a level comment (Twinkle's ``…4im`` "only warning" counts as 4)."""
    return re.compile(r"<!--\s*Template:" + re.escape(template) + r"([1-4])(?:im)?\s*-->")


def warning_level(gateway: WikiGateway, config: CommunityConfig, user: str, now: float) -> WarningLevel:
    """Where ``user`` stands: the highest level a trusted hand added within the window."""
    levels = config.warning_levels
    if levels <= 1:
        return WarningLevel(0, 1)
    pattern = level_pattern(messages_for(gateway).text("automod-warning-template"))
    page = gateway.query(titles=f"User talk:{user}", prop="revisions", rvprop="ids|user|timestamp|content",
                         rvslots="main", rvlimit=HISTORY_DEPTH)["query"]["pages"][0]
    revisions = list(reversed(page.get("revisions", [])))  # oldest first
    since = now - config.warning_window_days * 86400
    added: list[tuple[str, int]] = []  # (author, level) of each comment added within the window
    for i, rev in enumerate(revisions):
        if i == 0 and rev.get("parentid"):
            continue  # its parent is beyond what was read: what it added is unknown
        before = Counter(_levels(pattern, revisions[i - 1])) if i else Counter()
        new = Counter(_levels(pattern, rev)) - before
        if new and _timestamp(rev) >= since:
            added += [(str(rev.get("user", "")), level) for level in new]
    trusted = _trusted_authors(gateway, config, {author for author, _ in added})
    return WarningLevel(max((level for author, level in added if author in trusted), default=0), levels)


def _levels(pattern: re.Pattern[str], rev: dict[str, object]) -> list[int]:
    slots = rev.get("slots")
    text = slots.get("main", {}).get("content", "") if isinstance(slots, dict) else ""
    return [int(m) for m in pattern.findall(str(text))]


def _timestamp(rev: dict[str, object]) -> float:
    return datetime.fromisoformat(str(rev.get("timestamp", "1970-01-01T00:00:00Z")).replace("Z", "+00:00")).timestamp()


def _trusted_authors(gateway: WikiGateway, config: CommunityConfig, authors: set[str]) -> set[str]:
    """The bot itself, and logged-in editors holding the trusted right (a right that
    logged-out editors hold never counts)."""
    trusted = {a for a in authors if same_title(a, gateway.bot_user)}
    right = config.warning_trusted_right
    named = sorted(a for a in authors - trusted if a and not is_ip(a))
    if not named or right in gateway.anonymous_rights():
        return trusted
    users = gateway.query(list="users", ususers="|".join(named), usprop="rights")["query"].get("users", [])
    return trusted | {str(u["name"]) for u in users if right in u.get("rights", [])}
