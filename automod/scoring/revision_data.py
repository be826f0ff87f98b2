"""Fetch what a local model needs about one revision, in two API round trips.

The Action API cannot ask for a revision and its parent before it knows the parent's id, so:

1. ``revids=R``: the revision with content, size, comment, user, tags, its page (and, the
   first time only, ``meta=siteinfo`` for the namespace names: no extra round trip);
2. ``revids=P``: the parent with content, plus ``list=users`` (edit count, registration,
   groups) and ``list=logevents`` (the page's creation entry, for ``page_age``).

A third request reads the editor signals (:meth:`RevisionFetcher.editor_signals`): the
editor's talk page (vandalism warnings) and their contributions of the last 7 days (edits
tagged ``mw-reverted``, edits in the last 10 minutes). Only when the creation log does not
name this page (imported or moved pages) does a fourth request read the page's first revision.
Everything goes through a ``query(**params) -> dict`` callable answering in formatversion 2:
``WikiGateway.query`` in production (the only pywikibot gateway), a plain HTTP function in tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from automod.errors import ScoringError
from automod.scoring.base import Unscorable
from automod.scoring.features import EditData, NamespaceNames, RevisionInfo, UserInfo

__all__ = ["DEFAULT_WARNING_PATTERN", "RECENT_EDITS_WINDOW", "RECENT_REVERTS_WINDOW", "WARNING_PHRASES", "Query",
           "RevisionFetcher", "parse_timestamp", "warning_pattern"]

log = logging.getLogger("automod.scoring.revision_data")

Query = Callable[..., dict[str, Any]]
REVISION_PROPS = "ids|timestamp|size|comment|user|userid|content|tags|flags"
#: A vandalism warning on a talk page: the ``uw-`` user-warning templates of the English
#: Wikipedia (substituted, they leave ``<!-- Template:uw-… -->``), also imported by many other
#: wikis. Other languages add their own (:func:`warning_pattern`).
DEFAULT_WARNING_PATTERN = r"<!--\s*Template:uw-|\{\{\s*(?:subst:\s*)?uw-"
#: What else marks a vandalism warning on the talk pages of a wiki in that content language,
#: added to the ``uw-`` default (the bot's own notices carry ``<!-- Template:uw-vandalismN -->``,
#: or the wiki's own name: ``automod-warning-template`` in the message files). Plain phrases, as
#: substituted templates and bots leave them in the wikitext; a language not listed (English
#: included) counts the ``uw-`` templates only.
WARNING_PHRASES: dict[str, tuple[str, ...]] = {
    # French Wikipedia: Salebot's revert notice, and the level warnings patrollers leave
    # (both on the real talk pages of tests/data/fixtures/talk/).
    "fr": ("Salebot a annulé votre modification", "Votre modification a été annulée"),
    # Portuguese Wikipedia: the bot's own level marker for {{Aviso-vandalismo|N}} (docs/warning-templates.md).
    "pt": ("Template:Aviso-vandalismo|",),
}

RECENT_REVERTS_WINDOW = timedelta(days=7)
RECENT_EDITS_WINDOW = timedelta(minutes=10)
#: MediaWiki (1.36+) tags every edit undone by a revert with this.
REVERTED_TAG = "mw-reverted"


def warning_pattern(lang: str | None) -> str:
    """The warning pattern for a wiki whose content language is ``lang`` (``pt-br`` falls
    back to ``pt``): :data:`DEFAULT_WARNING_PATTERN` plus the language's :data:`WARNING_PHRASES`."""
    code = (lang or "en").lower()
    phrases = WARNING_PHRASES.get(code) or WARNING_PHRASES.get(code.split("-")[0], ())
    return "|".join([DEFAULT_WARNING_PATTERN, *(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)])


