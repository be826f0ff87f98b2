"""What the wiki itself says about an editor's experience (never what anyone typed).

Experience that lets an editor skip scoring must cost what a sock cannot fake in minutes:
article (namespace 0) edits that nobody reverted, and an account old enough — not the raw
edit count, which fifty edits to one's own user page raise in three seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from automod.onwiki.gateway import WikiGateway, is_ip

__all__ = ["CONTRIBS_PAGES", "EditorExperience", "earlier_edit_count", "editor_experience"]

#: Pages of 500 contributions read at most (so at most 10,000 article edits are counted).
CONTRIBS_PAGES = 20


@dataclass(frozen=True)
class EditorExperience:
    """An account's article edits before ``rev_id`` that are not tagged reverted (counted up to
    the floor asked for), and its age in days (None: the wiki states no registration)."""

    article_edits: int
    account_age_days: float | None


def earlier_edit_count(gateway: WikiGateway, user: str) -> int | None:
    """``user``'s edits before the one being judged (the wiki's edit count, less that edit);
    None for an IP or an unknown account, which the wiki keeps no count for."""
    if not user or is_ip(user):
        return None
    users = gateway.query(list="users", ususers=user, usprop="editcount")["query"].get("users", [])
    if not users or "missing" in users[0] or "editcount" not in users[0]:
        return None
    return max(0, int(users[0]["editcount"]) - 1)


def editor_experience(gateway: WikiGateway, user: str, rev_id: int, floor: int, now: float) -> EditorExperience | None:
    """``user``'s unreverted article edits other than ``rev_id`` (read until ``floor`` is
    reached, at most :data:`CONTRIBS_PAGES` pages) and account age; None for an IP or an
    unknown account."""
    if not user or is_ip(user):
        return None
    users = gateway.query(list="users", ususers=user, usprop="registration")["query"].get("users", [])
    if not users or "missing" in users[0] or "invalid" in users[0]:
        return None
    registered = users[0].get("registration")
    age = None
    if registered:
        age = (now - datetime.fromisoformat(str(registered).replace("Z", "+00:00")).timestamp()) / 86400
    counted = 0
    params: dict[str, object] = {"list": "usercontribs", "ucuser": user, "ucnamespace": 0,
                                 "ucprop": "ids|tags", "uclimit": 500}
    for _ in range(CONTRIBS_PAGES):
        data = gateway.query(**params)
        for contrib in data["query"].get("usercontribs", []):
            if int(contrib.get("revid", 0)) != rev_id and "mw-reverted" not in contrib.get("tags", []):
                counted += 1
        following = data.get("continue")
        if counted >= floor or not following:
            break
        params.update(following)
    return EditorExperience(article_edits=counted, account_age_days=age)
