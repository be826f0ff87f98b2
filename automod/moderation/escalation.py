"""After a rollback: where the editor stands in the warning ladder, and the report to the
administrators once the ladder is exhausted (issue 21; reads in :mod:`automod.onwiki.warnings`)."""

from __future__ import annotations

import logging

from automod.config import CommunityConfig
from automod.errors import WikiError
from automod.onwiki import WarningLevel, WikiGateway, exclusion_templates, report_vandal, warning_level
from automod.records import RecentChange
from automod.store import Store

__all__ = ["escalate"]

log = logging.getLogger("automod.moderation.escalation")


def escalate(gateway: WikiGateway, store: Store, config: CommunityConfig, change: RecentChange,
             now: float) -> WarningLevel:
    """The editor's warning level before this revert (the talk page's trusted history, or the
    levels the bot's store says it gave, whichever is higher); if they already held the final
    one, report them on the community's vandal report page (recorded as a ``vandal-report`` action).
    With talk notices on, the same reads bring the talk page the notice needs (``standing.talk``)."""
    assert change.rev_id is not None
    since = now - config.warning_window_days * 86400
    given = store.warning_level_given(change.wiki, change.user, since) if config.warning_levels > 1 else 0
    try:
        talk_templates = exclusion_templates(gateway).titles if config.talk_notice_enabled else None
        standing = warning_level(gateway, config, change.user, now, given=given, talk_templates=talk_templates)
    except WikiError as exc:  # the talk page unread: the levels the bot gave (its store) still stand
        log.error("%s: cannot read the warnings of %s: %s", change.wiki, change.user, exc)
        standing = WarningLevel(min(given, config.warning_levels), config.warning_levels)
    if not (standing.final_given and config.vandal_report_page):
        return standing
    reverted = [*store.reverted_revisions_of(change.wiki, change.user, since), change.rev_id]
    try:
        report = report_vandal(gateway, config.vandal_report_page, change.user, reverted, since)
    except WikiError as exc:
        log.error("%s: cannot report %s to administrators: %s", change.wiki, change.user, exc)
        store.record_action(change.wiki, change.rev_id, "vandal-report", "failed", None, str(exc)[:300])
        return standing
    log.info("%s: vandal report of %s: %s", change.wiki, change.user, report.status)
    store.record_action(change.wiki, change.rev_id, "vandal-report", report.status, report.rev_id, change.user)
    return standing
