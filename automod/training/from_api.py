"""A labelled dataset from a wiki's recent changes (``automod train --from-api --days N``).

Recent changes keep about 30 days. Per article edited in the window (namespace 0,
``type=edit``, not bot-flagged) we read its history from a little before the window to now:
the window's revisions with content, up to 15 older ones for revert detection (content
only for the parent of the first window edit), and the page's first revision for
``page_age``. Editors come from ``list=users``; bot-group members are excluded. An
editor's edit count *at the time of the edit* is today's count minus their later changes in
the window, which matches what serving sees (the count right after the edit).

Edits younger than 48 hours are labelled with what is known now (they may be reverted
later); the model card says so.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from automod.scoring.features import NamespaceNames, UserInfo, text_counts
from automod.scoring.revision_data import Query, parse_timestamp
from automod.training.dataset import Dataset, EditRecord, PageRevision, page_records
from automod.training.labels import REVERT_RADIUS
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


def _page_revision(raw: dict[str, Any], names: NamespaceNames, with_text: bool) -> PageRevision:
    text = _text(raw) if with_text else None
    return PageRevision(
        rev_id=int(raw["revid"]), parent_id=int(raw.get("parentid") or 0),
        timestamp=parse_timestamp(raw["timestamp"]), user=str(raw.get("user", "")),
        anonymous=bool(raw.get("anon")) or int(raw.get("userid", 0)) == 0,
        sha1=raw.get("sha1") if not raw.get("sha1hidden") else None, bytes=int(raw.get("size", 0)),
        comment=str(raw.get("comment") or ""), counts=text_counts(text, names) if text is not None else None,
        tags=frozenset(raw.get("tags", [])))


def _recent_changes(query: Query, start: datetime, end: datetime) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for data in _continued(query, list="recentchanges", rcstart=_iso(end), rcend=_iso(start), rcdir="older",
                           rctype="edit|new", rcprop="title|ids|timestamp|user|userid|flags", rclimit="max"):
        changes.extend(data.get("query", {}).get("recentchanges", []))
    return changes


def _page_history(query: Query, page_id: int, start: datetime, names: NamespaceNames) -> list[PageRevision]:
    window: list[PageRevision] = []
    for data in _continued(query, pageids=page_id, prop="revisions", rvdir="newer", rvstart=_iso(start),
                           rvlimit=CONTENT_BATCH, rvprop=HISTORY_PROPS + "|content", rvslots="main"):
        for page in data.get("query", {}).get("pages", []):
            window.extend(_page_revision(r, names, True) for r in page.get("revisions", []))
    older_raw = query(pageids=page_id, prop="revisions", rvdir="older", rvstart=_iso(start - timedelta(seconds=1)),
                      rvlimit=REVERT_RADIUS + 1, rvprop=HISTORY_PROPS)
    older = [_page_revision(r, names, False)
             for p in older_raw.get("query", {}).get("pages", []) for r in p.get("revisions", [])]
    history = sorted(older, key=lambda r: (r.timestamp, r.rev_id)) + window
    if older and len(older) > REVERT_RADIUS:  # the page is older than what we read: find its creation
        first = query(pageids=page_id, prop="revisions", rvdir="newer", rvlimit=1, rvprop=HISTORY_PROPS)
        first_rev = _page_revision(first["query"]["pages"][0]["revisions"][0], names, False)
        # Only its timestamp is used (page_age); without a SHA-1 it cannot fake a revert across the gap.
        history.insert(0, PageRevision(**{**first_rev.__dict__, "sha1": None}))
    return history


def _fill_parent_texts(query: Query, histories: dict[int, list[PageRevision]], start: datetime,
                       names: NamespaceNames) -> None:
    """Fetch (50 at a time) the texts of pre-window parents of window edits."""
    wanted: dict[int, tuple[int, int]] = {}
    for page_id, history in histories.items():
        by_id = {r.rev_id: i for i, r in enumerate(history)}
        for rev in history:
            if rev.timestamp >= start and rev.parent_id in by_id and history[by_id[rev.parent_id]].counts is None:
                wanted[rev.parent_id] = (page_id, by_id[rev.parent_id])
    ids = sorted(wanted)
    for i in range(0, len(ids), CONTENT_BATCH):
        data = query(revids="|".join(map(str, ids[i:i + CONTENT_BATCH])), prop="revisions",
                     rvprop="ids|content", rvslots="main")
        for page in data.get("query", {}).get("pages", []):
            for raw in page.get("revisions", []):
                text = _text(raw)
                if text is not None and int(raw["revid"]) in wanted:
                    page_id, index = wanted[int(raw["revid"])]
                    old = histories[page_id][index]
                    histories[page_id][index] = PageRevision(**{**old.__dict__, "counts": text_counts(text, names)})


def _users(query: Query, names: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    ordered = sorted(names)
    for i in range(0, len(ordered), 50):
        data = query(list="users", ususers="|".join(ordered[i:i + 50]), usprop="groups|editcount|registration")
        for user in data.get("query", {}).get("users", []):
            found[user["name"]] = user
    return found


def dataset_from_api(query: Query, wiki: str, days: float, *, now: datetime | None = None,
                     show_progress: bool = True) -> Dataset:
    """Return the labelled namespace-0 edits of the last ``days`` days on the wiki behind ``query``."""
    end = now or datetime.now(UTC)
    start = end - timedelta(days=days)
    site = query(meta="siteinfo", siprop="namespaces|namespacealiases")
    names = NamespaceNames.from_siteinfo(site.get("query", {}))
    changes = _recent_changes(query, start, end)
    log.info("%s: %d recent changes since %s", wiki, len(changes), _iso(start))
    pages = {int(c["pageid"]): c["title"] for c in changes
             if c.get("ns") == 0 and c.get("type") == "edit" and not c.get("bot")}
    histories = {page_id: _page_history(query, page_id, start, names)
                 for page_id in progress(sorted(pages), "reading page histories", enabled=show_progress)}
    _fill_parent_texts(query, histories, start, names)
    users = _users(query, {r.user for h in histories.values() for r in h if not r.anonymous and r.user})
    later: dict[str, list[datetime]] = defaultdict(list)
    for change in changes:
        later[str(change.get("user", ""))].append(parse_timestamp(change["timestamp"]))

    def is_bot(name: str) -> bool:
        return "bot" in users.get(name, {}).get("groups", [])

    records: list[EditRecord] = []
    for page_id, history in histories.items():
        records.extend(page_records(page_id, pages[page_id], history, start=start, end=end, is_bot=is_bot))

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
