"""Reading the shared false-positive page (central wiki's thread) and acting on what trusted
reviewers decided there (the reverted wiki's thread). See :mod:`automod.onwiki.shared_reports`.

The same rules as a local report page (:mod:`automod.onwiki.reports`): the bot only appends;
sections are located by position; the flood limits, passes already read and sections already
answered are kept in the store under the central wiki and the shared page's title; who
changed a status is read from the page history and their rights from the central wiki.
What would otherwise live only in memory between the two threads is recovered from the
store and the page at the bot's start (:func:`start_pass`): a confirmation not yet acted on,
an outcome line not yet written; implicit reports wait in the store until they are written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass

from automod.config import CommunityConfig
from automod.errors import WikiError, WikiUnavailable
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.messages import messages_for
from automod.onwiki.page_reads import current_text, section_spans
from automod.onwiki.report_page import STATUSES, PageSection, heading_count, page_sections
from automod.onwiki.report_trust import (
    FLOOD_LINE_KIND,
    LineBudget,
    PageHistory,
    ReportPlan,
    answer_planned,
    answered_sections,
    forget_waiting,
    mark_unfinished,
    passed,
    record_pass,
    same_user,
    status_author,
    unfinished,
    waiting_sections,
)
from automod.onwiki.reports import REPORT_PERIOD, PassSteps, reports_waiting, run_steps
from automod.onwiki.shared_report_target import ReportTarget, report_target
from automod.onwiki.shared_reports import (
    ReinstateOutcome,
    ReinstateRequest,
    SharedHub,
    SharedPage,
    append_line,
    external_diffs,
    implicit_section,
    interwiki_prefix,
    reinstate_summary,
    shared_line,
    shared_status_count,
    shared_status_counts,
)
from automod.onwiki.wikitext import plain
from automod.records import ReportStatus
from automod.store import Store

__all__ = ["OUTCOME_KIND", "answer_waiting_shared", "lost_outcomes", "post_lost_outcomes", "post_outcome",
           "process_shared_page", "reinstate_shared", "shared_page_steps", "start_pass", "write_implicit_reports"]

log = logging.getLogger("automod.onwiki.shared_report_pass")

#: As on a local page: each line is a few requests, and the central wiki's edits wait behind them.
LINES_PER_PASS = 3
#: The action kind that records an outcome line written on the shared page.
OUTCOME_KIND = "shared-outcome"
LabelHook = Callable[[Store, str, int, str], None]


def start_pass(gateway: WikiGateway, store: Store, hub: SharedHub, shared: SharedPage, *, config: CommunityConfig,
               on_label: LabelHook | None) -> int:
    """Once at the bot's start, on the central wiki's thread: the shared page as it is now. A
    trusted confirmation read before a stop but not yet acted on (the request lived in memory)
    or saved while the bot was away (before the stream position it resumes from) is routed
    again, under every rule of a pass (a stored reinstatement is never repeated)."""
    return process_shared_page(gateway, store, hub, shared, editor="(bot start)", config=config, on_label=on_label,
                               rev_id=None)


def process_shared_page(gateway: WikiGateway, store: Store, hub: SharedHub, shared: SharedPage, *, editor: str,
                        config: CommunityConfig, on_label: LabelHook | None, rev_id: int | None) -> int:
    """Answer new reports on the shared page and route trusted confirmations, in one go; lines added."""
    return run_steps(shared_page_steps(gateway, store, hub, shared, editor=editor, config=config, on_label=on_label,
                                       rev_id=rev_id))


def shared_page_steps(gateway: WikiGateway, store: Store, hub: SharedHub, shared: SharedPage, *, editor: str,
                      config: CommunityConfig, on_label: LabelHook | None, rev_id: int | None) -> PassSteps:
    """:func:`process_shared_page` as the steps of a pass, as on a local page
    (:func:`automod.onwiki.reports.report_page_steps`): it pauses after reading the page, after
    the statuses, after each section's reporter and after each answer, so the central wiki's
    candidate edits are decided between two steps; each answer's section is located afresh,
    and one answered meanwhile is skipped."""
    wiki, page = shared.central_wiki, shared.title
    if rev_id is not None and passed(store, wiki, page, rev_id):
        return 0
    if same_user(editor, gateway.bot_user) and not unfinished(store, wiki, page):
        return 0
    found = current_text(gateway, page)
    if found is None:
        return 0
    yield
    sections = page_sections(found[1], section_spans(gateway, found[0]))
    history, budget = PageHistory(gateway, page, upto=found[0]), LineBudget(store, wiki, page, config)
    log.info("%s: reading the shared report page %s (r%d, edited by %s)", wiki, page, found[0], editor)
    added = _statuses(gateway, store, hub, shared, config, history, budget, found[1], sections, on_label)
    yield
    bodies = {s.key: s.body for s in sections}  # a key is answered only while it names the same section
    answered = answered_sections(store, wiki, page, bodies)
    pending = [s for s in sections if s.key not in answered]
    waiting = waiting_sections(store, wiki, page)
    retry = False
    if pending and budget.refusal(None, "wiki"):
        for section in pending:  # nothing is read about them now: the central wiki's budget is spent
            budget.wait(0, None, section.key, "wiki-limit", waiting)
        pending = []
    try:
        individual, flood = yield from _plan(gateway, store, shared, history, pending)
    except WikiError as exc:  # the history could not be read: the next pass tries again
        log.error("%s: cannot read the history of %s: %s", wiki, page, exc)
        individual, flood, retry = [], [], True
    added, cut, retry = yield from answer_planned(
        store, wiki, page, bodies, individual, flood, key=lambda item: item.section.key,
        answer=lambda item, onward: _answer(gateway, store, shared, budget, item, onward, waiting),
        answer_flood=lambda items: _answer_flood(gateway, shared, budget, items, waiting), added=added,
        limit=LINES_PER_PASS, retry=retry, what="shared report")
    if cut:
        mark_unfinished(store, wiki, page, found[0])
    elif not retry:  # waiting keys that name no section now: withdrawn, or renumbered (read under the new key)
        forget_waiting(store, wiki, page, waiting_sections(store, wiki, page) - set(bodies))
        record_pass(store, wiki, page, found[0])
    return added


def answer_waiting_shared(gateway: WikiGateway, store: Store, hub: SharedHub, shared: SharedPage, *,
                          config: CommunityConfig, on_label: LabelHook | None) -> int:
    """A pass for the shared page's reports that waited for the flood limits, once they allow a
    line again (also after a restart: the waiting reports are in the store; no API call while
    nothing waits or the limits still refuse); how many lines were added."""
    if not reports_waiting(store, shared.central_wiki, shared.title, config):
        return 0
    return process_shared_page(gateway, store, hub, shared, editor="(waiting reports)", config=config,
                               on_label=on_label, rev_id=None)


@dataclass(frozen=True)
class _Pending:
    """A report on the shared page not answered yet, with what the pass found about it."""

    section: PageSection
    reporter: str | None  # who saved the revision that added it (None: unknown)
    target: ReportTarget  # the wiki and revision it is about
    ours: bool  # the bot reverted that revision under the central page
    own: bool  # ... and it was the reporter's own edit: such reports go first


def _plan(gateway: WikiGateway, store: Store, shared: SharedPage, history: PageHistory,
          pending: list[PageSection]) -> Generator[None, None, tuple[list[_Pending], list[_Pending]]]:
    """As on a local page (:func:`automod.onwiki.reports.process_report_page`): reports about the
    reporter's own reverted edit first, then the others answered one by one (each revert's
    report gets its status line, which reviewers confirm); reports by editors the bot never
    reverted on any wiki of the shared page that match no revert, a reporter's further ones,
    and repeats of a revision make the flood answered together."""
    since = time.time() - REPORT_PERIOD
    reverted: dict[str, bool] = {}

    def was_reverted(user: str) -> bool:
        if user not in reverted:
            reverted[user] = any(store.reverted_revisions_of(w, user, since) for w in shared.index_urls)
        return reverted[user]

    plan: ReportPlan[_Pending] = ReportPlan(one_per_reporter=False)  # each revert's report: its status line
    for section in pending:
        author = history.heading_author(section.key)
        reporter = author.user if author else None
        if reporter and same_user(reporter, gateway.bot_user):
            continue  # the bot's own section (an implicit report): answered when it was written
        target = report_target(store, shared, section.body, reporter)
        decision = store.decision(target.wiki, target.rev_id) \
            if target.rev_id is not None and target.wiki in shared.index_urls else None
        ours = decision is not None and decision.config_page == shared.central_label \
            and store.rollback_of(target.wiki, target.rev_id or 0) is not None
        own = ours and decision is not None and reporter is not None and same_user(decision.user, reporter)
        asks = bool(target.candidates)  # the bot asks which wiki: a line of its own
        plan.add(_Pending(section, reporter, target, ours, own), reporter, (target.wiki, target.rev_id or 0),
                 answerable=ours, own=own, was_reverted=lambda user: asks or was_reverted(user))
        yield  # a step per section (its reporter may take a read of the history)
    return plan.split(lambda p: p.own)


def _answer(gateway: WikiGateway, store: Store, shared: SharedPage, budget: LineBudget, item: _Pending,
            flood: list[_Pending], waiting: set[str]) -> int:
    """One line under a new report (marked, quoting a diff, or free-form as on a local page,
    :mod:`.shared_report_target`): the bot's line naming the wiki; a question when the page
    it names was reverted on several wikis; else the no-match line (also for a revert not
    made under the central page). Questions and no-match lines count as no-match lines.
    Past the flood limits it waits (in the store) until they allow a line, never dropped; a
    reporter's second no-match goes to the flood's line."""
    section, reporter, target = item.section, item.reporter, item.target
    wiki, rev_id = target.wiki, target.rev_id
    decision = store.decision(wiki, rev_id) if item.ours and rev_id is not None else None
    revert = store.rollback_of(wiki, rev_id) if item.ours and rev_id is not None else None
    ours = decision is not None and revert is not None
    kind = "report-answer" if ours else "report-no-match"
    why = budget.refusal(reporter, kind)
    if why == "no-match-limit":  # a reporter's second "no match": answered with the flood's line
        flood.append(item)
        return 0
    if why:
        budget.wait(0, reporter, section.key, why, waiting)
        return 0
    messages = messages_for(gateway)
    if target.candidates:
        wikis = ", ".join(target.candidates)
        line = f": {messages.format('automod-report-which-wiki', plain(target.title), wikis)} ~~~~"
    elif not ours or rev_id is None or decision is None or revert is None:
        line = f": {messages.format('automod-report-no-match', rev_id or 0)} ~~~~"
    else:
        store.upsert_report(wiki=wiki, rev_id=rev_id, kind="explicit", page=shared.label, status="open",
                            revert_rev_id=revert, reporter=reporter, heading=section.key)
        status = store.report_status(wiki, rev_id, "explicit")
        line = shared_line(messages, wiki=wiki, index_url=shared.index_urls[wiki], rev_id=rev_id,
                           revert_rev_id=revert, probability=decision.probability, model=decision.model,
                           version=decision.model_version, threshold=decision.threshold,
                           config_rev=decision.config_rev, status=status if status in STATUSES else "open")
    bot_rev = append_line(gateway, shared.title, section.key, line, section.body)
    budget.spend(0, kind, reporter, section.key, bot_rev, section.body)
    if ours and rev_id is not None:
        store.set_report(wiki, rev_id, "explicit", logged=True)
    log.info("%s: answered the shared report %r (%s r%s) by %s", shared.central_wiki, section.key, wiki or "?",
             rev_id, reporter)
    return 1


def _answer_flood(gateway: WikiGateway, shared: SharedPage, budget: LineBudget, flood: list[_Pending],
                  waiting: set[str]) -> int:
    """One line, under the first of them, for every flood report of this pass (past the central
    wiki's limit they all wait); the others are recorded as answered by it."""
    first = flood[0]
    if budget.refusal(None, "wiki"):
        for item in flood:
            budget.wait(0, item.reporter, item.section.key, "wiki-limit", waiting)
        return 0
    line = f": {messages_for(gateway).format('automod-report-flood', len(flood))} ~~~~"
    bot_rev = append_line(gateway, shared.title, first.section.key, line, first.section.body)
    budget.spend(0, FLOOD_LINE_KIND, first.reporter, first.section.key, bot_rev, first.section.body)
    for item in flood[1:]:
        budget.collapsed(0, item.reporter, item.section.key, first.section.key, item.section.body)
    log.info("%s: answered %d flood reports together under %r on %s", shared.central_wiki, len(flood),
             first.section.key, shared.title)
    return 1


def _statuses(gateway: WikiGateway, store: Store, hub: SharedHub, shared: SharedPage, config: CommunityConfig,
              history: PageHistory, budget: LineBudget, text: str, sections: list[PageSection],
              on_label: LabelHook | None) -> int:
    """A trusted reviewer's "declined" is stored here; a "confirmed" goes to the reverted
    wiki's thread (which stores it once it acted). An untrusted change is answered once."""
    added, article = 0, None
    counts = shared_status_counts(text)  # the page read once, whatever the number of open reports
    for row in store.reviewable_reports(shared.label):
        wiki, rev_id, stored = row.wiki, row.rev_id, row.status
        if wiki not in shared.index_urls:
            continue
        for status in ("confirmed", "declined"):
            if status == stored or not counts[(wiki, rev_id, status)]:
                continue
            count = shared_status_count(wiki, rev_id, status)
            changed, trusted = status_author(history, count, gateway, config)
            where = next((s for s in sections if count(s.body)), None)
            if changed is not None and trusted:
                log.info("%s: %s set the shared report on %s r%d to %s", shared.central_wiki, changed.user, wiki,
                         rev_id, status)
                if status == "confirmed" and where is not None:
                    article = _article_url(gateway) if article is None else article
                    hub.post(wiki, ReinstateRequest(wiki, rev_id, changed.user, where.key, shared, article))
                elif status == "declined":
                    _store_status(store, wiki, rev_id, status, on_label)
                break
            marker = f"ignored:{wiki}:r{changed.rev_id}" if changed else f"ignored:{wiki}:unknown"
            if where is None or store.has_action_naming(shared.central_wiki, marker):
                break
            changer = changed.user if changed else "?"
            if budget.refusal(changer, "report-status-ignored"):
                budget.drop(0, changer, marker, "limit")
                break
            messages = messages_for(gateway)
            rights = ", ".join(sorted(config.report_reviewer_rights))
            line = (f": {messages.format('automod-report-status-ignored', rev_id, plain(changer), rights)}"
                    f" (wiki={wiki}) ~~~~")
            try:
                budget.spend(0, "report-status-ignored", changer, marker,
                             append_line(gateway, shared.title, where.key, line))
                added += 1
            except WikiError as exc:
                log.error("%s: cannot answer the status change on %s r%d: %s", shared.central_wiki, wiki, rev_id, exc)
            break
    return added


def _article_url(gateway: WikiGateway) -> str:
    """This (the central) wiki's article URL as its siteinfo gives it, ``$1`` for the title."""
    general = gateway.query(meta="siteinfo", siprop="general")["query"]["general"]
    return f"{general.get('server', '')}{general.get('articlepath', '')}"


def _store_status(store: Store, wiki: str, rev_id: int, status: str, on_label: LabelHook | None) -> None:
    for report in store.reports_on(wiki, rev_id):
        if report.status not in (status, ReportStatus.REINSTATED):
            store.set_report(wiki, rev_id, report.kind, status=status)
            if on_label is not None:
                on_label(store, wiki, rev_id, status)


def reinstate_shared(gateway: WikiGateway | None, store: Store, request: ReinstateRequest, *,
                     disabled: str | None, on_label: LabelHook | None) -> ReinstateOutcome | None:
    """On the reverted edit's wiki (its own thread): restore the edit if it is still as safe
    as reverting it was — wiki enabled, page still at the bot's revert, editor not blocked
    (the reviewer's rights were read on the central wiki). At most once; None if done before."""
    wiki, rev_id = request.wiki, request.rev_id
    if store.has_action(wiki, rev_id, "reinstate"):
        return None
    decision, revert = store.decision(wiki, rev_id), store.rollback_of(wiki, rev_id)
    if decision is None or revert is None or decision.config_page != request.shared.central_label:
        return None
    new_rev, top_rev = None, None
    if disabled or gateway is None:
        why: str | None = "wiki-disabled"
    else:
        top = gateway.query(titles=decision.title, prop="revisions", rvprop="ids", rvlimit=1)["query"]["pages"][0]
        top_rev = int(top["revisions"][0]["revid"]) if top.get("revisions") else None
        why = "page-changed" if top_rev != revert else ("editor-blocked" if gateway.is_blocked(decision.user)
                                                        else None)
    detail = f"confirmed by {request.reviewer} on {request.shared.label}"
    if why is None and gateway is not None:
        iwmap = gateway.query(meta="siteinfo", siprop="interwikimap")["query"].get("interwikimap", [])
        prefix = interwiki_prefix(iwmap, request.central_article, request.shared.central_index)
        new_rev = gateway.edit(decision.title, undo=revert, summary=reinstate_summary(
            messages_for(gateway), rev_id, request.shared, request.section_key.rsplit("#", 1)[0], prefix))
        store.record_action(wiki, rev_id, "reinstate", "done", new_rev, detail)
    else:
        store.record_action(wiki, rev_id, "reinstate", why or "refused", None, f"top r{top_rev}; {detail}")
    _store_status(store, wiki, rev_id, "confirmed", on_label)
    if why is None:
        for report in store.reports_on(wiki, rev_id):
            store.set_report(wiki, rev_id, report.kind, status=ReportStatus.REINSTATED)
    log.info("%s: confirmed shared report on r%d: %s", wiki, rev_id, why or "reinstated")
    return ReinstateOutcome(wiki, rev_id, request.section_key, why, new_rev, request.shared)


def _outcome_text(gateway: WikiGateway, outcome: ReinstateOutcome) -> str:
    messages = messages_for(gateway)
    if outcome.why is None:
        text = messages.format("automod-report-reinstated", outcome.rev_id, outcome.new_rev or 0)
    elif outcome.why == "page-changed":
        text = messages.format("automod-report-page-changed", outcome.rev_id)
    else:
        text = messages.format("automod-reinstate-refused", outcome.rev_id, outcome.why)
    index_url = outcome.shared.index_urls.get(outcome.wiki, "")
    return f"{external_diffs(text, outcome.wiki, index_url)} (wiki={outcome.wiki})"


def post_outcome(gateway: WikiGateway, store: Store, outcome: ReinstateOutcome) -> None:
    """On the central wiki's thread: the outcome's line under the report on the shared page,
    once (the store remembers it was written)."""
    if store.has_action(outcome.wiki, outcome.rev_id, OUTCOME_KIND):
        return
    bot_rev = append_line(gateway, outcome.shared.title, outcome.section_key,
                          f": {_outcome_text(gateway, outcome)} ~~~~")
    store.record_action(outcome.wiki, outcome.rev_id, OUTCOME_KIND, "done", bot_rev, outcome.shared.label)


def lost_outcomes(store: Store, shared: SharedPage) -> list[ReinstateOutcome]:
    """Reinstatements (or refusals) recorded on a governed wiki whose line never reached the
    shared page: the bot stopped between the two threads, or the central wiki did not answer."""
    return [ReinstateOutcome(r.wiki, r.rev_id, r.heading, None if r.result == "done" else r.result, r.result_rev_id,
                             shared)
            for r in store.unposted_outcomes(shared.label, OUTCOME_KIND) if r.wiki in shared.index_urls]


def post_lost_outcomes(gateway: WikiGateway, store: Store, shared: SharedPage) -> int:
    """The outcome lines :func:`lost_outcomes` finds, written now; how many were tried. One
    the bot itself saved (history, not the text anyone could copy) before it could record it
    is only recorded."""
    outcomes = lost_outcomes(store, shared)
    history = PageHistory(gateway, shared.title)
    for outcome in outcomes:
        text = _outcome_text(gateway, outcome)
        saved = history.introduced_by(lambda page: page.count(text))
        if saved is not None and same_user(saved.user, gateway.bot_user):
            store.record_action(outcome.wiki, outcome.rev_id, OUTCOME_KIND, "done", saved.rev_id, shared.label)
            continue
        try:
            post_outcome(gateway, store, outcome)
        except WikiUnavailable:
            raise  # tried again later
        except WikiError as exc:  # e.g. the section was removed: written nowhere, said in the log
            log.error("%s: cannot write the outcome for %s r%d: %s", shared.central_wiki, outcome.wiki,
                      outcome.rev_id, exc)
            store.record_action(outcome.wiki, outcome.rev_id, OUTCOME_KIND, "failed", None, shared.label)
    return len(outcomes)


def write_implicit_reports(gateway: WikiGateway, store: Store, shared: SharedPage, limit: int = LINES_PER_PASS) -> int:
    """On the central wiki's thread: the implicit reports governed wikis' threads stored (a
    trusted human undid a revert made under the central page there, on a wiki with no report
    page of its own), each opened as a section on the shared page; how many were written.
    The store is the queue: one not yet written when the bot stops is written after a restart."""
    rows = store.implicit_reports_to_log(shared.label, tuple(shared.index_urls), limit)
    for row in rows:
        wiki, rev_id = row.wiki, row.rev_id
        decision = store.decision(wiki, rev_id)
        heading, body, edit_summary = implicit_section(
            messages_for(gateway), wiki=wiki, index_url=shared.index_urls[wiki],
            title=str(decision.title) if decision else "?", restorer=str(row.reporter or "?"),
            reverted_rev=rev_id, revert_rev=int(row.revert_rev_id or 0),
            decision=asdict(decision) if decision else None)
        found = gateway.page_text(shared.title)
        bot_rev = None
        saved = PageHistory(gateway, shared.title).introduced_by(heading_count(heading)) \
            if found is not None and heading_count(heading)(found[1]) else None
        if saved is None or not same_user(saved.user, gateway.bot_user):  # the bot's own, saved before a stop: kept
            bot_rev = gateway.edit(shared.title, section="new", sectiontitle=heading, text=body, summary=edit_summary)
            found = gateway.page_text(shared.title)
        key = f"{heading}#{heading_count(heading)(found[1]) if found else 1}"
        store.mark_implicit_logged(wiki, rev_id, key)
        LineBudget(store, shared.central_wiki, shared.title, CommunityConfig()).spend(
            0, "report-implicit", row.reporter, key, bot_rev)
        log.info("%s: %s undid the revert of %s r%d: logged on the shared report page", shared.central_wiki,
                 row.reporter, wiki, rev_id)
    return len(rows)
