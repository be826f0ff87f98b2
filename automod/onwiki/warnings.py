"""Escalating warnings, read the way patrollers' tools write them.

Twinkle, Huggle and ClueBot NG mark each warning with a hidden comment
``<!-- Template:uw-vandalism2 -->`` (the template name comes from the message files:
``automod-warning-template``, since wikis name their templates differently; where a wiki's
template takes the level as a parameter, as the Portuguese ``{{Aviso-vandalismo|2}}``, the name
holds ``$1`` where the level goes: ``<!-- Template:Aviso-vandalismo|2 -->``). The next level
is one above the highest such comment added to the editor's talk page within the window.

Who added a comment is read from the talk page's **history**, never from its text: only
comments the bot added itself, or that an editor holding the community's trusted right
added, count. Otherwise one ``uw-vandalism4`` comment planted by anyone would get an
innocent editor reported to administrators after a single false positive. Revision times,
not signatures (which anyone can type), decide what falls within the window. A revision
that restores earlier text (MediaWiki tags rollbacks, undos and manual reverts) adds nothing:
a patroller undoing a vandal's blanking would otherwise launder the forged level the vandal
planted before blanking; what a trusted hand really added counts at the revision that added it.

A moved talk page brings no levels (issue 26): a throwaway account that earned the bot's four
levels could otherwise have its talk page moved onto a newcomer's, and the newcomer would be
reported after one false positive. The revisions saved before the page last arrived at this
title by a move (its null revision, confirmed in the move log) were written to someone else's
talk page and count for nothing, the bot's own included. The bot's own levels come also from
its store (the levels it gave that editor within the window), so a ``{{nobots}}`` that withheld
a notice, a blanked or a moved-away talk page take no level away.

The history is read back to the window's start (a busy school IP's talk page can take
hundreds of edits a month), within caps a flood of edits cannot lift: past them older
warnings go uncounted — the bot under-escalates, and says so in its log, but never credits
a comment to the wrong hand. What a revision added is read only where a comment could count
(the trusted authors' revisions, newest first, until the last level is found), and read as
the wiki's diff against its parent (:mod:`automod.onwiki.revision_diffs`), never as the two
whole texts: the bytes read grow with what the warnings changed, not with the talk page's
size (issue 29). The page's current text, which the notice needs (its exclusion templates and
its month's section), comes once, in the history's first request (``export``).
"""

from __future__ import annotations

import logging
import re
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from automod.config import CommunityConfig
from automod.onwiki.gateway import WikiGateway, is_ip, same_title
from automod.onwiki.messages import messages_for
from automod.onwiki.revision_diffs import revision_diff
from automod.onwiki.talk_page import TalkPage, templates_used

__all__ = ["MAX_REVISIONS", "MAX_TEXT_BYTES", "WarningLevel", "level_comment", "level_pattern", "trusted_authors",
           "warning_level"]

log = logging.getLogger("automod.onwiki.warnings")

#: Talk-page revisions read per check, newest first: a month of the busiest shared-IP page in
#: one request, while a flood of edits cannot make every revert walk a whole history.
MAX_REVISIONS = 500
#: Diff read per check (characters of the diffs' HTML; one diff may hold a 2 MB page): past it
#: older revisions go unread.
MAX_TEXT_BYTES = 10_000_000
#: MediaWiki's tags for an edit that restores an earlier revision (core change tags, 1.36+).
REVERT_TAGS = frozenset({"mw-rollback", "mw-undo", "mw-manual-revert"})
#: Revisions per request for texts and users: the API's limit without ``apihighlimits``.
BATCH = 50


@dataclass(frozen=True)
class WarningLevel:
    """The highest trusted warning within the window (0: none) and the level to give now."""

    highest: int
    levels: int
    #: The talk page as read with the levels (asked with ``talk_templates``), for the notice.
    talk: TalkPage | None = field(default=None, compare=False)

    @property
    def next(self) -> int:
        return min(self.highest + 1, self.levels)

    @property
    def final_given(self) -> bool:
        """Whether the editor already holds the last level (escalation is exhausted)."""
        return self.levels > 1 and self.highest >= self.levels


@dataclass(frozen=True)
class _Revision:
    """A talk-page revision's metadata (``parent`` 0: the page's first)."""

    id: int
    parent: int
    user: str
    timestamp: float
    size: int
    restores: bool = False  # tagged as a revert: it brings back text, it authors none
    sha1: str = ""  # the text's hash: a null revision (a move's) has its parent's
    hidden: bool = False  # its text is hidden from the bot: what it added is unknown


