"""False-positive reports: the on-wiki log a community reads and the bot reads back.

A report is a section on the community's report page, normally opened with the one-click
link from the notice (its preload carries ``<!-- automod-report rev=N -->``). For each new
report the bot appends, under it, one line that people can read and programs can parse::

    : automod — revision 123 · [[Special:Diff/124|revert]] · score 0.9950 · model
      revertrisk-language-agnostic 3 · threshold 0.99 · config r17 · status: open ~~~~

Reviewers change ``status: open`` to ``confirmed`` or ``declined``; the bot stores that as
a label. The lines are written in the wiki's language (:mod:`automod.onwiki.i18n`), but what the bot
reads back is language-independent: a line starting ``automod — `` whose first number is the
revision, and the untranslated ``status: <code>`` (open, confirmed, declined, no-match), so a
reviewer's change is read on every wiki and whatever the language the line was written in. A
human undoing the bot's revert is logged the same way (an implicit report).
The bot only ever appends (``appendtext``, new sections): human text is never rewritten.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

from automod.config import CommunityConfig
from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.i18n import Messages
from automod.onwiki.messages import messages_for
from automod.onwiki.page_reads import current_text, section_spans
from automod.onwiki.report_page import (
    DIFF,
    HEADER_MARKER,
    LINE,
    LINK,
    MARKER,
    STATUSES,
    UNSIGNED_SIGNATURE,
    PageSection,
    ReportSection,
    header_text,
    heading_count,
    page_sections,
    parse_report_page,
    preload_text,
    report_line,
    rev_number,
    status_count,
    status_counts,
)
from automod.onwiki.report_surfaces import header_revisions, repair_header, repair_preload
from automod.onwiki.report_trust import (
    FLOOD_LINE_KIND,
    HOUR,
    LineBudget,
    PageHistory,
    ReportPlan,
    answer_planned,
    answered_sections,
    forget_waiting,
    mark_unfinished,
    may_review,
    passed,
    record_pass,
    same_user,
    section_lines,
    status_author,
    unfinished,
    waiting_sections,
)
from automod.onwiki.wikitext import link, plain, summary, summary_fragment
from automod.records import ReportStatus
from automod.store import Store

__all__ = ["PageSection", "PassSteps", "ReportSection", "UNSIGNED_SIGNATURE", "answer_waiting_reports",
           "append_to_section", "ensure_preload", "ensure_report_page", "log_implicit_report", "page_sections",
           "parse_report_page", "preload_text", "process_report_page", "reinstate", "reinstate_refusal", "report_line",
           "report_page_steps", "reports_waiting", "run_steps", "waiting_report_steps"]

log = logging.getLogger("automod.onwiki.reports")

#: A free-form report names a page the bot reverted the reporter on within this period (the
#: talk notice's month).
REPORT_PERIOD = 31 * 86400.0
#: At most this many lines per pass: each is three requests to the wiki, and vandal edits
#: wait in the same queue. A pass cut short goes on when the stream brings its last line.
LINES_PER_PASS = 3

LabelHook = Callable[[Store, str, int, str], None]


def ensure_preload(gateway: WikiGateway, report_page: str, config: CommunityConfig | None = None) -> bool:
    """Create ``<report page>/Preload`` (what the one-click link pre-fills), or repair it.

    Its value as the bot or a reviewer (``config``'s rights) last set it stays; any other
    change is undone, a marker naming a revision of its own is replaced whoever saved it, and
    an older text of the bot's own is replaced by today's (:mod:`.report_surfaces`). True if saved.
    """
    messages = messages_for(gateway)
    return repair_preload(gateway, f"{report_page}/Preload", preload_text(messages),
                          messages.text("automod-report-preload-summary"), config)


def _own_surfaces(gateway: WikiGateway, page: str, config: CommunityConfig) -> Generator[None, None, bool]:
    """At every pass: the preload and the page's header as trusted hands left them; True if the
    report page itself was edited (its history read before is then stale). A step each."""
    try:
        ensure_preload(gateway, page, config)
    except WikiError as exc:  # the reports are still answered; the next pass tries again
        log.error("%s: cannot check the preload of %s: %s", gateway.wiki.name, page, exc)
    yield
    try:
        repaired = repair_header(gateway, page, header_revisions(gateway, page),
                                 messages_for(gateway).text("automod-report-header-restored-summary"), config)
    except WikiError as exc:
        log.error("%s: cannot check the header of %s: %s", gateway.wiki.name, page, exc)
        repaired = False
    yield
    return repaired


def ensure_report_page(gateway: WikiGateway, report_page: str, config: CommunityConfig) -> None:
    """Make sure the report page exists and starts with the bot's instructions (in the wiki's
    language), before any revert links it. A page without them gets them prepended, once:
    nothing below is rewritten, and once the marker is there the header is the community's."""
    found = gateway.page_text(report_page)
    if found is not None and HEADER_MARKER in found[1]:
        return
    messages = messages_for(gateway)
    rights = ", ".join(plain(r) for r in sorted(config.report_reviewer_rights))
    header = header_text(messages, gateway.bot_user, rights)
    summary = messages.text("automod-report-header-summary")
    if found is None:
        try:
            gateway.edit(report_page, text=header, summary=summary, create_only=True)
            return
        except WikiError as exc:
            if "articleexists" not in str(exc):
                raise
    gateway.edit(report_page, prependtext=header, summary=summary)


