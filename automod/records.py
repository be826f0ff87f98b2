"""The records passed between the steps of the bot, defined once, at the bottom of the layers.

A change comes from the stream (:class:`RecentChange`), the wiki adds what it knows about
the edit (:class:`RevisionContext`), a scorer answers (:class:`Score`), and the moderator
turns that into one :class:`Verdict` (an :class:`Outcome` with its reason, model and
threshold) that the store records and the CLI prints. Everything here is a frozen
dataclass or an enum: a misspelt field is an error at once, not a silent ``None``.
Nothing here imports the rest of automod.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "ACTIONABLE_OUTCOMES",
    "CANARY_DOMAIN",
    "BlockInfo",
    "EventMeta",
    "HandleResult",
    "Outcome",
    "RecentChange",
    "RevertMethod",
    "RevisionContext",
    "RollbackStatus",
    "Score",
    "SkipReason",
    "Verdict",
    "WikiProblem",
]

#: Wikimedia sends a canary event every minute with this ``meta.domain``; it is a
#: liveness signal, never a real change.
CANARY_DOMAIN = "canary"


@dataclass(frozen=True, slots=True)
class EventMeta:
    """The EventBus envelope: where and when the event was produced."""

    id: str
    dt: str
    domain: str
    stream: str
    uri: str | None = None
    request_id: str | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class RecentChange:
    """One row of Special:RecentChanges as the stream delivers it (``automod.stream.events``
    builds it; MediaWiki's ``revision.new``/``revision.old`` are ``rev_id``/``parent_id``)."""

    meta: EventMeta
    wiki: str
    server_name: str
    type: str
    namespace: int
    title: str
    user: str
    bot: bool
    timestamp: int
    comment: str
    minor: bool
    rc_id: int | None
    rev_id: int | None
    parent_id: int | None
    length_old: int | None
    length_new: int | None
    #: Log events only: the log's type and action (``move``, ``move_redir``…) and, for a
    #: move, the title the page went to (``log_params.target``).
    log_type: str | None = None
    log_action: str | None = None
    move_target: str | None = None

    @property
    def is_move(self) -> bool:
        """A page move (``title`` → ``move_target``), from the move log."""
        return self.type == "log" and self.log_type == "move" and self.move_target is not None

    @property
    def is_canary(self) -> bool:
        return self.meta.domain == CANARY_DOMAIN


@dataclass(frozen=True)
class BlockInfo:
    """A block on the bot account: sitewide, or partial (some pages / namespaces)."""

    sitewide: bool
    page_ids: frozenset[int] = frozenset()
    namespaces: frozenset[int] = frozenset()

    def applies_to(self, page_id: int, namespace: int) -> bool:
        return self.sitewide or page_id in self.page_ids or namespace in self.namespaces


@dataclass(frozen=True)
class RevisionContext:
    """What the wiki says about an edit, its page, its editor and the bot, right now."""

    rev_id: int
    page_id: int
    title: str
    namespace: int
    user: str
    tags: frozenset[str]
    parent_id: int | None
    parent_user: str | None
    editor_rights: frozenset[str]
    fully_protected: bool
    top_rev_id: int
    top_user: str
    bot_blocks: tuple[BlockInfo, ...] = ()
    #: Someone other than ``user`` edited the page after this revision (a rollback of ``user``
    #: would not undo it); read in the same round trip when the revision is not the top one.
    edited_since_by_others: bool = False
    #: The parent revision's wikitext and this revision's, when the caller asked for them
    #: (the {{bots}}/{{nobots}} check reads them; None: not asked, or hidden).
    parent_text: str | None = None
    text: str | None = None
    #: Which of the templates the caller asked about the page's current revision uses, as
    #: the links table says (title without namespace; through transclusion too).
    templates_used: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Score:
    """A revert probability in [0, 1] with the model and version that produced it."""

    probability: float
    model: str
    version: str | None

    def __post_init__(self) -> None:
        p = self.probability
        if isinstance(p, bool) or not isinstance(p, (int, float)) or math.isnan(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"probability must be a number in [0, 1], not {p!r}")


class Outcome(str, Enum):
    """How the bot's handling of one edit ended: the ``outcome`` column and JSON field."""

    SKIP = "skip"                        # a skip rule matched (reason: its name)
    DISABLED = "disabled"                # the wiki's config is off, missing or invalid
    ERROR = "error"                      # the wiki or the scorer failed
    UNSCORABLE = "unscorable"            # the model cannot score this edit (400/422)
    BELOW_THRESHOLD = "below-threshold"
    WOULD_REVERT = "would-revert"        # above threshold, but log-only, dry run or breaker
    REVERT = "revert"                    # decided; not yet acted on
    REVERTING = "reverting"              # intent committed, rollback sent
    REVERTED = "reverted"
    BEATEN = "beaten"                    # someone acted first
    ROLLBACK_PENDING = "rollback-pending"
    ROLLBACK_FAILED = "rollback-failed"
    ROLLBACK_ABANDONED = "rollback-abandoned"
    ROLLBACK_EXPIRED = "rollback-expired"  # waited (rate limit, passing faults) until the edit was too old
    INTERRUPTED = "interrupted"          # the bot stopped between intent and rollback
    TARGET_MISMATCH = "target-mismatch"  # the event's page/user do not own the revision: not rolled back
    REVERTED_WITH = "reverted-with"      # left alone, then taken by the rollback of the editor's later edit

    def __str__(self) -> str:
        return self.value


class HandleResult(str, Enum):
    """What handling one candidate came to, for the worker: whether it is settled."""

    DUPLICATE = "duplicate"              # already decided (a re-delivered event): nothing done
    DEFERRED = "deferred"                # a passing fault: nothing recorded, decide again later
    DECIDED = "decided"                  # a decision was recorded and printed

    def __str__(self) -> str:
        return self.value


class RollbackStatus(str, Enum):
    """How the wiki answered a rollback: the ``status`` recorded in the ``actions`` table."""

    DONE = "done"
    BEATEN = "beaten"                    # someone else already dealt with it: never retried
    RETRY_LATER = "retry-later"          # a passing refusal (rate limit, read-only, lag, network)
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


class RevertMethod(str, Enum):
    """How the bot reverts (the community config's ``revert_method``): MediaWiki's rollback takes
    the editor's whole run of consecutive top edits; an undo (``action=edit`` with ``undo`` and
    ``undoafter``) takes only the scored revision."""

    ROLLBACK = "rollback"
    UNDO = "undo"

    def __str__(self) -> str:
        return self.value


class WikiProblem(str, Enum):
    """Why a rollback was not sent: the kind that prefixes the recorded reason (``kind: detail``)."""

    TARGET_MISMATCH = "target-mismatch"  # the event's page/user do not own the revision
    NOT_TOP_REVISION = "not-top-revision"  # someone else edited the page since
    WIKI_ERROR = "wiki-error"            # the wiki could not say (a fault, perhaps passing)

    def __str__(self) -> str:
        return self.value


class SkipReason(str, Enum):
    """The named skip rules' recorded reasons (the ``reason`` of an ``Outcome.SKIP``)."""

    BOT_BLOCKED = "bot-blocked"
    OWN_EDIT = "own-edit"
    PAGE_CREATION = "page-creation"
    ALREADY_REVERTED = "already-reverted"
    REVERT_OF_UNKNOWN_PARENT = "revert-of-unknown-parent"
    REVERT_OF_BOT = "revert-of-bot"
    SELF_REVERT = "self-revert"
    REDIRECT_CHANGE = "redirect-change"  # no longer produced: redirect changes are scored (issue 26)
    EDITOR_HAS_RIGHT = "editor-has-right"  # recorded with the right: ``editor-has-right:<right>``
    EXPERIENCED_EDITOR = "experienced-editor"
    NOT_NAMESPACE_0 = "not-namespace-0"
    FULLY_PROTECTED = "fully-protected"
    TOO_OLD = "too-old"
    NOT_TOP_EDITOR = "not-top-editor"
    EXCLUDED_BY_PAGE = "excluded-by-page"
    CAP_REACHED = "cap-reached"

    def __str__(self) -> str:
        return self.value


#: Outcomes that say the edit was (or would be) acted on; the rest are only information.
ACTIONABLE_OUTCOMES = frozenset({Outcome.REVERT, Outcome.REVERTING, Outcome.REVERTED, Outcome.WOULD_REVERT,
                                 Outcome.ROLLBACK_PENDING})


@dataclass(frozen=True)
class Verdict:
    """What the bot concluded about one edit, and what came of acting on it.

    Built by the moderator step by step (``with_(…)`` returns an updated copy), recorded by
    the store (``decisions`` table) and printed as one JSON line (:meth:`to_json`).
    """

    outcome: Outcome
    reason: str | None = None
    config_rev: int | None = None
    model: str | None = None
    model_version: str | None = None
    probability: float | None = None
    threshold: float | None = None
    revert_rev_id: int | None = None
    latency_ms: float | None = None
    #: The page whose revision ``config_rev`` is (``<wiki>:<title>`` for a central page).
    config_page: str | None = None
    #: Every revision the revert took, oldest first: the scored one, and the same editor's
    #: earlier consecutive edits a rollback took with it. Empty when nothing was reverted.
    reverted_rev_ids: tuple[int, ...] = ()
    #: For ``reverted-with``: the scored revision whose rollback took this one.
    reverted_with: int | None = None

    def with_(self, **changes: Any) -> Verdict:
        """A copy with ``changes`` applied (field names are checked)."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The decision fields of a JSON output line (extras only when set)."""
        out: dict[str, Any] = {"decision": self.outcome.value, "reason": self.reason, "model": self.model,
                               "probability": self.probability, "threshold": self.threshold,
                               "config_rev": self.config_rev}
        if self.config_page:
            out["config_page"] = self.config_page
        if self.revert_rev_id:
            out["revert_rev_id"] = self.revert_rev_id
        if self.reverted_rev_ids:
            out["reverted_rev_ids"] = list(self.reverted_rev_ids)
        if self.reverted_with:
            out["reverted_with"] = self.reverted_with
        if self.latency_ms:
            out["latency_ms"] = self.latency_ms
        return out


class ReportStatus(str, Enum):
    """The status of a false-positive report (the ``reports.status`` column): reviewers set open,
    confirmed or declined; the bot adds no-match when it finds no revert of its own, and
    reinstated once it restored the edit (a reinstated report was confirmed first)."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    REINSTATED = "reinstated"
    DECLINED = "declined"
    NO_MATCH = "no-match"

    def __str__(self) -> str:
        return self.value