@dataclass(frozen=True)
class _History:
    """The window's revisions, newest first; ``cut`` when the cap stopped short of its start."""

    revisions: tuple[_Revision, ...]
    cut: bool
    current: int | None = None  # the page's current revision (None: missing)
    templates: frozenset[str] = frozenset()  # of the ``templates`` asked, those the links table shows
    text: str = ""  # with ``templates``: the current revision's text ("" if hidden or missing)


def level_comment(template: str, level: int) -> str:
    """The bot's level marker: the level after the name, or in place of its ``$1``."""
    name = template.replace("$1", str(level)) if "$1" in template else f"{template}{level}"
    return f"<!-- Template:{name} -->"


def level_pattern(template: str) -> re.Pattern[str]:
    """Matches a level comment (Twinkle's ``…4im`` "only warning" counts as 4)."""
    before, marked, after = template.partition("$1")
    level = r"([1-4])(?:im)?"
    body = re.escape(before) + level + (re.escape(after) if marked else "")
    return re.compile(r"<!--\s*Template:" + body + r"\s*-->")


def warning_level(gateway: WikiGateway, config: CommunityConfig, user: str, now: float,
                  given: int = 0, talk_templates: Sequence[str] | None = None) -> WarningLevel:
    """Where ``user`` stands: the highest level a trusted hand added to their talk page within
    the window since it became theirs, or ``given`` (the level the bot's store says it gave
    them within the window), whichever is higher. With ``talk_templates`` (titles with
    namespace: the exclusion templates), the talk page's current text and which of them it
    uses come along in the same requests (``WarningLevel.talk``), for the notice to use
    rather than read the page again."""
    levels = config.warning_levels
    if levels <= 1:
        return WarningLevel(0, 1)
    pattern = level_pattern(messages_for(gateway).text("automod-warning-template"))
    since = now - config.warning_window_days * 86400
    title = f"User talk:{user}"
    history = _history(gateway, title, since, talk_templates)
    own = history.revisions[:_arrival(gateway, title, history.revisions)]  # saved since the page is theirs
    trusted = trusted_authors(gateway, config.warning_trusted_right, {rev.user for rev in own})
    candidates = [rev for rev in own if rev.user in trusted and not rev.restores]
    hidden = {rev.id for rev in history.revisions if rev.hidden}
    highest, read, spent = 0, 0, 0
    for rev in candidates:
        if highest >= levels or spent >= MAX_TEXT_BYTES:
            break  # the last level found (nothing older can raise it), or the cap reached
        read += 1
        if rev.hidden or rev.parent in hidden:
            continue  # a hidden text: what this revision added is unknown
        diff = revision_diff(gateway, rev.parent, rev.id)
        if diff is None:
            continue  # hidden or gone (a parent beyond the window): unknown
        spent += diff.size
        highest = max([highest, *(Counter(_levels(pattern, diff.added)) - Counter(_levels(pattern, diff.deleted)))])
    if highest < levels and (read < len(candidates) or history.cut):
        cap, reached = ((f"{MAX_TEXT_BYTES} bytes of diffs", candidates[read].timestamp) if read < len(candidates)
                        else (f"{MAX_REVISIONS} revisions", history.revisions[-1].timestamp))
        log.warning("%s: the warnings of %s are counted back to about %s only (cap: %s); older ones within the "
                    "%d-day window are not", gateway.wiki.name, user, _iso(reached), cap, config.warning_window_days)
    talk = None
    if talk_templates is not None:
        talk = TalkPage(title, history.current, history.text, history.templates)
    return WarningLevel(min(max(highest, given), levels), levels, talk)


def _arrival(gateway: WikiGateway, title: str, revisions: tuple[_Revision, ...]) -> int:
    """How many of ``revisions`` (newest first) were saved since the page last arrived at
    ``title`` by a move (all of them: it did not within the window). A move leaves a null
    revision by the mover (its text's hash equals its parent's); each such revision is checked
    against the move log, which no one can forge. A null revision whose author is hidden is
    taken for a move: the bot under-counts rather than credit another page's warnings."""
    sha1 = {rev.id: rev.sha1 for rev in revisions}
    for index, rev in enumerate(revisions):
        if not rev.parent or not rev.sha1 or sha1.get(rev.parent) != rev.sha1:
            continue
        if not rev.user or _moved_here(gateway, title, rev):
            return index
    return len(revisions)


