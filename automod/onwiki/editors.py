"""What the wiki itself says about an editor's experience (never what anyone typed)."""

from __future__ import annotations

from automod.onwiki.gateway import WikiGateway, is_ip

__all__ = ["earlier_edit_count"]


def earlier_edit_count(gateway: WikiGateway, user: str) -> int | None:
    """``user``'s edits before the one being judged (the wiki's edit count, less that edit);
    None for an IP or an unknown account, which the wiki keeps no count for."""
    if not user or is_ip(user):
        return None
    users = gateway.query(list="users", ususers=user, usprop="editcount")["query"].get("users", [])
    if not users or "missing" in users[0] or "editcount" not in users[0]:
        return None
    return max(0, int(users[0]["editcount"]) - 1)
