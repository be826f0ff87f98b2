"""What the bot did on a wiki (``actions``): rollbacks, notices, report-page lines, passes
over a page, reinstatements; each names the edit it is about and its result."""

from __future__ import annotations

import time
from dataclasses import dataclass

from automod.store._connection import StoreCore, build, marks
from automod.store.decisions import Decision

__all__ = ["WARNING_LEVEL_KIND", "Action", "ActionQueries"]

#: The ``actions`` kind of a warning level the bot gave (its ``detail``: the level, 1–4).
WARNING_LEVEL_KIND = "warning-level"


@dataclass(frozen=True)
class Action:
    """One ``actions`` row. ``kind`` and ``result`` are the acting module's codes (``rollback``/
    ``done``, ``report-pass``/``unfinished``, a refusal's reason…); ``detail`` is free text or
    JSON, as that module wrote it."""

    id: int
    wiki: str
    rev_id: int
    kind: str
    result: str
    result_rev_id: int | None
    detail: str | None
    acted_at: float


class ActionQueries(StoreCore):
    """Queries on ``actions``."""

    def record_action(self, wiki: str, rev_id: int, kind: str, result: str,
                      result_rev_id: int | None = None, detail: str | None = None) -> None:
        self._write("INSERT INTO actions (wiki, rev_id, kind, result, result_rev_id, detail, acted_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", (wiki, rev_id, kind, result, result_rev_id, detail, time.time()))

    def actions_for(self, wiki: str, rev_id: int) -> list[Action]:
        rows = self._db.execute("SELECT * FROM actions WHERE wiki = ? AND rev_id = ? ORDER BY id",
                                (wiki, rev_id)).fetchall()
        return [build(Action, row) for row in rows]

    def has_action(self, wiki: str, rev_id: int, kind: str) -> bool:
        """Whether an action of ``kind`` on ``rev_id`` is recorded (whatever its result)."""
        return self._db.execute("SELECT 1 FROM actions WHERE wiki = ? AND rev_id = ? AND kind = ?",
                                (wiki, rev_id, kind)).fetchone() is not None

    def has_action_naming(self, wiki: str, word: str, *, rev_id: int | None = None) -> bool:
        """Whether an action on ``wiki`` (on ``rev_id``, if given) has ``"word"`` (a JSON string)
        in its detail."""
        if rev_id is None:
            row = self._db.execute("SELECT 1 FROM actions WHERE wiki = ? AND detail LIKE ?",
                                   (wiki, f'%"{word}"%')).fetchone()
        else:
            row = self._db.execute("SELECT 1 FROM actions WHERE wiki = ? AND rev_id = ? AND detail LIKE ?",
                                   (wiki, rev_id, f'%"{word}"%')).fetchone()
        return row is not None

    def done_at_or_after(self, wiki: str, kind: str, detail: str, rev_id: int) -> bool:
        """Whether an action of ``kind`` with ``detail`` was done on ``rev_id`` or a later revision
        (revision ids only grow: a range on the ``(wiki, rev_id)`` index)."""
        return self._db.execute("SELECT 1 FROM actions WHERE wiki = ? AND rev_id >= ? AND kind = ? AND detail = ?"
                                " AND result = 'done' LIMIT 1", (wiki, rev_id, kind, detail)).fetchone() is not None

    def latest_action(self, wiki: str, kind: str, detail: str | None = None) -> Action | None:
        """The latest action of ``kind`` on ``wiki`` (with ``detail``, if given)."""
        if detail is None:
            row = self._db.execute("SELECT * FROM actions WHERE wiki = ? AND kind = ? ORDER BY id DESC LIMIT 1",
                                   (wiki, kind)).fetchone()
        else:
            row = self._db.execute("SELECT * FROM actions WHERE wiki = ? AND kind = ? AND detail = ?"
                                   " ORDER BY id DESC LIMIT 1", (wiki, kind, detail)).fetchone()
        return build(Action, row) if row else None

    def actions_of_kinds(self, wiki: str, kinds: tuple[str, ...], since: float | None = None,
                         page: str | None = None) -> list[Action]:
        """Actions of one of ``kinds`` on ``wiki`` (taken at ``since`` or later, if given; about
        ``page``, if given: those whose JSON detail names it — a report page's answers, not every
        answer the bot ever wrote on any page, which grow with its lifetime; issue 29)."""
        sql = f"SELECT * FROM actions WHERE wiki = ? AND kind IN ({marks(kinds)})"
        params: list[object] = [wiki, *kinds]
        if since is not None:
            sql += " AND acted_at >= ?"
            params.append(since)
        if page is not None:
            sql += " AND CASE WHEN json_valid(detail) THEN json_extract(detail, '$.page') END = ?"
            params.append(page)
        return [build(Action, row) for row in self._db.execute(sql, params).fetchall()]

    def acted_since(self, wiki: str, kind: str, since: float) -> bool:
        """Whether an action of ``kind`` on ``wiki`` was taken at ``since`` or later."""
        return self._db.execute("SELECT 1 FROM actions WHERE wiki = ? AND kind = ? AND acted_at >= ?",
                                (wiki, kind, since)).fetchone() is not None

    def revert_of(self, wiki: str, revert_rev_id: int) -> Decision | None:
        """The decision whose rollback produced revision ``revert_rev_id``, if the bot made it."""
        row = self._db.execute(
            "SELECT d.* FROM actions a JOIN decisions d USING (wiki, rev_id)"
            " WHERE a.wiki = ? AND a.kind = 'rollback' AND a.result = 'done' AND a.result_rev_id = ?",
            (wiki, revert_rev_id)).fetchone()
        return build(Decision, row) if row else None

    def rollback_of(self, wiki: str, rev_id: int) -> int | None:
        row = self._db.execute("SELECT result_rev_id FROM actions WHERE wiki = ? AND rev_id = ? AND kind = 'rollback'"
                               " AND result = 'done' ORDER BY id DESC LIMIT 1", (wiki, rev_id)).fetchone()
        return int(row[0]) if row and row[0] else None

    def record_reverted_revisions(self, wiki: str, rev_id: int, revert_rev_id: int | None, method: str,
                                  reverted: tuple[int, ...]) -> None:
        """Which revisions the revert of ``rev_id`` took (``rev_id`` itself is always counted)."""
        now = time.time()
        with self.atomic():
            for taken in sorted({rev_id, *reverted}):
                self._write("INSERT OR REPLACE INTO reverted_revisions"
                            " (wiki, rev_id, reverted_rev_id, revert_rev_id, method, reverted_at)"
                            " VALUES (?, ?, ?, ?, ?, ?)", (wiki, rev_id, taken, revert_rev_id, method, now))

    def reverted_with(self, wiki: str, rev_id: int) -> tuple[int, ...]:
        """The revisions the revert of ``rev_id`` took, oldest first (empty: none recorded)."""
        rows = self._db.execute("SELECT reverted_rev_id FROM reverted_revisions WHERE wiki = ? AND rev_id = ?"
                                " ORDER BY reverted_rev_id", (wiki, rev_id)).fetchall()
        return tuple(int(row[0]) for row in rows)

    def multi_revision_reverts(self, wiki: str, since: float, before: float) -> dict[int, tuple[int, ...]]:
        """Reverts taken in ``[since, before)`` that took more than the scored revision: scored
        revision → every revision taken, oldest first."""
        rows = self._db.execute(
            "SELECT rev_id, reverted_rev_id FROM reverted_revisions WHERE wiki = ? AND reverted_at >= ?"
            " AND reverted_at < ? AND rev_id IN (SELECT rev_id FROM reverted_revisions WHERE wiki = ?"
            " AND reverted_at >= ? AND reverted_at < ? GROUP BY rev_id HAVING count(*) > 1)"
            " ORDER BY rev_id, reverted_rev_id", (wiki, since, before, wiki, since, before)).fetchall()
        taken: dict[int, tuple[int, ...]] = {}
        for rev_id, reverted in rows:
            taken[int(rev_id)] = (*taken.get(int(rev_id), ()), int(reverted))
        return taken

    def record_warning_level(self, wiki: str, rev_id: int, level: int, *, withheld: bool,
                             notice_rev_id: int | None = None) -> None:
        """The warning level the bot gave for reverting ``rev_id`` (``withheld``: the talk page's
        {{nobots}} kept the notice off the wiki, the level stands all the same)."""
        self.record_action(wiki, rev_id, WARNING_LEVEL_KIND, "withheld" if withheld else "given",
                           notice_rev_id, str(level))

    def warning_level_given(self, wiki: str, user: str, since: float) -> int:
        """The highest warning level the bot gave ``user`` (by name) at ``since`` or later (0: none).
        The bot's own record: it needs no talk page, so neither {{nobots}} nor a moved or
        blanked talk page takes a level away."""
        row = self._db.execute(
            "SELECT MAX(CAST(a.detail AS INTEGER)) FROM decisions d JOIN actions a USING (wiki, rev_id)"
            " WHERE d.wiki = ? AND d.user = ? AND a.kind = ? AND a.acted_at >= ?",
            (wiki, user, WARNING_LEVEL_KIND, since)).fetchone()
        return int(row[0]) if row and row[0] else 0
