"""Facts some skip rules read from page and user histories, on demand (apart from
page_facts.py): whether a "self-revert" restores the text before the editor's own run of
edits, and an editor's unreverted article edits and account age."""

from __future__ import annotations

import dataclasses

from automod.moderation.skip_rules import EditFacts, needs_run_check
from automod.onwiki import WikiGateway, editor_experience, restores_text_before_run

__all__ = ["with_history_facts"]


def with_history_facts(facts: EditFacts, gateway: WikiGateway) -> EditFacts:
    """``facts`` (with its context) with what the self-revert and experienced-editor rules
    need, read only when they need it (raises WikiError)."""
    change, ctx = facts.change, facts.ctx()
    restores = None
    if needs_run_check(facts):
        restores = restores_text_before_run(gateway, ctx.title, ctx.rev_id, ctx.user)
    article_edits = age = None
    floor = facts.config.skip_editors_with_edits_at_least
    # The raw edit count (when page_facts read it) bounds the article edits: below the floor,
    # the contributions need no reading.
    raw_enough = facts.editor_edit_count is None or facts.editor_edit_count >= (floor or 0)
    if floor is not None and raw_enough:
        experience = editor_experience(gateway, ctx.user or change.user, ctx.rev_id, floor, facts.now)
        if experience is not None:
            article_edits, age = experience.article_edits, experience.account_age_days
    return dataclasses.replace(facts, restores_text_before_run=restores, article_edits=article_edits,
                               account_age_days=age)
