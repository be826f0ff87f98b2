"""The pipeline: stream → intake filters → skip rules → score → decide → act → record.

Reading :meth:`Moderator.handle` top to bottom should explain the bot (``runner.run`` feeds
it from the stream).
Every candidate edit ends in exactly one recorded decision (``decisions`` table) and one
JSON line on stdout; the stream position is committed with that record, so an event is
handled at least once and acted on at most once (a rollback's intent is committed
before the rollback is sent, and a re-delivered revision is recognised by its record).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from automod.config import CommunityConfig
from automod.errors import ScoringError, WikiError
from automod.moderation.aftermath import Aftermath
from automod.moderation.decide import breaker_heals, breaker_trips, decide, rate_window_start
from automod.moderation.history_facts import with_history_facts
from automod.moderation.laps import Laps
from automod.moderation.page_facts import read_context
from automod.moderation.prefetch import ConcurrentPrefetch
from automod.moderation.restart import Restart, change_from_row
from automod.moderation.retries import is_transient
from automod.moderation.rollback import RollbackQueue, render_summary, rollback_summary
from automod.moderation.served_wiki import ServedWiki
from automod.moderation.shield import follows_within_window, may_shield
from automod.moderation.skip_rules import (
    EditFacts,
    cheap_skip,
    context_skip,
    too_old,
)
from automod.onwiki import TargetProblem, post_breaker_healed
from automod.records import (
    HandleResult,
    Outcome,
    RecentChange,
    RevertMethod,
    RevisionContext,
    RollbackStatus,
    Score,
    SkipReason,
    Verdict,
    WikiProblem,
)
from automod.scoring import Unscorable
from automod.settings import Settings
from automod.store import BreakerTrip, DecidedEdit, Store

__all__ = ["BreakerHealed", "Decision", "FollowUp", "ImplicitReport", "Moderator", "RunSummary", "render_summary"]

log = logging.getLogger("automod.moderation.moderator")

POSITION_SAVE_INTERVAL = 1.0  # for events that need no action; replaying them is harmless
DAY, HOUR = 86400.0, 3600.0


@dataclass
class RunSummary:
    events: int = 0
    candidates: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ImplicitReport:
    """A trusted human undid the bot's revert (``revert-of-bot``): a probable false positive,
    logged on the report page by :meth:`Moderator.handle` (``Aftermath.implicit_report``)."""

    change: RecentChange
    context: RevisionContext


@dataclass(frozen=True)
class BreakerHealed:
    """The circuit breaker closed by itself: said on the config page's talk page by
    :meth:`Moderator.handle` (once per trip: the store closed it for this decision only)."""

    wiki: str
    trip: BreakerTrip
    reverts_in_window: int
    healed_at: float


#: What a decision asks the caller to do on the wiki (decide itself never writes to one).
FollowUp = ImplicitReport | BreakerHealed


@dataclass(frozen=True)
class Decision:
    """Everything :meth:`Moderator.decide` found: the verdict, whether it failed for a
    passing reason (decided again later if there is time), and the follow-ups to perform."""

    verdict: Verdict
    transient: bool = False
    follow_ups: tuple[FollowUp, ...] = ()
    #: The revision context read for it (the rollback-target check answers from it).
    context: RevisionContext | None = None


_OUTPUT_LOCK = threading.Lock()
#: Outcomes known only after acting: recorded again (over "reverting") once the wiki answered.
_SETTLED_BY_ACTING = frozenset({Outcome.REVERTED, Outcome.BEATEN, Outcome.ROLLBACK_FAILED, Outcome.ROLLBACK_PENDING,
                                Outcome.TARGET_MISMATCH, Outcome.ROLLBACK_EXPIRED})


class Moderator:
    """Handles one candidate change at a time for all served wikis."""

    def __init__(self, settings: Settings, store: Store, out: TextIO, *, dry_run: bool,
                 wikis: dict[str, ServedWiki] | None = None, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.store = store
        self.out = out
        self.dry_run = dry_run
        self.clock = clock
        self.wikis = wikis if wikis is not None else {
            w.name: ServedWiki(w, settings, store, login=not dry_run) for w in settings.wikis}
        #: Rollbacks waiting for the rate limit's next slot or after a passing refusal.
        self.pending = RollbackQueue(wall=clock)
        self.summary = RunSummary()
        #: What follows a decision on the wiki: notices, report pages, config-change notices.
        self.aftermath = Aftermath(store, dry_run=dry_run, clock=clock)
        #: The client-side time of each step of the event in hand (laps.py), logged with its rollback.
        self.laps: Laps | None = None
        if not dry_run:
            for served in self.wikis.values():
                served.on_config_change = self.aftermath.config_notice_for(served)

    @property
    def on_report_label(self) -> Callable[[Store, str, int, str], None] | None:
        """Called with (store, wiki, rev_id, "confirmed" | "declined") when reviewers decide."""
        return self.aftermath.on_report_label

    @on_report_label.setter
    def on_report_label(self, callback: Callable[[Store, str, int, str], None] | None) -> None:
        self.aftermath.on_report_label = callback

    # -- one event ---------------------------------------------------------------------------

    def notice_config_edit(self, change: RecentChange) -> None:
        """Edits to the config page or the report page are acted on whatever their namespace."""
        served = self.wikis.get(change.wiki)
        if served is not None and change.is_move:
            self.aftermath.surface_move(served, change)  # the bot's own page moved: off at once
            return
        if served is None or change.type not in ("edit", "new"):
            return
        if served.is_config_page(change.title):
            log.info("%s: config page edited by %s (r%s), re-reading", change.wiki, change.user, change.rev_id)
            served.refresh_config(force=True)
            served.notice_config_saved(change)
            self.read_rate_limits()
        self.aftermath.report_page_edit(served, change)

    def read_rate_limits(self) -> None:
        """Read each wiki's rollback limit now (at start, on a config reload); logged once."""
        for name, served in self.wikis.items():
            if not self.dry_run and served.gateway is not None:
                self.pending.refresh(name, served.gateway)

    def reconcile_interrupted(self) -> None:
        """At start: take up the rollbacks the last run left ``reverting`` or waiting in
        memory — settled when the wiki shows them done, else queued again (restart.py)."""
        Restart(self.store, self.wikis, self.pending, self.aftermath.after_revert, self._emit,
                dry_run=self.dry_run).run()

    def record_creation(self, change: RecentChange) -> None:
        """Page creations are never scored (the models cannot), but the skip is recorded."""
        if change.rev_id is not None and not self.store.has_decision(change.wiki, change.rev_id):
            applied = self.wikis[change.wiki].applied
            self._record(change, Verdict(Outcome.SKIP, "page-creation", config_rev=applied.rev_id,
                                         config_page=applied.page), None, None)

    def handle(self, change: RecentChange, event_id: str | None = None, stream_url: str | None = None,
               received: float | None = None, *, may_defer: bool = False, attempt: int = 1) -> HandleResult:
        """Decide on one candidate, perform what the decision asks, and record it (with the
        stream position if given).

        ``received`` (``time.monotonic()``) is when the stream delivered the event, so the
        reported latency includes any wait in the wiki's queue. With ``may_defer``, a passing
        fault records nothing and returns ``DEFERRED`` (the caller tries again later).
        """
        assert change.rev_id is not None
        received = time.monotonic() if received is None else received
        self.laps = Laps(received)
        self._lap("queue")
        if self.store.has_decision(change.wiki, change.rev_id):
            self.summary.duplicates += 1
            log.info("%s r%d already handled, skipping duplicate delivery", change.wiki, change.rev_id)
            if stream_url and event_id:
                self.store.save_position(stream_url, event_id, change.meta.dt)
            return HandleResult.DUPLICATE
        self._lap("duplicate-check")
        self.wikis[change.wiki].refresh_config()  # may post a config-change notice: not inside decide
        self._lap("config")
        decision = self.decide(change)
        verdict = decision.verdict
        if decision.transient and may_defer:
            log.info("%s r%d: %s; deciding again later (attempt %d)", change.wiki, change.rev_id, verdict.reason,
                     attempt)
            return HandleResult.DEFERRED
        self._forget_prefetched(change)
        for follow_up in decision.follow_ups:
            if isinstance(follow_up, BreakerHealed):
                self._say_breaker_healed(follow_up)
            else:
                self.aftermath.implicit_report(self.wikis[change.wiki], follow_up.change, follow_up.context)
        if decision.transient and attempt > 1:
            verdict = verdict.with_(reason=f"{verdict.reason}"[:230] + f" (attempt {attempt}; no time left to retry)")
        shielded = None
        if verdict.outcome in (Outcome.REVERT, Outcome.BELOW_THRESHOLD):
            shielded = self._revert_shielded_run(change, verdict)  # shield.py
            self._lap("shield-check")
        if shielded is not None:
            verdict = shielded
            self._record(change, verdict, stream_url, event_id)
        elif verdict.outcome is Outcome.REVERT:
            verdict = self._revert(change, verdict, decision.context)
        else:
            self._record(change, verdict, stream_url, event_id)
        if verdict.outcome is Outcome.REVERTED and shielded is None:
            verdict = verdict.with_(latency_ms=round((time.monotonic() - received) * 1000, 1))
            self.aftermath.after_revert(self.wikis[change.wiki], change, verdict)
        if verdict.outcome in _SETTLED_BY_ACTING:
            with self.store.atomic():
                self.store.update_decision(change.wiki, change.rev_id, verdict)
                if stream_url and event_id:
                    self.store.save_position(stream_url, event_id, change.meta.dt)
        self._emit(change, verdict)
        self._settle_taken_with(change, verdict)
        return HandleResult.DECIDED

    def record_failure(self, change: RecentChange, exc: BaseException) -> None:
        """A fault no step expected while handling ``change``: recorded as ``error`` with the
        exception (unless a decision is already recorded) and printed, so one bad event
        costs only itself."""
        if change.rev_id is None or self.store.has_decision(change.wiki, change.rev_id):
            return
        verdict = Verdict(Outcome.ERROR, f"internal-error: {type(exc).__name__}: {exc}"[:300])
        self._record(change, verdict, None, None)
        self._emit(change, verdict)

    def _facts(self, change: RecentChange, served: ServedWiki, config: CommunityConfig, now: float) -> EditFacts:
        """What the skip rules that need no API call read about an edit."""
        assert served.gateway is not None
        reverted = self.store.revert_of(change.wiki, change.parent_id) if change.parent_id else None
        return EditFacts(change=change, config=config, bot_user=served.gateway.bot_user, now=now,
                         reverts_of_user_on_page_24h=self.store.reverts_of_user_on_page(
                             change.wiki, change.user, change.title, now - DAY),
                         reverted_user=reverted.user if reverted is not None else None)

    def prefetch(self, changes: Sequence[RecentChange]) -> None:
        """Let a scorer that batches (the local multilingual model) score, in one go, the
        candidates waiting in the queue that no cheap skip rule drops, or a remote one start
        scoring them concurrently (prefetch.py); each is then decided as usual, its score
        answered from memory. Failures here only cost the batch."""
        by_wiki: dict[str, list[RecentChange]] = {}
        for change in changes:
            by_wiki.setdefault(change.wiki, []).append(change)
        for wiki, group in by_wiki.items():
            served = self.wikis.get(wiki)
            if served is None or served.disabled_reason() or served.gateway is None or len(group) < 2:
                continue
            config = served.applied.config
            assert config is not None
            now = self.clock()
            keep = [c.rev_id for c in group if c.rev_id is not None and not self.store.has_decision(wiki, c.rev_id)
                    and not cheap_skip(self._facts(c, served, config, now))]
            if len(keep) < 2:
                continue
            for choice in config.models:
                try:
                    prefetch = getattr(served.scorer(choice.model), "prefetch", None)
                    if prefetch is not None:
                        scored = prefetch(wiki, keep)
                        log.info("%s: %s scored %d queued revisions in one batch", wiki, choice.model, scored)
                except (ScoringError, WikiError) as exc:
                    log.warning("%s: batch scoring with %s failed (%s); scoring one by one", wiki, choice.model, exc)

    def decide(self, change: RecentChange, *, follower_rev_id: int | None = None) -> Decision:
        """What the bot concludes about ``change`` — skip rules, scores, threshold, mode — and
        what should follow on the wiki, without writing to it (the caller, :meth:`handle`, acts;
        scores and a tripped breaker are recorded in the store). The caller refreshes the
        config first (a new revision may post a notice on the wiki). ``follower_rev_id``: the
        one edit on top that a shielded run's revert undoes with this one (shield.py)."""
        served = self.wikis[change.wiki]
        applied = served.applied
        base = Verdict(Outcome.SKIP, config_rev=applied.rev_id, config_page=applied.page)
        disabled = served.disabled_reason()
        if disabled:
            return Decision(base.with_(outcome=Outcome.DISABLED, reason=disabled))
        config = applied.config
        assert config is not None and served.gateway is not None
        now = self.clock()
        facts = dataclasses.replace(self._facts(change, served, config, now), follower_rev_id=follower_rev_id)
        skip = cheap_skip(facts)
        self._lap("cheap-rules")
        if skip:
            return Decision(base.with_(reason=str(skip)))
        self._score_ahead(served, config, change)
        self._lap("score-ahead")
        try:
            facts = read_context(facts, served.gateway)
            self._lap("context-read")
            facts = with_history_facts(facts, served.gateway)
            self._lap("history-facts")
        except WikiError as exc:
            return Decision(base.with_(outcome=Outcome.ERROR, reason=f"{WikiProblem.WIKI_ERROR.value}: {exc}"),
                            transient=is_transient(exc))
        skip = context_skip(facts)
        self._lap("context-rules")
        if skip:
            follow_ups: tuple[FollowUp, ...] = ()
            if skip.reason is SkipReason.REVERT_OF_BOT and facts.context is not None:
                follow_ups = (ImplicitReport(change, facts.context),)
            return Decision(base.with_(reason=str(skip)), follow_ups=follow_ups)
        assert change.rev_id is not None  # a candidate edit always has its revision
        scores: list[Score] = []
        for choice in config.models:
            try:
                score = served.scorer(choice.model).score(change.wiki, change.rev_id)
                self._lap("score-wait")
            except Unscorable as exc:
                return Decision(base.with_(outcome=Outcome.UNSCORABLE, reason=str(exc), model=choice.model))
            except ScoringError as exc:
                return Decision(base.with_(outcome=Outcome.ERROR, reason=f"scoring-error: {exc}", model=choice.model),
                                transient=is_transient(exc))
            self.store.record_score(change.wiki, change.rev_id, score.model, score.version, score.probability)
            self._lap("score-record")
            scores.append(score)
        tripped, healed = self._breaker(change.wiki, applied.rev_id, config, now)
        decision = decide(scores, config, dry_run=self.dry_run, breaker_tripped=tripped)
        if decision.outcome is Outcome.REVERT:
            since = rate_window_start(now, self.store.last_breaker_heal(change.wiki))
            recent = self.store.reverts_since(change.wiki, since)
            if breaker_trips(recent, config) and applied.rev_id is not None:
                self.store.trip_breaker(change.wiki, applied.rev_id, recent)
                log.error("%s: circuit breaker: %d reverts in the last hour (limit %d); log-only until the rate "
                          "stays low for %d s", change.wiki, recent, config.max_reverts_per_hour,
                          config.breaker_heal_seconds)
                decision = decide(scores, config, dry_run=self.dry_run, breaker_tripped=True)
        self._lap("breaker-decide")
        return Decision(base.with_(outcome=decision.outcome, reason=decision.reason,
                                   model=scores[0].model, model_version=scores[0].version,
                                   probability=decision.probability, threshold=decision.threshold),
                        follow_ups=healed, context=facts.context)

    def _breaker(self, wiki: str, config_rev: int | None, config: CommunityConfig,
                 now: float) -> tuple[bool, tuple[FollowUp, ...]]:
        """Whether the breaker is open under ``config_rev``; a trip whose rate stayed low for
        the healing window is closed here (in the store) and comes back as a follow-up."""
        trip = self.store.open_breaker(wiki, config_rev) if config_rev is not None else None
        if trip is None:
            return False, ()
        in_window = self.store.reverts_since(wiki, now - config.breaker_heal_seconds)
        if not breaker_heals(now - trip.tripped_at, in_window, config) or not self.store.heal_breaker(
                trip.id, now, in_window):
            return True, ()
        log.warning("%s: circuit breaker closed by itself: %d reverts in the last %d s (limit %d an hour)",
                    wiki, in_window, config.breaker_heal_seconds, config.max_reverts_per_hour)
        return False, (BreakerHealed(wiki, trip, in_window, now),)

    def _say_breaker_healed(self, healed: BreakerHealed) -> None:
        """Say on the local config page's talk page that the breaker closed (a centrally
        governed wiki's breaker is only logged); a failure is logged, not retried."""
        served = self.wikis[healed.wiki]
        config = served.applied.config
        if self.dry_run or served.gateway is None or config is None or served.applied.page != served.wiki.config_page:
            return
        try:
            post_breaker_healed(served.gateway, served.wiki.config_page, tripped_at=healed.trip.tripped_at,
                                reverts_last_hour=healed.trip.reverts_last_hour, healed_at=healed.healed_at,
                                reverts_in_window=healed.reverts_in_window, window_s=config.breaker_heal_seconds,
                                limit_per_hour=config.max_reverts_per_hour)
        except WikiError as exc:
            log.warning("%s: could not say on the config talk page that the breaker closed: %s", healed.wiki, exc)

    def _revert_shielded_run(self, change: RecentChange, verdict: Verdict) -> Verdict | None:
        """shield.py: when ``change`` landed within seconds on another user's edit the bot had
        to leave alone because of it, re-examine that edit; if it is to be reverted, undo both
        with one edit (restoring the revision before it). ``change``'s verdict when that was
        done (the previous edit's is recorded here), else None."""
        served = self.wikis[change.wiki]
        gateway, config = served.gateway, served.applied.config
        if self.dry_run or gateway is None or config is None or not change.parent_id or change.rev_id is None:
            return None
        if not may_shield(self.store.decision(change.wiki, change.parent_id), verdict):
            return None
        try:
            previous = gateway.revision_as_change(change.parent_id)
        except WikiError:
            return None
        if previous.title != change.title or not previous.parent_id or not follows_within_window(previous, change):
            return None
        pverdict = self.decide(previous, follower_rev_id=change.rev_id).verdict
        if pverdict.outcome is Outcome.WOULD_REVERT:
            self.store.update_decision(change.wiki, change.parent_id, pverdict)
            self._emit(previous, pverdict)
        if pverdict.outcome is not Outcome.REVERT:
            return None
        try:  # the follower's edit must still be the top one, by that user
            problem = gateway.rollback_target_problem(change.title, change.rev_id, change.user)
        except WikiError as exc:
            problem = TargetProblem(WikiProblem.WIKI_ERROR, str(exc))
        if problem is not None:
            return None
        self.store.update_decision(change.wiki, change.parent_id, pverdict.with_(outcome=Outcome.REVERTING))
        summary = rollback_summary(config, gateway, previous, pverdict)
        try:
            revert = gateway.edit(change.title, summary=summary, undo=change.rev_id, undoafter=previous.parent_id,
                                  minor=config.minor)
        except WikiError as exc:
            failed = pverdict.with_(outcome=Outcome.ROLLBACK_FAILED, reason=f"undo of r{previous.rev_id}..r"
                                    f"{change.rev_id}: {exc}"[:300])
            self.store.update_decision(change.wiki, change.parent_id, failed)
            self._emit(previous, failed)
            return None
        self.store.record_action(change.wiki, change.parent_id, "undo-run", "done", revert, f"r{change.rev_id}")
        done = pverdict.with_(outcome=Outcome.REVERTED, reason=f"above-threshold; shielded by r{change.rev_id}",
                              revert_rev_id=revert)
        self.store.update_decision(change.wiki, change.parent_id, done)
        self._emit(previous, done)
        self.aftermath.after_revert(served, previous, done)
        log.info("%s: r%d by %s landed on r%d by %s within seconds; undid both (r%d)", change.wiki, change.rev_id,
                 change.user, previous.rev_id, previous.user, revert)
        return verdict.with_(outcome=Outcome.REVERTED, reason=f"run-with-r{previous.rev_id}", revert_rev_id=revert)

    @staticmethod
    def _score_ahead(served: ServedWiki, config: CommunityConfig, change: RecentChange) -> None:
        """Let a remote scorer that scores concurrently (``scoring.max_in_flight`` > 1) start
        on ``change`` now, so its answer and the revision context read overlap; the score is
        taken when the skip rules let the edit through (a skipped one costs one request)."""
        assert change.rev_id is not None
        for choice in config.models:
            try:
                scorer = served.scorer(choice.model)
            except (ScoringError, WikiError):
                return  # met again, and recorded, when the edit is scored
            if isinstance(scorer, ConcurrentPrefetch):
                scorer.prefetch(change.wiki, [change.rev_id])

    def _forget_prefetched(self, change: RecentChange) -> None:
        """A decided edit's prefetched score, if it was not taken (skipped), is dropped now."""
        assert change.rev_id is not None
        for scorer in self.wikis[change.wiki].scorers_made():
            if isinstance(scorer, ConcurrentPrefetch):
                scorer.forget(change.wiki, change.rev_id)

    def _revert(self, change: RecentChange, verdict: Verdict, context: RevisionContext | None = None) -> Verdict:
        """Commit the intent, roll back, and say how it went (the caller records it)."""
        served = self.wikis[change.wiki]
        config = served.applied.config
        assert served.gateway is not None and config is not None and change.rev_id is not None
        self._record(change, verdict.with_(outcome=Outcome.REVERTING), None, None)
        self._lap("intent-record")
        self.aftermath.before_revert(served)  # the report page the summary links exists first
        self._lap("before-revert")
        summary = rollback_summary(config, served.gateway, change, verdict)
        self._lap("summary")
        return self._rollback(change, summary, attempt=0, verdict=verdict, context=context)

    def _rollback(self, change: RecentChange, summary: str, attempt: int, verdict: Verdict,
                  context: RevisionContext | None = None) -> Verdict:
        """Send the rollback when the wiki's rate limit has room (rollback.py); ``verdict``
        with what came of it. With the revision ``context`` just read, the target check
        answers from it (no request); without, it asks the wiki."""
        served, config = self.wikis[change.wiki], self.wikis[change.wiki].applied.config
        assert served.gateway is not None and change.rev_id is not None and config is not None
        max_age = config.max_edit_age_minutes
        waiting = self.pending.hold(change, summary, attempt, served.gateway, max_age)
        self._lap("pacer")
        if waiting:
            return verdict.with_(outcome=Outcome.ROLLBACK_PENDING, reason=waiting)
        started = time.monotonic()
        try:  # the event's title and user are claims: the wiki must confirm them first
            problem = (served.gateway.context_target_problem(change, context) if context is not None
                       else served.gateway.rollback_target_problem(change.title, change.rev_id, change.user))
        except WikiError as exc:
            problem = TargetProblem(WikiProblem.WIKI_ERROR, str(exc))
        self._lap("target-check")
        wiki_error = problem is not None and problem.kind is WikiProblem.WIKI_ERROR
        retry = self.pending.retry(change, summary, attempt) if wiki_error else None
        if problem is not None and retry:
            return verdict.with_(outcome=Outcome.ROLLBACK_PENDING, reason=f"{str(problem)[:200]}: {retry}")
        if problem is not None:
            reason = str(problem)[:300]
            log.warning("%s: not rolling back r%d on %r: %s", change.wiki, change.rev_id, change.title, problem)
            self.store.record_action(change.wiki, change.rev_id, "rollback", "not-sent", None, reason)
            outcome = {WikiProblem.NOT_TOP_REVISION: Outcome.BEATEN, WikiProblem.WIKI_ERROR: Outcome.ROLLBACK_FAILED,
                       WikiProblem.TARGET_MISMATCH: Outcome.TARGET_MISMATCH}[problem.kind]
            return verdict.with_(outcome=outcome, reason=reason)
        undo = config.revert_method is RevertMethod.UNDO and change.parent_id is not None
        if undo:  # the scored revision alone; the editor's earlier edits stay
            assert change.parent_id is not None
            result = served.gateway.undo(change.title, change.rev_id, change.parent_id, change.user, summary)
        else:
            scored = (change.parent_id, change.rev_id) if change.parent_id is not None else None
            result = served.gateway.rollback(change.title, change.user, summary, scored=scored)
        self._lap("rollback")
        self.pending.sent(change.wiki)
        self.store.record_action(change.wiki, change.rev_id, "rollback", result.status.value,  # the bot's revert
                                 result.revert_rev_id, result.code or result.info or None)
        if result.status is RollbackStatus.DONE:
            method = RevertMethod.UNDO if undo else RevertMethod.ROLLBACK
            self.store.record_reverted_revisions(change.wiki, change.rev_id, result.revert_rev_id, method.value,
                                                 result.reverted_rev_ids)
            verdict = verdict.with_(reverted_rev_ids=self.store.reverted_with(change.wiki, change.rev_id))
        self._lap("action-record")
        log.info("%s: rollback of r%d on %r by %s: %s %s (%.0f ms) %s", change.wiki, change.rev_id, change.title,
                 change.user, result.status.value, result.code or "", (time.monotonic() - started) * 1000,
                 self.laps.render() if self.laps is not None else "")
        if result.status is RollbackStatus.DONE:
            return verdict.with_(outcome=Outcome.REVERTED, reason="above-threshold", revert_rev_id=result.revert_rev_id)
        if result.status is RollbackStatus.BEATEN:
            return verdict.with_(outcome=Outcome.BEATEN, reason=f"handled by someone else ({result.code})")
        retry_later = result.status is RollbackStatus.RETRY_LATER
        if retry_later and result.code == "ratelimited":  # not an attempt: its next slot
            return verdict.with_(outcome=Outcome.ROLLBACK_PENDING, reason=self.pending.hold(
                change, summary, attempt, served.gateway, max_age, refused=True))
        retry = self.pending.retry(change, summary, attempt) if retry_later else None
        if retry:
            return verdict.with_(outcome=Outcome.ROLLBACK_PENDING, reason=f"{result.code}: {retry}")
        return verdict.with_(outcome=Outcome.ROLLBACK_FAILED, reason=f"{result.code}: {result.info}"[:300])

    def retry_pending(self) -> None:
        """Send the waiting rollbacks whose time has come, if still appropriate: a paced one
        whose slot another took waits on, unrecorded; one whose edit is too old expires."""
        self.laps = None  # not an event's hot path: its rollback line has no laps
        for item in self.pending.due():
            change = item.change
            served = self.wikis[change.wiki]
            config, gateway = served.applied.config, served.gateway
            assert change.rev_id is not None
            recorded = self.store.verdict(change.wiki, change.rev_id) or Verdict(Outcome.ROLLBACK_PENDING)
            expired = self.pending.expired(item, config.max_edit_age_minutes) if config is not None else None
            if config is None or gateway is None or served.disabled_reason() or not config.reverting or self.dry_run:
                verdict = recorded.with_(outcome=Outcome.ROLLBACK_ABANDONED,
                                         reason="wiki disabled or no longer reverting")
            elif expired:
                verdict = recorded.with_(outcome=Outcome.ROLLBACK_EXPIRED, reason=expired)
            elif self.pending.still_paced(item, gateway, config.max_edit_age_minutes):
                continue
            else:
                facts = EditFacts(change=change, config=config, bot_user=gateway.bot_user, now=self.clock(),
                                  reverts_of_user_on_page_24h=0)
                reason: str | None
                context: RevisionContext | None = None
                try:
                    context = gateway.revision_context(change)
                    facts = dataclasses.replace(facts, context=context)
                    skip = too_old(facts) or context_skip(facts)
                    reason = str(skip) if skip else None
                except WikiError as exc:
                    reason = str(TargetProblem(WikiProblem.WIKI_ERROR, str(exc)))
                if reason:
                    verdict = recorded.with_(outcome=Outcome.ROLLBACK_ABANDONED, reason=reason)
                else:
                    verdict = self._rollback(change, item.summary, item.attempts, recorded, context=context)
                    if verdict.outcome is Outcome.REVERTED:
                        self.aftermath.after_revert(self.wikis[change.wiki], change, verdict)
            self.store.update_decision(change.wiki, change.rev_id, verdict)
            self._emit(change, verdict)
            self._settle_taken_with(change, verdict)

    def _lap(self, step: str) -> None:
        if self.laps is not None:
            self.laps.lap(step)

    # -- recording ----------------------------------------------------------------------------

    def _record(self, change: RecentChange, verdict: Verdict, stream_url: str | None,
                event_id: str | None) -> None:
        assert change.rev_id is not None
        with self.store.atomic():
            self.store.record_decision(DecidedEdit.of(change), verdict)
            if stream_url and event_id:
                self.store.save_position(stream_url, event_id, change.meta.dt)

    def _settle_taken_with(self, change: RecentChange, verdict: Verdict) -> None:
        """The editor's earlier edits a rollback of ``change`` took with it had been left alone
        (``below-threshold``…): their decisions become ``reverted-with`` and each gets a line."""
        if verdict.outcome is not Outcome.REVERTED or len(verdict.reverted_rev_ids) < 2:
            return
        assert change.rev_id is not None
        for row in self.store.mark_reverted_with(change.wiki, change.rev_id, verdict.reverted_rev_ids):
            self._emit(change_from_row(row), row.verdict().with_(reverted_with=change.rev_id,
                                                                 revert_rev_id=verdict.revert_rev_id))

    def _emit(self, change: RecentChange, verdict: Verdict) -> None:
        outcome = verdict.outcome.value
        self.summary.outcomes[outcome] = self.summary.outcomes.get(outcome, 0) + 1
        line = {"wiki": change.wiki, "title": change.title, "rev_id": change.rev_id,
                "parent_id": change.parent_id, "user": change.user, "timestamp": change.timestamp,
                **verdict.to_json()}
        with _OUTPUT_LOCK:  # one line at a time, whichever wiki's thread decided
            self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.out.flush()

    def close(self) -> None:
        for served in self.wikis.values():
            served.close()