def append_to_section(gateway: WikiGateway, page: str, key: str, line: str, read: str | None = None) -> int:
    """Append ``line`` to the section named ``key``, located afresh in the current revision
    (``read``: the section's text as the pass read it — refused if the key now names another
    section, say after a twin heading above it was added or removed between two steps)."""
    found = current_text(gateway, page)
    if found is None:
        raise WikiError(f"{page} is gone")
    section = next((s for s in page_sections(found[1], section_spans(gateway, found[0])) if s.key == key), None)
    if section is None:
        raise WikiError(f"section {key!r} not found on {page}")
    if read is not None and section_lines(section.body)[:len(section_lines(read))] != section_lines(read):
        raise WikiError(f"section {key!r} of {page} changed since it was read")
    details = messages_for(gateway).format("automod-report-details-summary", summary(section.heading))
    return gateway.edit(page, section=str(section.index), appendtext="\n" + line, summary=details)


@dataclass
class _Pass:
    """One reading of the report page: what every step of this pass shares."""

    gateway: WikiGateway
    store: Store
    wiki: str
    page: str
    config: CommunityConfig
    history: PageHistory
    budget: LineBudget
    on_label: LabelHook | None


@dataclass(frozen=True)
class _Pending:
    """A section not answered yet, with what the pass found about it."""

    section: PageSection
    reporter: str | None  # who saved the revision that added it (None: unknown)
    rev_id: int | None  # the revision it is about
    answerable: bool  # the bot decided on and reverted that revision
    own: bool  # ... and it was the reporter's own edit: such reports go first


#: What a report-page pass yields between its steps: nothing. Each step is at most a few
#: requests (a read, one answer's edit); whoever runs the pass may do other work between two
#: steps — the worker decides a candidate edit there — and resume it (:func:`report_page_steps`).
PassSteps = Generator[None, None, int]


