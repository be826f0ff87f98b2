"""The patrol workflow's surfaces on the sandbox wiki: warning levels, notices, talk pages reset."""

from __future__ import annotations

import re

from support.accounts import new_account
from support.wiki import ApiError, WikiClient

ANON = "127.0.0.1"


NOTICES = {"talk_notice": {"enabled": True}, "false_positive_page": "User:AutomodBot/False positives"}


LEVEL = re.compile(r"<!-- Template:uw-vandalism(\d) -->")


def delete_page(admin: WikiClient, title: str) -> None:
    """Start from a page with no history (earlier tests warn the same accounts)."""
    try:
        admin.post(action="delete", title=title, reason="test reset", token=admin.token())
    except ApiError as exc:
        if exc.code != "missingtitle":
            raise


def page_text(client: WikiClient, title: str) -> str | None:
    revisions = client.revisions(title, limit=1)
    return revisions[0]["slots"]["main"]["content"] if revisions else None


def fresh_account(sandbox) -> WikiClient:
    """A brand-new account (edit count 0), logged in, as a newcomer would create it."""
    return new_account(sandbox, "Newcomer")