def _moved_here(gateway: WikiGateway, title: str, rev: _Revision) -> bool:
    """Whether the move log holds a move by ``rev``'s author, at ``rev``'s time, onto ``title``
    (or a subpage of it) from a page that was not ``title`` or a subpage of it: moving one's own
    talk page to an archive and back keeps its history that editor's (else a vandal could shed
    patrollers' warnings so; the levels the bot gave stand in its store anyway)."""
    data = gateway.query(list="logevents", letype="move", leuser=rev.user, lestart=_iso(rev.timestamp + 1),
                         leend=_iso(rev.timestamp - 1), leprop="title|details|timestamp", lelimit=50)
    for event in data.get("query", {}).get("logevents", []):
        target, source = (event.get("params") or {}).get("target_title"), event.get("title")
        if isinstance(target, str) and _own(gateway, target, title) and not (
                isinstance(source, str) and _own(gateway, source, title)):
            return True
    return False


def _own(gateway: WikiGateway, page: str, title: str) -> bool:
    """Whether ``page`` is ``title`` or one of its subpages."""
    return gateway.same_title(page, title) or gateway.same_title(page.split("/", 1)[0], title)


def _history(gateway: WikiGateway, title: str, since: float, templates: Sequence[str] | None = None) -> _History:
    """The revisions saved since ``since``, newest first, at most :data:`MAX_REVISIONS`; the
    page's current revision; with ``templates``, which of them its links table shows and the
    current text (exported in the first request: no request of its own)."""
    params: dict[str, Any] = {"titles": title, "prop": "revisions|info", "rvprop": "ids|user|timestamp|size|tags|sha1",
                              "rvend": _iso(since)}
    if templates is not None:
        params.update(prop="revisions|info|templates", tltemplates="|".join(templates), tllimit="max", export=True)
    found: list[_Revision] = []
    current: int | None = None
    used: frozenset[str] = frozenset()
    text = ""
    first = True
    while True:
        data = gateway.query(**params, rvlimit=min(500, MAX_REVISIONS - len(found)))
        pages = data.get("query", {}).get("pages", [])
        if first and pages:
            first = False
            params.pop("export", None)
            page = pages[0]
            current = int(page["lastrevid"]) if page.get("lastrevid") and "missing" not in page else None
            used = templates_used(page)
            if current is not None and templates is not None:
                text = _exported_text(str(data.get("query", {}).get("export") or ""), current)
        batch = [_revision(raw) for raw in (pages[0].get("revisions", []) if pages else [])]
        found += [rev for rev in batch if rev.timestamp >= since]
        if "continue" not in data or not batch:
            return _History(tuple(found), False, current, used, text)
        if len(found) >= MAX_REVISIONS:
            return _History(tuple(found[:MAX_REVISIONS]), True, current, used, text)
        params.update(data["continue"])


def _exported_text(export: str, rev_id: int) -> str:
    """The text of revision ``rev_id`` in an ``export`` answer (MediaWiki's XML dump format;
    "" if it is not there or hidden: ``<text deleted="deleted"/>``)."""
    if not export:
        return ""
    for revision in ElementTree.fromstring(export).iterfind(".//{*}revision"):
        if (revision.findtext("{*}id") or "").strip() == str(rev_id):
            text = revision.find("{*}text")
            return "" if text is None or text.get("deleted") is not None else text.text or ""
    return ""


def _revision(raw: dict[str, Any]) -> _Revision:
    return _Revision(int(raw.get("revid", 0)), int(raw.get("parentid", 0)), str(raw.get("user", "")),
                     _timestamp(raw), int(raw.get("size", 0)), bool(REVERT_TAGS & set(raw.get("tags") or ())),
                     str(raw.get("sha1") or ""), bool(raw.get("sha1hidden") or raw.get("texthidden")))


def _levels(pattern: re.Pattern[str], text: str) -> list[int]:
    return [int(m) for m in pattern.findall(text)]


def _timestamp(rev: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(rev.get("timestamp", "1970-01-01T00:00:00Z")).replace("Z", "+00:00")).timestamp()


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(max(moment, 0)))


def trusted_authors(gateway: WikiGateway, right: str, authors: set[str]) -> set[str]:
    """The bot itself, and logged-in editors holding ``right`` (a right that logged-out
    editors hold never counts; a hidden author never counts)."""
    trusted = {a for a in authors if a and same_title(a, gateway.bot_user)}
    named = sorted(a for a in authors - trusted if a and not is_ip(a))
    if not named or right in gateway.anonymous_rights():
        return trusted
    for i in range(0, len(named), BATCH):
        users = gateway.query(list="users", ususers="|".join(named[i:i + BATCH]),
                              usprop="rights")["query"].get("users", [])
        trusted |= {str(u["name"]) for u in users if right in u.get("rights", [])}
    return trusted
