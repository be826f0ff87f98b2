"""Which stream events are worth a closer look at all.

These are the free filters applied to every event straight off the stream, before any
API call: the wiki must be one we serve, the change an edit to an existing article
(namespace 0), and not flagged as a bot edit. Each rule is a named function returning the
reason it rejects a change, so the reason can be counted and recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from automod.records import RecentChange

__all__ = ["INTAKE_RULES", "rejection_reason"]


def wiki_not_served(change: RecentChange, served: Collection[str]) -> str | None:
    return None if change.wiki in served else "wiki-not-served"


def not_an_edit(change: RecentChange, served: Collection[str]) -> str | None:
    if change.type == "edit":
        return None
    return "page-creation" if change.type == "new" else f"not-an-edit:{change.type}"


def not_article_namespace(change: RecentChange, served: Collection[str]) -> str | None:
    return None if change.namespace == 0 else "not-namespace-0"


def bot_flagged(change: RecentChange, served: Collection[str]) -> str | None:
    return "bot-flagged" if change.bot else None


#: Applied in this order; the first reason wins.
INTAKE_RULES: tuple[Callable[[RecentChange, Collection[str]], str | None], ...] = (
    wiki_not_served,
    not_an_edit,
    not_article_namespace,
    bot_flagged,
)


def rejection_reason(change: RecentChange, served: Collection[str]) -> str | None:
    """Return why ``change`` is not a candidate, or None when it is one."""
    for rule in INTAKE_RULES:
        reason = rule(change, served)
        if reason is not None:
            return reason
    return None
