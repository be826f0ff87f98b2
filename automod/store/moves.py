"""Moves of the bot's own pages (``surface_moves``): a config page, the central page, a report
page or its preload moved away or overwritten by a move turns a wiki off until a trusted user
sets it right — kept here so a restart does not forget it and resume on a moved page."""

from __future__ import annotations

import time
from dataclasses import dataclass

from automod.store._connection import StoreCore, build, marks

__all__ = ["SurfaceMove", "SurfaceMoveQueries"]


@dataclass(frozen=True)
class SurfaceMove:
    """A move of one of the bot's pages on ``wiki``, as the move log told it."""

    wiki: str  # where the move happened
    page: str  # which of the bot's pages: its configured title
    source: str  # the move's source title
    target: str  # the move's target title
    user: str  # who moved it
    rc_id: int | None
    moved_at: float = 0.0

    def reason(self) -> str:
        return f"surface-moved: {self.source} was moved to {self.target} by {self.user}"


class SurfaceMoveQueries(StoreCore):
    """Queries on ``surface_moves``."""

    def record_surface_move(self, move: SurfaceMove) -> None:
        """Remember a move until it is cleared (the same stream event seen twice: one row)."""
        with self.atomic():
            if move.rc_id is not None and self._db.execute(
                    "SELECT 1 FROM surface_moves WHERE wiki = ? AND rc_id = ? AND cleared_at IS NULL",
                    (move.wiki, move.rc_id)).fetchone() is not None:
                return
            self._write("INSERT INTO surface_moves (wiki, page, source, target, user, rc_id, moved_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (move.wiki, move.page, move.source, move.target, move.user, move.rc_id,
                         move.moved_at or time.time()))

    def open_surface_moves(self, wiki: str) -> list[SurfaceMove]:
        """The moves on ``wiki`` not set right yet, oldest first."""
        if not self.has_table("surface_moves"):
            return []
        rows = self._db.execute("SELECT * FROM surface_moves WHERE wiki = ? AND cleared_at IS NULL ORDER BY id",
                                (wiki,)).fetchall()
        return [build(SurfaceMove, row) for row in rows]

    def clear_surface_moves(self, wiki: str, by: str, *, pages: tuple[str, ...] | None = None,
                            keep: tuple[str, ...] = ()) -> int:
        """Set right the open moves on ``wiki`` (only of ``pages``, if given; never of ``keep``):
        ``by`` saved the config at its title. How many were open."""
        sql, args = "UPDATE surface_moves SET cleared_at = ?, cleared_by = ? WHERE wiki = ? AND cleared_at IS NULL", \
            [time.time(), by, wiki]
        if pages is not None:
            sql += f" AND page IN ({marks(pages)})"
            args += pages
        if keep:
            sql += f" AND page NOT IN ({marks(keep)})"
            args += keep
        return self._write(sql, args)
