"""The facts the context skip rules need, read from the wiki: the revision context (one
request, with the parent's text and the exclusion templates' links) and, on demand, the
parent's {{bots}}/{{nobots}} provenance and the editor's edit count."""

from __future__ import annotations

import dataclasses

from automod.moderation.skip_rules import EditFacts
from automod.onwiki import WikiGateway, earlier_edit_count, exclusion_templates, parent_exclusion

__all__ = ["read_context", "with_page_facts"]


def read_context(facts: EditFacts, gateway: WikiGateway) -> EditFacts:
    """``facts`` with the revision context read in one query — the page, the editor, the top
    revision (the rollback-target check), the parent's and the edit's wikitext, and which
    exclusion templates the page uses — then the page facts (raises WikiError)."""
    names = exclusion_templates(gateway)
    context = gateway.revision_context(facts.change, texts=True, templates=names.titles)
    return with_page_facts(dataclasses.replace(facts, context=context), gateway)


def with_page_facts(facts: EditFacts, gateway: WikiGateway) -> EditFacts:
    """``facts`` with the parent revision's {{bots}}/{{nobots}} verdict (counted only when a
    trusted user added it or it has stood long enough: ``onwiki.exclusion``) and, when the
    community trusts experience, the editor's edit count (raises WikiError)."""
    change, context = facts.change, facts.context
    excluded = False
    if change.parent_id and context is not None and context.parent_text is not None:
        found = parent_exclusion(gateway, context, facts.config, change.user, facts.now)
        excluded = found.excluded and found.counts
    count = (earlier_edit_count(gateway, change.user)
             if facts.config.skip_editors_with_edits_at_least is not None else None)
    return dataclasses.replace(facts, parent_excludes_bot=excluded, editor_edit_count=count)
