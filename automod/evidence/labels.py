"""Outcome labels: what became of each scored revision, learnt later from the wiki.

A threshold can only be chosen from evidence if we know, for the edits we scored, which ones
people judged bad. Facts are kept per revision, each with its source and time:

* ``human-reverted`` — someone other than the bot reverted it within 48 h;
* ``bot-reverted`` — the bot's rollback undid it;
* ``bot-revert-undone`` — a human undid that rollback within 48 h (a false positive);
* ``kept`` — 48 h passed and nobody reverted it;
* ``fp-confirmed`` / ``fp-declined`` — a false-positive report about the bot's revert was
  accepted / rejected (:func:`record_report_label`, called by the report handling);
* ``unavailable`` — the revision is gone (deleted, suppressed): no evidence either way.

How a revert is recognised (MediaWiki semantics): an *identity revert* is a later revision
whose sha1 equals that of a revision before the edit, within 15 revisions (the radius
``mwreverts`` and MediaWiki's ``$wgRevertedTagMaxDepth`` use); every revision in between is
reverted by it. MediaWiki also tags reverted edits ``mw-reverted`` once its job queue runs,
which catches undos that restore no earlier text; the reverter is then the first later
revision tagged ``mw-rollback``, ``mw-undo`` or ``mw-manual-revert``.

:class:`Labeller` does this in small batches from the running bot, within a time budget, so
the stream is never stalled; progress is kept in ``label_progress`` so a revision is only
re-read until its 48 h window is over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automod.errors import WikiError, WikiUnavailable
from automod.store import LABELS_MIGRATION, Label, LabelCandidate, Migration, Store

__all__ = [
    "LABELS", "LABELS_MIGRATION", "Label", "LabelRun", "Labeller", "Revision", "classify",
    "identity_reverts", "label_counts", "labels_for", "record_label",
    "record_report_label", "truth", "with_labels",
]

log = logging.getLogger("automod.evidence.labels")

Query = Callable[..., dict[str, Any]]

HUMAN_REVERTED, BOT_REVERTED, BOT_REVERT_UNDONE = "human-reverted", "bot-reverted", "bot-revert-undone"
KEPT, FP_CONFIRMED, FP_DECLINED, UNAVAILABLE = "kept", "fp-confirmed", "fp-declined", "unavailable"
LABELS = (HUMAN_REVERTED, BOT_REVERTED, BOT_REVERT_UNDONE, KEPT, FP_CONFIRMED, FP_DECLINED, UNAVAILABLE)

WINDOW = 48 * 3600.0
REVERT_RADIUS = 15
REVERT_TAGS = frozenset({"mw-rollback", "mw-undo", "mw-manual-revert"})
REPORT_STATUSES = {"confirmed": FP_CONFIRMED, "declined": FP_DECLINED}
HISTORY_AFTER = 50  # revisions read after the edit; a page busier than that in 48 h is rare
REVPROPS = "ids|timestamp|user|sha1|tags"


def with_labels(migrations: tuple[Migration, ...]) -> tuple[Migration, ...]:
    """``migrations`` plus :data:`LABELS_MIGRATION` unless it is already registered."""
    if any(number == LABELS_MIGRATION[0] for number, _, _ in migrations):
        return migrations
    return migrations + (LABELS_MIGRATION,)


# -- the facts -------------------------------------------------------------------------------


def record_label(store: Store, wiki: str, rev_id: int, label: str, source: str, *, by_rev_id: int | None = None,
                 by_user: str | None = None, detail: str | None = None, observed_at: float | None = None) -> None:
    """Store one fact (replacing the same label for the same revision)."""
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}")
    store.record_label(wiki, rev_id, label, source, by_rev_id=by_rev_id, by_user=by_user, detail=detail,
                       observed_at=observed_at)


def record_report_label(store: Store, wiki: str, rev_id: int, status: str) -> None:
    """Record the verdict on a false-positive report about the bot's revert of ``rev_id``.

    ``status`` is ``"confirmed"`` (the edit was fine: a false positive) or ``"declined"``
    (the revert was right). A later verdict replaces an earlier one. ValueError otherwise.
    """
    label = REPORT_STATUSES.get(status)
    if label is None:
        raise ValueError(f"report status must be one of {sorted(REPORT_STATUSES)}, not {status!r}")
    with store.atomic():
        store.delete_labels(wiki, rev_id, (FP_CONFIRMED, FP_DECLINED))
        record_label(store, wiki, rev_id, label, "report", detail=f"false-positive report {status}")
    log.info("%s r%d: false-positive report %s", wiki, rev_id, status)


def labels_for(store: Store, wiki: str, rev_id: int | None = None) -> list[Label]:
    """Stored facts for one revision, or for every revision of ``wiki``, by revision."""
    return store.labels_for(wiki, rev_id)


def label_counts(store: Store, wiki: str) -> dict[str, int]:
    """How many revisions carry each label."""
    return store.label_counts(wiki)


def truth(labels: Iterable[str]) -> bool | None:
    """Was the edit bad? The strongest evidence wins; None when nothing is known yet.

    A verdict on a report beats everything; a human undoing the bot's revert means the edit
    was fine; a revert by a human — or by the bot, not undone — means it was bad; an edit
    nobody reverted within 48 h was fine.
    """
    found = set(labels)
    if FP_CONFIRMED in found:
        return False
    if FP_DECLINED in found:
        return True
    if BOT_REVERT_UNDONE in found:
        return False
    if HUMAN_REVERTED in found or BOT_REVERTED in found:
        return True
    if KEPT in found:
        return False
    return None


# -- reading the history -------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    rev_id: int
    user: str
    sha1: str | None  # None when hidden
    timestamp: float
    tags: frozenset[str] = frozenset()

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Revision:
        stamp = datetime.fromisoformat(str(raw["timestamp"]).replace("Z", "+00:00")).timestamp()
        sha1 = None if raw.get("sha1hidden") else raw.get("sha1")
        return cls(int(raw["revid"]), str(raw.get("user", "")), sha1, stamp, frozenset(raw.get("tags", [])))


def identity_reverts(history: Sequence[Revision], radius: int = REVERT_RADIUS) -> dict[int, Revision]:
    """Revision id → the revision that reverted it (the first one), from sha1s alone.

    ``history`` is in page order. A revision whose sha1 equals one up to ``radius`` revisions
    earlier (not its own parent: that is a null edit) reverts every revision in between.
    """
    reverted_by: dict[int, Revision] = {}
    for i, rev in enumerate(history):
        if rev.sha1 is None:
            continue
        for j in range(i - 2, max(-1, i - 2 - radius), -1):
            if history[j].sha1 == rev.sha1:
                for between in history[j + 1:i]:
                    reverted_by.setdefault(between.rev_id, rev)
                break
    return reverted_by


@dataclass(frozen=True)
class Fact:
    label: str
    source: str
    by: Revision | None = None


def _reverter(edit: Revision, history: Sequence[Revision], reverted_by: dict[int, Revision],
              window: float) -> tuple[Revision, str] | None:
    by = reverted_by.get(edit.rev_id)
    if by is not None and by.timestamp - edit.timestamp <= window:
        return by, "identity-revert"
    if "mw-reverted" in edit.tags:
        for rev in history:
            if rev.rev_id > edit.rev_id and rev.tags & REVERT_TAGS and rev.timestamp - edit.timestamp <= window:
                return rev, "mw-reverted-tag"
    return None


def classify(edit_id: int, history: Sequence[Revision], *, is_bot: Callable[[Revision], bool], now: float,
             window: float = WINDOW) -> tuple[list[Fact], bool]:
    """The facts the page history shows about ``edit_id``, and whether they are final.

    Final means no later edit can change them: a human revert, or the end of the 48 h window
    (for a bot revert, 48 h after the revert, the time a human has to undo it).
    """
    revs = sorted(history, key=lambda r: r.rev_id)
    edit = next(r for r in revs if r.rev_id == edit_id)
    reverted_by = identity_reverts(revs)
    found = _reverter(edit, revs, reverted_by, window)
    if found is None:
        if now >= edit.timestamp + window:
            return [Fact(KEPT, "history")], True
        return [], False
    by, source = found
    if not is_bot(by):
        return [Fact(HUMAN_REVERTED, source, by)], True
    facts = [Fact(BOT_REVERTED, source, by)]
    undone = _reverter(by, revs, reverted_by, window)
    if undone is not None and not is_bot(undone[0]):
        facts.append(Fact(BOT_REVERT_UNDONE, undone[1], undone[0]))
        return facts, True
    return facts, now >= by.timestamp + window


# -- the periodic job ----------------------------------------------------------------------------------


@dataclass
class LabelRun:
    checked: int = 0
    labelled: int = 0
    settled: int = 0
    error: str | None = None


class Labeller:
    """Labels scored revisions a few at a time; call :meth:`due` often, :meth:`run_once` when due.

    A revision is read once it is ``min_age`` old, then every ``recheck`` seconds until its
    window closes or a human revert settles it. Wiki errors end a run quietly (logged).

    Cost: one API request per batch (tags and sha1 of up to 50 revisions), plus two for the
    page history of each edit that MediaWiki tagged ``mw-reverted`` or the bot rolled back.
    Most edits are never reverted and cost nothing more. ``history_always`` reads every
    edit's history instead (for a wiki whose revert tagging cannot be trusted).
    """

    def __init__(self, *, interval: float = 60.0, batch: int = 50, window: float = WINDOW,
                 min_age: float = 3600.0, recheck: float = 6 * 3600.0, history_always: bool = False):
        self.interval, self.batch, self.window = interval, batch, window
        self.min_age, self.recheck, self.history_always = min_age, recheck, history_always
        self.last_run: float | None = None

    def due(self, now: float) -> bool:
        return self.last_run is None or now - self.last_run >= self.interval

    def pending(self, store: Store, wiki: str, now: float, limit: int) -> list[LabelCandidate]:
        """Scored revisions with something left to learn, oldest first."""
        return store.label_candidates(wiki, now=now, min_age=self.min_age, recheck=self.recheck,
                                      window=self.window, limit=limit)

    def run_once(self, query: Query, store: Store, wiki: str, *, bot_user: str, now: float | None = None,
                 budget_seconds: float = 2.0) -> LabelRun:
        """Label one bounded batch within ``budget_seconds``; never raises WikiError."""
        now = time.time() if now is None else now
        self.last_run = now
        started = time.monotonic()
        run = LabelRun()
        rows = self.pending(store, wiki, now, self.batch)
        if not rows:
            return run
        try:
            edits, page_of = _fetch_revisions(query, [r.rev_id for r in rows])
        except WikiError as exc:
            run.error = str(exc)
            log.warning("%s: labelling skipped: %s", wiki, exc)
            return run
        for row in rows:
            if time.monotonic() - started > budget_seconds:
                break
            rev_id = row.rev_id
            run.checked += 1
            try:
                facts, settled = self._label(query, store, wiki, rev_id, edits, page_of, bot_user, now)
            except WikiUnavailable as exc:
                run.error = str(exc)
                log.warning("%s: labelling stopped after %d revisions: %s", wiki, run.checked, exc)
                break
            except WikiError as exc:  # this revision only: try it again later, go on with the rest
                log.warning("%s: cannot label r%d now: %s", wiki, rev_id, exc)
                facts, settled = [], False
            self._save(store, wiki, rev_id, facts, settled, now)
            run.labelled += bool(facts)
            run.settled += settled
        log.info("%s: labelled %d of %d revisions checked (%d settled) in %.1f s", wiki, run.labelled,
                 run.checked, run.settled, time.monotonic() - started)
        return run

    def _label(self, query: Query, store: Store, wiki: str, rev_id: int, edits: dict[int, Revision],
               page_of: dict[int, int], bot_user: str, now: float) -> tuple[list[Fact], bool]:
        if rev_id not in edits:
            return [Fact(UNAVAILABLE, "history")], True
        bot_reverts = {int(a.result_rev_id) for a in store.actions_for(wiki, rev_id)
                       if a.kind == "rollback" and a.result == "done" and a.result_rev_id}

        def is_bot(rev: Revision) -> bool:
            return (bool(bot_user) and rev.user == bot_user) or rev.rev_id in bot_reverts

        edit = edits[rev_id]
        if not self.history_always and "mw-reverted" not in edit.tags and not bot_reverts:
            return classify(rev_id, [edit], is_bot=is_bot, now=now, window=self.window)  # not reverted
        history = _history(query, page_of[rev_id], rev_id)
        return classify(rev_id, history, is_bot=is_bot, now=now, window=self.window)

    def _save(self, store: Store, wiki: str, rev_id: int, facts: list[Fact], settled: bool, now: float) -> None:
        with store.atomic():
            for fact in facts:
                record_label(store, wiki, rev_id, fact.label, fact.source,
                             by_rev_id=fact.by.rev_id if fact.by else None,
                             by_user=fact.by.user if fact.by else None,
                             observed_at=fact.by.timestamp if fact.by else now)
            store.record_label_progress(wiki, rev_id, settled, now)


def _fetch_revisions(query: Query, rev_ids: list[int]) -> tuple[dict[int, Revision], dict[int, int]]:
    """The edits themselves (up to 50 per request) and the page each is on."""
    edits: dict[int, Revision] = {}
    page_of: dict[int, int] = {}
    for start in range(0, len(rev_ids), 50):
        chunk = rev_ids[start:start + 50]
        data = query(revids="|".join(map(str, chunk)), prop="revisions", rvprop=REVPROPS)
        for page in data.get("query", {}).get("pages", []):
            for raw in page.get("revisions", []):
                rev = Revision.from_api(raw)
                edits[rev.rev_id] = rev
                page_of[rev.rev_id] = int(page["pageid"])
    return edits, page_of


def _history(query: Query, page_id: int, rev_id: int) -> list[Revision]:
    """Up to ``REVERT_RADIUS`` revisions before ``rev_id``, it, and up to 50 after it."""
    seen: dict[int, Revision] = {}
    for direction, limit in (("older", REVERT_RADIUS + 1), ("newer", HISTORY_AFTER)):
        data = query(pageids=page_id, prop="revisions", rvprop=REVPROPS, rvstartid=rev_id,
                     rvdir=direction, rvlimit=limit)
        for page in data.get("query", {}).get("pages", []):
            for raw in page.get("revisions", []):
                seen[int(raw["revid"])] = Revision.from_api(raw)
    if rev_id not in seen:
        raise WikiError(f"revision {rev_id} vanished from page {page_id} while labelling")
    return sorted(seen.values(), key=lambda r: r.rev_id)
