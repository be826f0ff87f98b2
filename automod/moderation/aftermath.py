"""What follows a decision on the wiki: the editor's notice (with escalating warnings), the
report pages, implicit reports and config-change notices.

Kept apart from :mod:`.moderator` so that the pipeline reads top to bottom there, and the
on-wiki side effects of its decisions read here. All of it is skipped in dry runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from automod.config import AppliedConfig
from automod.errors import WikiError
from automod.moderation.escalation import escalate
from automod.moderation.served_wiki import ServedWiki
from automod.moderation.shared_tasks import (
    queue_implicit_report,
    shared_page_title,
    shared_report_edit,
    shared_report_link,
)
from automod.onwiki import (
    ConfigPage,
    PassSteps,
    WikiGateway,
    ensure_preload,
    ensure_report_page,
    log_implicit_report,
    post_config_notice,
    post_surface_moved,
    report_page_steps,
    run_steps,
    same_user,
    send_notice,
    waiting_report_steps,
)
from automod.records import RecentChange, RevisionContext, Verdict
from automod.store import Store

__all__ = ["Aftermath"]

log = logging.getLogger("automod.moderation.moderator")


def _report_page_or_preload(gateway: WikiGateway, title: str, report_page: str) -> bool:
    return gateway.same_title(title, report_page) or gateway.same_title(title, f"{report_page}/Preload")


class Aftermath:
    """The on-wiki steps after a decision, for every served wiki of one process."""

    def __init__(self, store: Store, *, dry_run: bool, clock: Callable[[], float]) -> None:
        self.store = store
        self.dry_run = dry_run
        self.clock = clock
        self._preloads: set[tuple[str, str]] = set()
        #: Called with (store, wiki, rev_id, "confirmed" | "declined") when reviewers decide.
        self.on_report_label: Callable[[Store, str, int, str], None] | None = None

    def report_page_of(self, served: ServedWiki, change: RecentChange) -> str | None:
        """The report page (the wiki's own, or the central wiki's shared one) that ``change``
        edits, if a pass would read it (None: not a report page, or nothing to do: dry run)."""
        gateway, config = served.gateway, served.applied.config
        if self.dry_run or gateway is None or change.type not in ("edit", "new"):
            return None
        shared = shared_page_title(served)
        if shared is not None and _report_page_or_preload(gateway, change.title, shared):
            return shared  # its preload's edits too: repaired by the pass
        if config is not None and config.false_positive_page and _report_page_or_preload(gateway, change.title,
                                                                                         config.false_positive_page):
            return config.false_positive_page  # its preload's edits too: repaired by the pass
        return None

    def report_page_pass(self, served: ServedWiki, changes: Sequence[RecentChange]) -> None:
        """One pass for several edits of one report page, in one go (:meth:`report_page_pass_steps`)."""
        run_steps(self.report_page_pass_steps(served, changes))

    def report_page_pass_steps(self, served: ServedWiki, changes: Sequence[RecentChange]) -> PassSteps:
        """One pass for several edits of one report page, held back while candidate edits went
        first: it reads the page's latest revision, which holds them all. It stands for the
        newest of them (so an earlier pass at or after it costs nothing), credited to the
        newest editor other than the bot if there is one — the bot's own lines alone start a
        pass only to go on with one cut short, exactly as they would one by one. A generator
        of the pass's steps (``onwiki.report_page_steps``): the worker decides candidate edits
        between two of them."""
        if not changes:
            return 0
        newest = max(changes, key=lambda c: c.rev_id or 0)
        if any(c.rev_id is None for c in changes):
            newest = replace(newest, rev_id=None)  # no revision to skip by: the pass reads the page
        bot = served.gateway.bot_user if served.gateway is not None else None
        humans = [c for c in changes if bot is None or not same_user(c.user, bot)]
        editor = max(humans, key=lambda c: c.rev_id or 0).user if humans else newest.user
        return (yield from self.report_page_edit_steps(served, replace(newest, user=editor)))

    def surface_move(self, served: ServedWiki, change: RecentChange) -> None:
        """A move from or onto one of the bot's pages: the wiki is off (``ServedWiki.notice_move``)
        and, for a new move, one note on the config page's talk page says so."""
        move = served.notice_move(change)
        if move is None or self.dry_run or served.gateway is None:
            return
        try:
            post_surface_moved(served.gateway, served.wiki.config_page, source=move.source, target=move.target,
                               mover=move.user, when=self.clock())
        except WikiError as exc:
            log.error("%s: cannot post the move notice: %s", served.name, exc)

    def report_page_edit(self, served: ServedWiki, change: RecentChange) -> None:
        """An edit of the wiki's report page (or the central wiki's shared one): answer it."""
        run_steps(self.report_page_edit_steps(served, change))

    def report_page_edit_steps(self, served: ServedWiki, change: RecentChange) -> PassSteps:
        """:meth:`report_page_edit` as steps (on the central wiki, the shared page's too)."""
        if not self.dry_run and (yield from shared_report_edit(served, self.store, change, self.on_report_label)):
            return 0  # the shared false-positive page on the central wiki (shared_tasks.py)
        config, gateway = served.applied.config, served.gateway
        if (config is not None and gateway is not None and config.false_positive_page and not self.dry_run
                and _report_page_or_preload(gateway, change.title, config.false_positive_page)):
            if served.moved is not None:  # fail closed: a report under a redirect is nobody's to answer
                log.warning("%s: report page edit r%s left alone: %s", change.wiki, change.rev_id,
                            served.moved.reason())
                return 0
            # The bot's own lines come here too: a pass cut short goes on from them (reports.py).
            try:
                return (yield from report_page_steps(
                    gateway, self.store, change.wiki, config.false_positive_page, editor=change.user, config=config,
                    on_label=self.on_report_label, rev_id=change.rev_id,
                    window=served.wiki.report_budget_window_seconds))
            except WikiError as exc:
                log.error("%s: cannot process the report page: %s", change.wiki, exc)
        return 0

    def before_revert(self, served: ServedWiki) -> None:
        """The report page (with its instructions) and its preload exist before a revert's
        summary links them; once per page per run. A failure is logged: the revert goes on."""
        config, gateway = served.applied.config, served.gateway
        if self.dry_run or config is None or gateway is None or not config.false_positive_page:
            return
        key = (served.name, config.false_positive_page)
        if key in self._preloads:
            return
        try:
            ensure_report_page(gateway, config.false_positive_page, config)
            ensure_preload(gateway, config.false_positive_page, config)
        except WikiError as exc:
            log.error("%s: cannot prepare the report page %s: %s", key[0], key[1], exc)
            return
        self._preloads.add(key)

    def waiting_reports_pass(self, served: ServedWiki) -> None:
        """Answer the reports that waited for the flood limits, in one go (:meth:`waiting_reports_steps`)."""
        run_steps(self.waiting_reports_steps(served))

    def waiting_reports_steps(self, served: ServedWiki) -> PassSteps:
        """Answer the reports that waited for the flood limits, once they allow a line again
        (no API call while nothing waits or the limits still refuse); the steps of a pass."""
        config, gateway = served.applied.config, served.gateway
        if self.dry_run or config is None or gateway is None or not config.false_positive_page:
            return 0
        try:
            return (yield from waiting_report_steps(
                gateway, self.store, served.name, config.false_positive_page, config=config,
                on_label=self.on_report_label, window=served.wiki.report_budget_window_seconds))
        except WikiError as exc:
            log.error("%s: cannot answer the waiting reports: %s", served.name, exc)
        return 0

    def after_revert(self, served: ServedWiki, change: RecentChange, verdict: Verdict) -> None:
        """Tell the editor (only after a rollback that really happened), escalating warnings."""
        config, gateway = served.applied.config, served.gateway
        if config is None or gateway is None or not verdict.revert_rev_id:
            return
        assert change.rev_id is not None
        standing = escalate(gateway, self.store, config, change, self.clock())
        if not config.talk_notice_enabled:
            return
        try:
            if config.false_positive_page and (change.wiki, config.false_positive_page) not in self._preloads:
                ensure_preload(gateway, config.false_positive_page, config)  # before_revert could not
                self._preloads.add((change.wiki, config.false_positive_page))
            result = send_notice(gateway, config, user=change.user, title=change.title, reverted_rev=change.rev_id,
                                 revert_rev=int(verdict.revert_rev_id or 0),
                                 probability=float(verdict.probability or 0.0), level=standing.next,
                                 report_link=shared_report_link(served, change.rev_id, change.title),
                                 earlier=tuple(r for r in verdict.reverted_rev_ids if r != change.rev_id),
                                 talk=standing.talk)
        except WikiError as exc:
            log.error("%s: talk-page notice to %s failed: %s", change.wiki, change.user, exc)
            self.store.record_action(change.wiki, change.rev_id, "notice", "failed", None, str(exc)[:300])
            return
        self.store.record_action(change.wiki, change.rev_id, "notice", result.status, result.rev_id, result.detail)
        if config.warning_levels > 1 and result.status in ("new-section", "follow-up", "excluded"):
            # The level stands even when the editor's {{nobots}} withheld the notice (escalation.py).
            self.store.record_warning_level(change.wiki, change.rev_id, standing.next,
                                            withheld=result.status == "excluded", notice_rev_id=result.rev_id)

    def implicit_report(self, served: ServedWiki, change: RecentChange, context: RevisionContext) -> None:
        """A human (not the reverted editor) undid the bot's revert: a probable false positive."""
        config, gateway = served.applied.config, served.gateway
        if config is None or gateway is None or self.dry_run:
            return
        if context.parent_id is None:
            return
        original = self.store.revert_of(change.wiki, context.parent_id)
        if original is None or original.user == change.user:
            return  # not the bot's revert, or the reverted editor re-adding their edit
        if not config.false_positive_page:  # the central wiki's shared page, if it has one (shared_tasks.py)
            if queue_implicit_report(served, self.store, reverted_rev=original.rev_id,
                                     revert_rev=context.parent_id, restorer=change.user):
                log.info("%s: %s undid the revert of r%d: queued for the shared report page",
                         change.wiki, change.user, original.rev_id)
            return
        try:
            if log_implicit_report(gateway, self.store, change.wiki, config.false_positive_page,
                                   reverted_rev=original.rev_id, revert_rev=context.parent_id,
                                   restorer=change.user, title=change.title):
                log.info("%s: %s undid the revert of r%d: logged as a probable false positive",
                         change.wiki, change.user, original.rev_id)
        except WikiError as exc:
            log.error("%s: cannot log the implicit report: %s", change.wiki, exc)

    def config_notice_for(self, served: ServedWiki) -> Callable[[AppliedConfig, AppliedConfig, ConfigPage], None]:
        def notice(previous: AppliedConfig, applied: AppliedConfig, page: ConfigPage) -> None:
            if served.gateway is not None:
                post_config_notice(served.gateway, self.store, served.name, previous, applied, page)
        return notice