def parse_timestamp(value: str) -> datetime:
    """MediaWiki's ISO 8601 timestamps (``2024-01-31T12:00:00Z``) as aware datetimes."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _revision(raw: dict[str, Any]) -> RevisionInfo:
    main = (raw.get("slots") or {}).get("main") or {}
    return RevisionInfo(rev_id=int(raw["revid"]), timestamp=parse_timestamp(raw["timestamp"]),
                        bytes=int(raw.get("size", 0)), text=str(main.get("content", raw.get("content", ""))),
                        comment=str(raw.get("comment") or ""), tags=frozenset(str(t) for t in raw.get("tags", [])))


def _one_revision(data: dict[str, Any], rev_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    query = data.get("query") or {}
    if str(rev_id) in (query.get("badrevids") or {}):
        raise Unscorable(f"revision {rev_id} does not exist", code="revision_missing")
    for page in query.get("pages", []):
        for rev in page.get("revisions", []):
            if int(rev.get("revid", 0)) == rev_id:
                return page, rev
    raise Unscorable(f"revision {rev_id} not found", code="revision_missing")


def _check_visible(rev: dict[str, Any]) -> None:
    hidden = [k for k in ("texthidden", "userhidden", "commenthidden") if rev.get(k)]
    main = (rev.get("slots") or {}).get("main") or {}
    if hidden or main.get("texthidden") or "content" not in main:
        raise Unscorable(f"revision {rev.get('revid')} is partly hidden ({', '.join(hidden) or 'text'})",
                         code="revision_info_deleted")


class RevisionFetcher:
    """Turns a revision id into :class:`EditData`; caches the wiki's namespace names."""

    def __init__(self, query: Query, names: NamespaceNames | None = None, *, lang: str | None = None,
                 warning_pattern: str | None = None, editor_signals: bool = True) -> None:
        """``warning_pattern``: what counts as a vandalism warning on the editor's talk page;
        by default :func:`warning_pattern` of the wiki's content language (``lang``, else
        siteinfo's, read with the first revision)."""
        self.query = query
        self.names = names
        self.lang = lang
        self._warning_pattern = warning_pattern
        self._warnings: tuple[str | None, re.Pattern[str]] | None = None  # (for lang, pattern)
        self.with_signals = editor_signals
        self.round_trips = 0

    @property
    def warnings(self) -> re.Pattern[str]:
        """The compiled warning pattern (the language's once it is known)."""
        if self._warnings is None or self._warnings[0] != self.lang:
            self._warnings = (self.lang, re.compile(self._warning_pattern or warning_pattern(self.lang),
                                                    re.IGNORECASE))
        return self._warnings[1]

    def _ask(self, **params: Any) -> dict[str, Any]:
        self.round_trips += 1
        return self.query(**params)

    def fetch(self, rev_id: int) -> EditData:
        """Return the edit data of ``rev_id``.

        Raises :class:`~automod.scoring.base.Unscorable` for page creations
        (``parent_revision_missing``), hidden revisions (``revision_info_deleted``) and
        unknown ids; wiki errors (:class:`~automod.errors.WikiError`) pass through.
        """
        params: dict[str, Any] = {"revids": rev_id, "prop": "revisions|info", "rvprop": REVISION_PROPS,
                                  "rvslots": "main"}
        if self.names is None or self.lang is None:
            params.update(meta="siteinfo", siprop="general|namespaces|namespacealiases")
        first = self._ask(**params)
        if self.names is None:
            self.names = NamespaceNames.from_siteinfo(first.get("query", {}))
        if self.lang is None:
            self.lang = str((first.get("query", {}).get("general") or {}).get("lang") or "en")
        page, rev = _one_revision(first, rev_id)
        _check_visible(rev)
        parent_id = int(rev.get("parentid") or 0)
        if not parent_id:
            raise Unscorable(f"revision {rev_id} creates a page", code="parent_revision_missing")
        name = str(rev.get("user", ""))
        anonymous = bool(rev.get("anon")) or int(rev.get("userid", 0)) == 0
        params = {"revids": parent_id, "prop": "revisions", "rvprop": "ids|timestamp|size|content",
                  "rvslots": "main", "list": "logevents", "letype": "create", "letitle": page["title"],
                  "lelimit": 1, "leprop": "ids|timestamp"}
        if not anonymous:
            params.update(list="logevents|users", ususers=name, usprop="groups|editcount|registration")
        second = self._ask(**params)
        try:
            _page, parent_raw = _one_revision(second, parent_id)
            _check_visible(parent_raw)  # a hidden parent text would read as a blank page
        except Unscorable as exc:
            raise Unscorable(f"parent {parent_id} of revision {rev_id} is missing or hidden",
                             code="parent_revision_missing") from exc
        parent = _revision(parent_raw)
        query = second.get("query", {})
        created = self._page_created(page, query.get("logevents", []))
        user = self._user(name, anonymous, query.get("users", []))
        revision = _revision(rev)
        if self.with_signals and name:
            user = self.editor_signals(user, revision)
        return EditData(revision=revision, parent=parent, user=user, page_created=created,
                        title=str(page.get("title", "")), lang=self.lang or "en")

    def editor_signals(self, user: UserInfo, revision: RevisionInfo) -> UserInfo:
        """``user`` with its warnings, recent reverts and recent edits (one round trip).

        Warnings are counted on the talk page as it is now (the bot scores edits seconds
        old); reverts and edits in the windows before ``revision``. ``User talk`` is the
        canonical namespace name, which every wiki accepts whatever its language.
        """
        start = revision.timestamp - RECENT_REVERTS_WINDOW
        data = self._ask(titles=f"User talk:{user.name}", prop="revisions", rvprop="content", rvslots="main",
                         list="usercontribs", ucuser=user.name, ucprop="ids|timestamp|tags", uclimit=500,
                         ucstart=revision.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         ucend=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
        query = data.get("query") or {}
        talk = ""
        for page in query.get("pages", []):
            for rev in page.get("revisions", []):
                talk = str(((rev.get("slots") or {}).get("main") or {}).get("content", ""))
        contribs = [c for c in query.get("usercontribs", []) if int(c.get("revid", 0)) != revision.rev_id]
        recent = revision.timestamp - RECENT_EDITS_WINDOW
        return replace(user, warnings=len(self.warnings.findall(talk)),
                       recent_reverts=sum(1 for c in contribs if REVERTED_TAG in c.get("tags", [])),
                       recent_edits=sum(1 for c in contribs if parse_timestamp(c["timestamp"]) >= recent))

    def _page_created(self, page: dict[str, Any], logevents: list[dict[str, Any]]) -> datetime:
        page_id = int(page["pageid"])
        for event in logevents:
            if int(event.get("logpage", event.get("pageid", -1))) == page_id:
                return parse_timestamp(event["timestamp"])
        data = self._ask(pageids=page_id, prop="revisions", rvdir="newer", rvlimit=1, rvprop="ids|timestamp")
        revisions = (data.get("query", {}).get("pages") or [{}])[0].get("revisions") or []
        if not revisions:
            raise ScoringError(f"cannot find the first revision of page {page_id}")
        return parse_timestamp(revisions[0]["timestamp"])

    @staticmethod
    def _user(name: str, anonymous: bool, users: list[dict[str, Any]]) -> UserInfo:
        if anonymous:
            return UserInfo(name=name, anonymous=True)
        found = next((u for u in users if u.get("name") == name), {})
        groups = frozenset(found.get("groups", []))
        registration = found.get("registration")
        return UserInfo(name=name, anonymous="temp" in groups, edit_count=int(found.get("editcount") or 0),
                        registration=parse_timestamp(registration) if registration else None, groups=groups)
