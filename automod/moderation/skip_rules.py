"""Skip rules: the edits automod must never score or revert, each with a recorded reason.

Every rule is a named function of an :class:`EditFacts` returning a :class:`Skip` (its
:class:`~automod.records.SkipReason`, recorded as the string it stands for) or None.
:data:`PRECHECKS` holds them in the community-agreed order (after AutoModerator's
``RevisionCheck::revertPreCheck``, plus an age limit and top-editor check it lacks). Rules
that need nothing from the wiki run first (:func:`cheap_skip`), so most skips cost no API
call; the others read one :class:`RevisionContext`, fetched in as few round trips as the
API allows (``wiki.WikiGateway.revision_context``), and run in the same order
(:func:`context_skip`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from automod.config import CommunityConfig
from automod.records import BlockInfo, RecentChange, RevisionContext, SkipReason

__all__ = [
    "BlockInfo",
    "EditFacts",
    "PRECHECKS",
    "RevisionContext",
    "Skip",
    "SkipReason",
    "cheap_skip",
    "context_skip",
    "needs_run_check",
]

REVERT_TAGS = frozenset({"mw-rollback", "mw-undo", "mw-manual-revert"})


@dataclass(frozen=True)
class Skip:
    """A skip rule that matched: its reason and, for ``editor-has-right``, the right held."""

    reason: SkipReason
    detail: str | None = None

    def __str__(self) -> str:
        """The recorded reason, exactly as the store and the JSON lines have always had it."""
        return self.reason.value if self.detail is None else f"{self.reason.value}:{self.detail}"


@dataclass(frozen=True)
class EditFacts:
    """Everything a skip rule may look at."""

    change: RecentChange
    config: CommunityConfig
    bot_user: str
    now: float
    reverts_of_user_on_page_24h: int
    context: RevisionContext | None = None
    #: Whose edit the bot reverted in the parent revision, when the store knows that revert.
    reverted_user: str | None = None
    #: Whether the parent revision (never the edit's own text) has {{nobots}} / {{bots|deny=…}}.
    parent_excludes_bot: bool = False
    #: The editor's earlier edits as the wiki counts them (None: not read, or an IP).
    editor_edit_count: int | None = None
    #: For a revert whose parent is the editor's own: whether it saves exactly the text before
    #: the editor's consecutive run of edits (sha1s; None: not read). history_facts.py fills it.
    restores_text_before_run: bool | None = None
    #: The editor's earlier unreverted article edits and account age in days (None: not read,
    #: an IP, or the wiki states no registration). history_facts.py fills them.
    article_edits: int | None = None
    account_age_days: float | None = None
    #: Re-examining this edit after another user's edit landed on it within seconds
    #: (shield.py): that one edit (its revision), rolled back first, does not make this edit
    #: "not the top edit".
    follower_rev_id: int | None = None

    def ctx(self) -> RevisionContext:
        if self.context is None:
            raise RuntimeError("this rule needs the revision context")  # a bug, not bad input
        return self.context


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _same_user(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.replace("_", " ") == b.replace("_", " ")


# -- the rules, in order ---------------------------------------------------------------

def bot_blocked(f: EditFacts) -> Skip | None:
    """A block on the bot, sitewide or covering this page, is the community's kill switch."""
    ctx = f.ctx()
    if any(b.applies_to(ctx.page_id, ctx.namespace) for b in ctx.bot_blocks):
        return Skip(SkipReason.BOT_BLOCKED)
    return None


def own_edit(f: EditFacts) -> Skip | None:
    return Skip(SkipReason.OWN_EDIT) if _same_user(f.change.user, f.bot_user) else None


def page_creation(f: EditFacts) -> Skip | None:
    return Skip(SkipReason.PAGE_CREATION) if f.change.type == "new" or not f.change.parent_id else None


def already_reverted(f: EditFacts) -> Skip | None:
    return Skip(SkipReason.ALREADY_REVERTED) if "mw-reverted" in f.ctx().tags else None


def trusted_restorer(f: EditFacts) -> bool:
    """Whether whoever undid the bot's revert may vouch for the edit: logged in, holding a
    community-chosen right, and not the reverted editor. A second account or an IP (perhaps
    the reverted editor's range) restoring reverted content is scored like any edit."""
    ctx = f.ctx()
    if is_ip_address(ctx.user) or _same_user(ctx.user, f.reverted_user):
        return False
    return bool(ctx.editor_rights & f.config.trusted_restorer_rights)


