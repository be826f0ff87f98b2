"""A labelled dataset from a wiki's recent edits (``automod train --from-api --days N``).

Few round trips, whatever the number of pages: ``list=allrevisions`` reads every article
revision of the window with its text (50 per request); ``list=recentchanges`` (kept about
30 days) says which edits were bot-flagged and how many edits each editor made since;
``list=users`` gives edit counts, registration and groups (bot-group members are excluded).
Per page edited in the window, the last revision before the window (the parent of its first
window edit) is read in batches, and, for pages older than the window, the first revision's
timestamp for ``page_age`` (one small request per such page).

An editor's edit count *at the time of the edit* is today's count minus their changes in the
window after it, which matches what serving sees (the count right after the edit). Reverts
that restore text older than the revision before the window are seen through MediaWiki's
``mw-reverted`` tag only. Edits younger than 48 hours are labelled with what is known now
(they may be reverted later); the model card says so.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from automod.scoring import NamespaceNames, Query, UserInfo, parse_timestamp, text_counts
from automod.training.dataset import (
    Dataset,
    EditRecord,
    PageRevision,
    TextExtractor,
    page_records,
)
from automod.training.progress import progress

__all__ = ["dataset_from_api"]

log = logging.getLogger("automod.training.from_api")

HISTORY_PROPS = "ids|timestamp|user|userid|sha1|size|comment|tags"
CONTENT_BATCH = 50  # the API's limit for revisions with content per request


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _continued(query: Query, **params: Any) -> Iterator[dict[str, Any]]:
    """Every answer of a query, following ``continue`` until the end."""
    extra: dict[str, Any] = {}
    while True:
        data = query(**params, **extra)
        yield data
        if "continue" not in data:
            return
        extra = dict(data["continue"])


def _text(raw: dict[str, Any]) -> str | None:
    main = (raw.get("slots") or {}).get("main") or {}
    content = main.get("content")
    return None if content is None else str(content)


def _page_revision(raw: dict[str, Any], names: NamespaceNames, with_text: bool,
                   keep_text: bool = False) -> PageRevision:
    text = _text(raw) if with_text else None
    return PageRevision(
        rev_id=int(raw["revid"]), parent_id=int(raw.get("parentid") or 0),
        timestamp=parse_timestamp(raw["timestamp"]), user=str(raw.get("user", "")),
        anonymous=bool(raw.get("anon")) or int(raw.get("userid", 0)) == 0,
        sha1=raw.get("sha1") if not raw.get("sha1hidden") else None, bytes=int(raw.get("size", 0)),
        comment=str(raw.get("comment") or ""), counts=text_counts(text, names) if text is not None else None,
        tags=frozenset(raw.get("tags", [])), text=text if keep_text else None)


def _recent_changes(query: Query, start: datetime, end: datetime) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for data in _continued(query, list="recentchanges", rcstart=_iso(end), rcend=_iso(start), rcdir="older",
                           rctype="edit|new", rcprop="title|ids|timestamp|user|userid|flags", rclimit="max"):
        changes.extend(data.get("query", {}).get("recentchanges", []))
    return changes


def _window_revisions(query: Query, start: datetime, names: NamespaceNames,
                      keep_text: bool) -> dict[int, tuple[str, list[PageRevision]]]:
    pages: dict[int, tuple[str, list[PageRevision]]] = {}
    for data in _continued(query, list="allrevisions", arvnamespace=0, arvdir="newer", arvstart=_iso(start),
                           arvprop=HISTORY_PROPS + "|content", arvslots="main", arvlimit=CONTENT_BATCH):
        for page in data.get("query", {}).get("allrevisions", []):
            _title, revisions = pages.setdefault(int(page["pageid"]), (str(page["title"]), []))
            revisions.extend(_page_revision(r, names, True, keep_text) for r in page.get("revisions", []))
    return pages


def _revisions_by_id(query: Query, ids: list[int], names: NamespaceNames, keep_text: bool) -> dict[int, PageRevision]:
    found: dict[int, PageRevision] = {}
    for i in range(0, len(ids), CONTENT_BATCH):
        data = query(revids="|".join(map(str, ids[i:i + CONTENT_BATCH])), prop="revisions",
                     rvprop=HISTORY_PROPS + "|content", rvslots="main")
        for page in data.get("query", {}).get("pages", []):
            for raw in page.get("revisions", []):
                found[int(raw["revid"])] = _page_revision(raw, names, True, keep_text)
    return found


def _first_revision(query: Query, page_id: int, names: NamespaceNames) -> PageRevision | None:
    data = query(pageids=page_id, prop="revisions", rvdir="newer", rvlimit=1, rvprop=HISTORY_PROPS)
    revisions = (data.get("query", {}).get("pages") or [{}])[0].get("revisions") or []
    if not revisions:
        return None
    # Only its timestamp is used (page_age); without a SHA-1 it cannot fake a revert across the gap.
    return replace(_page_revision(revisions[0], names, False), sha1=None)


def _histories(query: Query, pages: dict[int, tuple[str, list[PageRevision]]], names: NamespaceNames,
               show_progress: bool, keep_text: bool) -> dict[int, list[PageRevision]]:
    """Each page's window revisions, preceded by the revision before the window and its creation."""
    histories = {pid: sorted(revs, key=lambda r: (r.timestamp, r.rev_id)) for pid, (_t, revs) in pages.items()}
    before = _revisions_by_id(query, sorted({h[0].parent_id for h in histories.values() if h[0].parent_id}), names,
                              keep_text)
    for page_id in progress(sorted(histories), "reading the pages' first revisions", enabled=show_progress):
        history = histories[page_id]
        parent = before.get(history[0].parent_id)
        if parent is not None:
            history.insert(0, parent)
        if history[0].parent_id:
            first = _first_revision(query, page_id, names)
            if first is not None and first.rev_id != history[0].rev_id:
                history.insert(0, first)
    return histories