def run_steps(steps: PassSteps) -> int:
    """Run a pass's steps to the end; what it returns (the lines added)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return int(done.value or 0)


def process_report_page(gateway: WikiGateway, store: Store, wiki: str, page: str, *, editor: str,
                        config: CommunityConfig, on_label: LabelHook | None = None, rev_id: int | None = None,
                        window: float = HOUR) -> int:
    """Answer new reports and apply trusted reviewers' statuses, in one go (the steps of
    :func:`report_page_steps` without a pause); return how many lines were added."""
    return run_steps(report_page_steps(gateway, store, wiki, page, editor=editor, config=config, on_label=on_label,
                                       rev_id=rev_id, window=window))


def report_page_steps(gateway: WikiGateway, store: Store, wiki: str, page: str, *, editor: str,
                      config: CommunityConfig, on_label: LabelHook | None = None, rev_id: int | None = None,
                      window: float = HOUR) -> PassSteps:
    """Answer new reports and apply trusted reviewers' statuses; return how many lines were added.

    A generator: it pauses (yields) after each step — reading the page, its history, its
    preload and header, each section's reporter, each answer's edit — so the worker can decide
    a candidate edit between two steps and resume the pass (issue 26: a flood of reports never
    slows a revert). Whatever it writes is recorded in the store as it is written, so a pass
    resumed, or given up by a stop and read again after a restart, answers nothing twice: the
    sections the store holds as answered are skipped, and each answer's section is located
    afresh in the page's current revision.

    One bad section is logged and skipped; the others are still handled. ``editor`` (who
    saved the edit that triggered this pass) is only logged: who did what is read from history.

    ``rev_id`` is the page revision whose edit triggered this pass. A pass reads the page's
    latest revision, which holds every earlier edit, so an edit at or below a revision
    already read costs nothing (no API call): in a flood of reports, each saved as its own
    revision, the work grows with the passes the worker has time for, not with the edits.

    Past the flood limits (``window``: their hour) a report waits, recorded in the store, and
    a later pass (:func:`answer_waiting_reports`) answers it: reports about the reporter's own
    reverted edit first; reports by editors the bot never reverted, and repeats, collapsed into
    one line.
    """
    if rev_id is not None and passed(store, wiki, page, rev_id):
        log.debug("%s: %s r%d was read by an earlier pass", wiki, page, rev_id)
        return 0
    if same_user(editor, gateway.bot_user) and not unfinished(store, wiki, page):
        return 0  # the bot's own line: only a pass cut short continues on it
    found = current_text(gateway, page)
    if found is None:
        return 0
    yield
    repaired = yield from _own_surfaces(gateway, page, config)
    if repaired:
        found = current_text(gateway, page)
        if found is None:
            return 0
        yield
    history = PageHistory(gateway, page, upto=found[0])  # read after the text: it holds every line of it
    sections = page_sections(found[1], section_spans(gateway, found[0]))
    yield
    run = _Pass(gateway, store, wiki, page, config, history, LineBudget(store, wiki, page, config, window), on_label)
    log.info("%s: reading %s (r%d, edited by %s)", wiki, page, found[0], editor)
    added = yield from _apply_statuses(run, found[1], sections)
    bodies = {s.key: s.body for s in sections}  # a key is answered only while it names the same section
    answered = answered_sections(store, wiki, page, bodies)
    pending = [s for s in sections if s.key not in answered and not _answered_before(store, wiki, s)]
    waiting = waiting_sections(store, wiki, page)
    retry = False
    if pending and run.budget.refusal(None, "wiki"):
        for section in pending:  # nothing is read about them now: the wiki's budget is spent
            run.budget.wait(0, None, section.key, "wiki-limit", waiting)
        pending = []
    try:
        individual, flood = yield from _plan(run, pending)
    except WikiError as exc:  # the history could not be read: the next pass tries again
        log.error("%s: cannot read the history of %s: %s", wiki, page, exc)
        individual, flood, retry = [], [], True
    added, cut, retry = yield from answer_planned(
        store, wiki, page, bodies, individual, flood, key=lambda item: item.section.key,
        answer=lambda item, onward: _answer(run, item, onward, waiting),
        answer_flood=lambda items: _answer_flood(run, items, waiting), added=added, limit=LINES_PER_PASS,
        retry=retry, what="report")
    if cut:
        mark_unfinished(store, wiki, page, found[0])
    elif not retry:  # a passing fault: the next edit's pass reads this revision again (never silence)
        forget_waiting(store, wiki, page, waiting_sections(store, wiki, page) - set(bodies))
        record_pass(store, wiki, page, found[0])
    return added


def reports_waiting(store: Store, wiki: str, page: str, config: CommunityConfig, window: float = HOUR) -> bool:
    """Whether reports wait on ``page`` and the flood limits now let the bot answer one (no API call)."""
    return bool(waiting_sections(store, wiki, page)) and \
        LineBudget(store, wiki, page, config, window).refusal(None, "wiki") is None


def answer_waiting_reports(gateway: WikiGateway, store: Store, wiki: str, page: str, *, config: CommunityConfig,
                           on_label: LabelHook | None = None, window: float = HOUR) -> int:
    """A pass for the reports that waited for the flood limits, once they allow a line again
    (also after a restart: the waiting reports are in the store); how many lines were added."""
    return run_steps(waiting_report_steps(gateway, store, wiki, page, config=config, on_label=on_label,
                                          window=window))


def waiting_report_steps(gateway: WikiGateway, store: Store, wiki: str, page: str, *, config: CommunityConfig,
                         on_label: LabelHook | None = None, window: float = HOUR) -> PassSteps:
    """:func:`answer_waiting_reports` as the steps of a pass (:func:`report_page_steps`)."""
    if not reports_waiting(store, wiki, page, config, window):
        return 0
    return (yield from report_page_steps(gateway, store, wiki, page, editor="(waiting reports)", config=config,
                                         on_label=on_label, window=window))


def _plan(run: _Pass, pending: list[PageSection]) -> Generator[None, None, tuple[list[_Pending], list[_Pending]]]:
    """Who filed each pending report and what it is about; split into those answered one by
    one (reports about the reporter's own reverted edit first) and the flood answered together:
    reports by editors the bot never reverted that match no revert, and repeats (a revision
    already reported in this pass, a reporter's further reports). A step per section (finding
    its reporter may read a batch of the page's history)."""
    reverted: dict[str, bool] = {}
    since = time.time() - REPORT_PERIOD

    def was_reverted(user: str) -> bool:
        if user not in reverted:
            reverted[user] = bool(run.store.reverted_revisions_of(run.wiki, user, since))
        return reverted[user]

    plan: ReportPlan[_Pending] = ReportPlan()
    for section in pending:
        yield
        author = run.history.heading_author(section.key)
        reporter = author.user if author else None
        if reporter and same_user(reporter, run.gateway.bot_user):
            continue  # the bot's own section (an implicit report): answered when it was written
        rev_id = _report_rev(run, section, reporter)
        decision = run.store.decision(run.wiki, rev_id) if rev_id else None
        answerable = decision is not None and run.store.rollback_of(run.wiki, rev_id or 0) is not None
        own = answerable and decision is not None and reporter is not None and same_user(decision.user, reporter)
        plan.add(_Pending(section, reporter, rev_id, answerable, own), reporter, rev_id or 0, answerable=answerable,
                 own=own, was_reverted=was_reverted)
    return plan.split(lambda p: p.own)


def _report_rev(run: _Pass, section: PageSection, reporter: str | None) -> int | None:
    """The revision a report is about: the preload's marker, a diff link, a line quoted from
    the bot, or else a page it links that the bot reverted the reporter on (free-form)."""
    found = MARKER.search(section.body) or LINE.search(section.body) or DIFF.search(section.body)
    if found:
        return rev_number(found.group(1))
    if not reporter:
        return None
    since = time.time() - REPORT_PERIOD
    for named in LINK.findall(section.body):
        try:
            title = run.gateway.normal_title(named)
        except WikiError:
            continue
        reverted = run.store.latest_reverted_on_page(run.wiki, title, reporter, since)
        if reverted is not None:
            return reverted
    return None


def _answer(run: _Pass, item: _Pending, flood: list[_Pending], waiting: set[str]) -> int:
    """One line under a new report, within the flood limits (past them it waits; a reporter's
    second "no match" goes to the flood's line); a report we cannot place gets the polite
    no-match line (never silence)."""
    section, reporter, rev_id = item.section, item.reporter, item.rev_id
    decision = run.store.decision(run.wiki, rev_id) if rev_id else None
    revert = run.store.rollback_of(run.wiki, rev_id) if rev_id else None
    kind = "report-answer" if decision is not None and revert is not None else "report-no-match"
    why = run.budget.refusal(reporter, kind)
    if why == "no-match-limit":
        flood.append(item)
        return 0
    if why:
        run.budget.wait(rev_id or 0, reporter, section.key, why, waiting)
        return 0
    messages = messages_for(run.gateway)
    if rev_id is None or decision is None or revert is None:
        if rev_id is not None:
            run.store.upsert_report(wiki=run.wiki, rev_id=rev_id, kind="explicit", page=run.page, status="no-match",
                                    reporter=reporter, heading=section.key)
        line = f": {messages.format('automod-report-no-match', rev_id or 0)} ~~~~"
    else:
        run.store.upsert_report(wiki=run.wiki, rev_id=rev_id, kind="explicit", page=run.page, status="open",
                                revert_rev_id=revert, reporter=reporter, heading=section.key)
        status = run.store.report_status(run.wiki, rev_id, "explicit")
        line = report_line(rev_id, revert_rev_id=revert, probability=decision.probability,
                           model=decision.model, version=decision.model_version,
                           threshold=decision.threshold, config_rev=decision.config_rev,
                           status=status if status in STATUSES else "open", messages=messages)
    bot_rev = append_to_section(run.gateway, run.page, section.key, line, section.body)
    run.budget.spend(rev_id or 0, kind, reporter, section.key, bot_rev, section.body)
    if kind == "report-answer" and rev_id is not None:
        run.store.set_report(run.wiki, rev_id, "explicit", logged=True)
    log.info("%s: answered the report %r (r%s) by %s on %s", run.wiki, section.key, rev_id, reporter, run.page)
    return 1


def _answer_flood(run: _Pass, flood: list[_Pending], waiting: set[str]) -> int:
    """One line, under the first of them, for every flood report of this pass (past the wiki's
    limit they all wait); the others are recorded as answered by it."""
    first = flood[0]
    if run.budget.refusal(None, "wiki"):
        for item in flood:
            run.budget.wait(item.rev_id or 0, item.reporter, item.section.key, "wiki-limit", waiting)
        return 0
    line = f": {messages_for(run.gateway).format('automod-report-flood', len(flood))} ~~~~"
    bot_rev = append_to_section(run.gateway, run.page, first.section.key, line, first.section.body)
    run.budget.spend(first.rev_id or 0, FLOOD_LINE_KIND, first.reporter, first.section.key, bot_rev,
                     first.section.body)
    for item in flood[1:]:
        run.budget.collapsed(item.rev_id or 0, item.reporter, item.section.key, first.section.key, item.section.body)
    log.info("%s: answered %d flood reports together under %r on %s", run.wiki, len(flood), first.section.key,
             run.page)
    return 1


def _apply_statuses(run: _Pass, text: str, sections: list[PageSection]) -> Generator[None, None, int]:
    """Apply a status change made by a trusted reviewer; answer an untrusted one once (a step each)."""
    added = 0
    counts = status_counts(text)  # the page read once, whatever the number of open reports
    for row in run.store.reviewable_reports(run.page, run.wiki):
        rev_id, stored = row.rev_id, row.status
        for status in ("confirmed", "declined"):
            if status == stored or not counts[(rev_id, status)]:
                continue
            count = status_count(rev_id, status)
            try:
                added += _status_change(run, rev_id, status, count, sections)
            except WikiError as exc:
                log.error("%s: cannot apply the status of the report on r%d: %s", run.wiki, rev_id, exc)
            yield
            break
    return added


def _status_change(run: _Pass, rev_id: int, status: str, count: Callable[[str], int],
                   sections: list[PageSection]) -> int:
    changed, trusted = status_author(run.history, count, run.gateway, run.config)
    where = next((s for s in sections if count(s.body)), None)
    if changed is not None and trusted:
        _sync_status(run.store, run.wiki, rev_id, status, run.on_label)
        log.info("%s: %s set the report on r%d to %s (r%d)", run.wiki, changed.user, rev_id, status, changed.rev_id)
        if status == "confirmed" and where is not None:
            return reinstate(run.gateway, run.store, run.wiki, run.page, where.key, rev_id,
                             config=run.config, reviewer=changed.user)
        return 0
    changer = changed.user if changed else "?"
    marker = f"r{changed.rev_id}" if changed else "unknown"
    if where is None or _ignored_before(run, rev_id, marker):
        return 0
    log.warning("%s: ignored %s's change of the report on r%d to %s (not a reviewer)",
                run.wiki, changer, rev_id, status)
    if run.budget.refusal(changer, "report-status-ignored"):
        run.budget.drop(rev_id, changer, f"ignored:{marker}", "limit")
        return 0
    messages = messages_for(run.gateway)
    rights = ", ".join(sorted(run.config.report_reviewer_rights))
    line = f": {messages.format('automod-report-status-ignored', rev_id, plain(changer), rights)} ~~~~"
    bot_rev = append_to_section(run.gateway, run.page, where.key, line)
    run.budget.spend(rev_id, "report-status-ignored", changer, f"ignored:{marker}", bot_rev)
    return 1


def _ignored_before(run: _Pass, rev_id: int, marker: str) -> bool:
    """Whether this very change (the revision that made it) was answered or dropped already."""
    return run.store.has_action_naming(run.wiki, f"ignored:{marker}", rev_id=rev_id)


def _answered_before(store: Store, wiki: str, section: PageSection) -> bool:
    """A section answered by an earlier release (its report row names the heading itself)."""
    return store.heading_logged(wiki, section.heading)


def _sync_status(store: Store, wiki: str, rev_id: int, status: str, on_label: LabelHook | None) -> None:
    """Store a trusted reviewer's status (every report on that revision) and label it."""
    for report in store.reports_on(wiki, rev_id):
        if report.status != status and report.status != ReportStatus.REINSTATED:
            store.set_report(wiki, rev_id, report.kind, status=status)
            if on_label is not None:
                on_label(store, wiki, rev_id, status)


def reinstate_refusal(gateway: WikiGateway, config: CommunityConfig, reviewer: str, user: str,
                      top_rev: int | None, revert: int) -> str | None:
    """Why the bot must not restore the edit itself (a reason code), or None: reinstating is
    an edit in the bot's name, so it is held to what reverting is held to."""
    if not config.enabled:
        return "wiki-disabled"
    if not may_review(gateway, reviewer, config):
        return "reviewer-not-trusted"
    if top_rev != revert:
        return "page-changed"
    if gateway.is_blocked(user):
        return "editor-blocked"
    return None


def local_reinstate_summary(messages: Messages, rev_id: int, page: str, heading: str) -> str:
    """The restoring edit's summary, linking the report's section: the heading anyone typed
    passes through :func:`~automod.onwiki.wikitext.summary_fragment` (MediaWiki's comment
    formatter, not its parser, reads a summary)."""
    return messages.format("automod-reinstate-summary", rev_id, link(page), summary_fragment(heading))


def reinstate(gateway: WikiGateway, store: Store, wiki: str, page: str, section_key: str, rev_id: int, *,
              config: CommunityConfig, reviewer: str) -> int:
    """Give a confirmed false positive its edit back, if it is still safe to; at most once."""
    if store.has_action(wiki, rev_id, "reinstate"):
        return 0  # never twice
    decision, revert = store.decision(wiki, rev_id), store.rollback_of(wiki, rev_id)
    if decision is None or revert is None:
        return 0
    title = decision.title
    messages = messages_for(gateway)
    top = gateway.query(titles=title, prop="revisions", rvprop="ids", rvlimit=1)["query"]["pages"][0]
    top_rev = int(top["revisions"][0]["revid"]) if top.get("revisions") else None
    why = reinstate_refusal(gateway, config, reviewer, decision.user, top_rev, revert)
    if why is None:
        new_rev = gateway.edit(title, undo=revert, summary=local_reinstate_summary(
            messages, rev_id, page, section_key.rsplit("#", 1)[0]))
        store.record_action(wiki, rev_id, "reinstate", "done", new_rev, f"confirmed by {reviewer}")
        for report in store.reports_on(wiki, rev_id):
            store.set_report(wiki, rev_id, report.kind, status=ReportStatus.REINSTATED)
        line = f": {messages.format('automod-report-reinstated', rev_id, new_rev)} ~~~~"
    else:
        store.record_action(wiki, rev_id, "reinstate", why, None, f"top r{top_rev}; confirmed by {reviewer}")
        line = (f": {messages.format('automod-report-page-changed', rev_id)} ~~~~" if why == "page-changed" else
                f": {messages.format('automod-reinstate-refused', rev_id, why)} ~~~~")
    append_to_section(gateway, page, section_key, line)
    log.info("%s: confirmed report on r%d: %s", wiki, rev_id, why or "reinstated")
    return 1


def log_implicit_report(gateway: WikiGateway, store: Store, wiki: str, page: str, *, reverted_rev: int,
                        revert_rev: int, restorer: str, title: str) -> bool:
    """Log "a human undid my revert" as a probable false positive; False if already logged."""
    decision = store.decision(wiki, reverted_rev)
    if not store.upsert_report(wiki=wiki, rev_id=reverted_rev, kind="implicit", page=page, status="open",
                               revert_rev_id=revert_rev, reporter=restorer):
        return False
    messages = messages_for(gateway)
    line = report_line(reverted_rev, revert_rev_id=revert_rev,
                       probability=decision.probability if decision else None,
                       model=decision.model if decision else None,
                       version=decision.model_version if decision else None,
                       threshold=decision.threshold if decision else None,
                       config_rev=decision.config_rev if decision else None, status="open",
                       messages=messages)
    # The restorer's name and the page's title are quoted: anyone may pick them (wikitext.py).
    explanation = messages.format("automod-implicit-report", link(restorer), revert_rev, reverted_rev, link(title))
    body = f"<!-- automod-report rev={reverted_rev} -->\n{explanation}\n{line}"
    heading = messages.format("automod-implicit-report-heading", plain(title), reverted_rev)
    bot_rev = gateway.edit(page, section="new", sectiontitle=heading, text=body,
                           summary=messages.format("automod-implicit-report-summary", link(title)))
    store.set_report(wiki, reverted_rev, "implicit", logged=True)
    found = current_text(gateway, page)
    ordinal = heading_count(heading)(found[1]) if found else 1
    LineBudget(store, wiki, page, CommunityConfig()).spend(reverted_rev, "report-implicit", restorer,
                                                           f"{heading}#{ordinal}", bot_rev)
    return True