def revert_of_bot_or_self(f: EditFacts) -> Skip | None:
    """Undoing the bot (when trusted), or one's own edits, is not vandalism; reverting another
    human, or an untrusted restore of what the bot reverted, is scored. A "self-revert" must
    save exactly the text before the editor's own run of edits: a harmless edit followed by an
    old vandalised revision's text is new content, not a self-revert."""
    ctx = f.ctx()
    if not ctx.tags & REVERT_TAGS:
        return None
    if ctx.parent_user is None:
        return Skip(SkipReason.REVERT_OF_UNKNOWN_PARENT)
    if _same_user(ctx.parent_user, f.bot_user):
        return Skip(SkipReason.REVERT_OF_BOT) if trusted_restorer(f) else None
    if _same_user(ctx.parent_user, ctx.user) and f.restores_text_before_run:
        return Skip(SkipReason.SELF_REVERT)
    return None


def needs_run_check(f: EditFacts) -> bool:
    """Whether :func:`revert_of_bot_or_self` needs ``restores_text_before_run`` read."""
    ctx = f.ctx()
    return bool(ctx.tags & REVERT_TAGS) and ctx.parent_user is not None and _same_user(ctx.parent_user, ctx.user)


# A redirect change is scored like any edit (``#REDIRECT [[Insult]]`` over an article is
# vandalism): SkipReason.REDIRECT_CHANGE stays only for decisions recorded before.


def trusted_editor(f: EditFacts) -> Skip | None:
    held = f.ctx().editor_rights & f.config.skip_rights
    return Skip(SkipReason.EDITOR_HAS_RIGHT, sorted(held)[0]) if held else None


def not_article(f: EditFacts) -> Skip | None:
    return Skip(SkipReason.NOT_NAMESPACE_0) if f.change.namespace != 0 else None


def fully_protected(f: EditFacts) -> Skip | None:
    return Skip(SkipReason.FULLY_PROTECTED) if f.ctx().fully_protected else None


def too_old(f: EditFacts) -> Skip | None:
    """Stale events (stream lag, an outage, a restart) are left to humans."""
    age = f.now - f.change.timestamp
    return Skip(SkipReason.TOO_OLD) if age > f.config.max_edit_age_minutes * 60 else None


def not_top_editor(f: EditFacts) -> Skip | None:
    """Someone else edited since (perhaps already fixing it): leave the page alone — unless
    this edit is being re-examined because the one edit on top of it came, within seconds,
    from an untrusted user (shield.py), which is then rolled back first."""
    ctx = f.ctx()
    if _same_user(ctx.top_user, f.change.user):
        return None
    if f.follower_rev_id is not None and ctx.top_rev_id == f.follower_rev_id:
        return None
    return Skip(SkipReason.NOT_TOP_EDITOR)


def cap_reached(f: EditFacts) -> Skip | None:
    """At most N reverts per user per page per 24 h: the bot never edit-wars."""
    cap = f.config.max_reverts_per_user_per_page
    return Skip(SkipReason.CAP_REACHED) if cap and f.reverts_of_user_on_page_24h >= cap else None


def excluded_by_page(f: EditFacts) -> Skip | None:
    """The page asked bots to stay away before this edit ({{nobots}} in the parent revision);
    the same template added by the edit itself is ignored, or a vandal could escape."""
    return Skip(SkipReason.EXCLUDED_BY_PAGE) if f.parent_excludes_bot else None


def experienced_editor(f: EditFacts) -> Skip | None:
    """Editors with many unreverted article edits and an old enough account (both as the wiki
    states them; no one can type them, and neither can be farmed in minutes) are left to
    humans. The raw edit count alone never passes: userspace edits cost nothing."""
    floor = f.config.skip_editors_with_edits_at_least
    if floor is None or f.article_edits is None or f.account_age_days is None:
        return None
    old_enough = f.account_age_days >= f.config.skip_editors_min_account_days
    return Skip(SkipReason.EXPERIENCED_EDITOR) if f.article_edits >= floor and old_enough else None


Rule = Callable[[EditFacts], Skip | None]

#: (rule, needs the revision context) in the order the reasons are checked.
PRECHECKS: tuple[tuple[Rule, bool], ...] = (
    (bot_blocked, True),
    (own_edit, False),
    (page_creation, False),
    (already_reverted, True),
    (revert_of_bot_or_self, True),
    (trusted_editor, True),
    (experienced_editor, True),
    (not_article, False),
    (fully_protected, True),
    (too_old, False),
    (not_top_editor, True),
    (excluded_by_page, True),
    (cap_reached, False),
)


def cheap_skip(facts: EditFacts) -> Skip | None:
    """The first skip among the rules that need no API call, or None."""
    for rule, needs_context in PRECHECKS:
        if not needs_context:
            reason = rule(facts)
            if reason:
                return reason
    return None


def context_skip(facts: EditFacts) -> Skip | None:
    """The first skip among the rules that read the revision context, or None."""
    for rule, needs_context in PRECHECKS:
        if needs_context:
            reason = rule(facts)
            if reason:
                return reason
    return None