def _users(query: Query, names: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    ordered = sorted(names)
    for i in range(0, len(ordered), 50):
        data = query(list="users", ususers="|".join(ordered[i:i + 50]), usprop="groups|editcount|registration")
        for user in data.get("query", {}).get("users", []):
            found[user["name"]] = user
    return found


def dataset_from_api(query: Query, wiki: str, days: float, *, now: datetime | None = None,
                     show_progress: bool = True, extract: TextExtractor | None = None) -> Dataset:
    """Return the labelled namespace-0 edits of the last ``days`` days on the wiki behind ``query``.

    With ``extract``, the window's texts are held in memory until every record has its
    :class:`~automod.training.dataset.EditRecord.texts` (multilingual training).
    """
    keep_text = True  # the content features need both texts of each edit
    end = now or datetime.now(UTC)
    start = end - timedelta(days=days)
    site = query(meta="siteinfo", siprop="general|namespaces|namespacealiases")
    names = NamespaceNames.from_siteinfo(site.get("query", {}))
    lang = str((site.get("query", {}).get("general") or {}).get("lang") or "en")
    changes = _recent_changes(query, start, end)
    log.info("%s: %d recent changes since %s", wiki, len(changes), _iso(start))
    wanted = {int(c["pageid"]) for c in changes if c.get("ns") == 0 and c.get("type") == "edit" and not c.get("bot")}
    bot_flagged = {int(c.get("revid", 0)) for c in changes if c.get("bot")}
    pages = {pid: page for pid, page in _window_revisions(query, start, names, keep_text).items() if pid in wanted}
    histories = _histories(query, pages, names, show_progress, keep_text)
    users = _users(query, {r.user for h in histories.values() for r in h if not r.anonymous and r.user})
    later: dict[str, list[datetime]] = defaultdict(list)
    for change in changes:
        later[str(change.get("user", ""))].append(parse_timestamp(change["timestamp"]))

    def is_bot(name: str) -> bool:
        return "bot" in users.get(name, {}).get("groups", [])

    records: list[EditRecord] = []
    for page_id, history in histories.items():
        records.extend(r for r in page_records(page_id, pages[page_id][0], history, start=start, end=end,
                                               is_bot=is_bot, extract=extract, lang=lang)
                       if r.revision.rev_id not in bot_flagged)
    pages.clear()
    histories.clear()  # the texts: only the records' fragments are kept

    def user_info(record: EditRecord) -> UserInfo:
        if record.anonymous:
            return UserInfo(name=record.user, anonymous=True)
        raw = users.get(record.user, {})
        groups = frozenset(raw.get("groups", []))
        newer = sum(1 for t in later.get(record.user, []) if t > record.revision.timestamp)
        registration = raw.get("registration")
        return UserInfo(name=record.user, anonymous="temp" in groups,
                        edit_count=max(0, int(raw.get("editcount") or 0) - newer),
                        registration=parse_timestamp(registration) if registration else None, groups=groups)

    return Dataset(wiki=wiki, source=f"api: recent changes, last {days:g} days", start=start, end=end,
                   records=records, user_info=user_info,
                   notes=("edits younger than 48 hours are labelled with what was known at training time",))
