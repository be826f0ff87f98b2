"""The facts some skip rules need beyond the revision context, read from the wiki on demand."""

from __future__ import annotations

import dataclasses

from automod.moderation.skip_rules import EditFacts
from automod.onwiki import WikiGateway, earlier_edit_count, revision_excludes_bot

__all__ = ["with_page_facts"]


def with_page_facts(facts: EditFacts, gateway: WikiGateway) -> EditFacts:
    """``facts`` with the parent revision's {{bots}}/{{nobots}} verdict and, when the
    community trusts experience, the editor's edit count (raises WikiError)."""
    change = facts.change
    excluded = bool(change.parent_id) and revision_excludes_bot(gateway, change.title, int(change.parent_id or 0))
    count = (earlier_edit_count(gateway, change.user)
             if facts.config.skip_editors_with_edits_at_least is not None else None)
    return dataclasses.replace(facts, parent_excludes_bot=excluded, editor_edit_count=count)
