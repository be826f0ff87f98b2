"""MediaWiki's own API request log (``$wgDebugLogGroups['api']``), read back per request.

The sandbox reads ``conf/extra.php`` on every request, so a test or benchmark switches the
log on by adding :func:`api_log_php` there. MediaWiki writes one line per Action API request
when it ends: ``API <method> <user> <ip> T=<ms>ms <param>=<value> …`` (values URL-encoded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

_LINE = re.compile(r"API (?P<method>\S+) (?P<user>\S+) (?P<ip>\S+) T=(?P<ms>\d+)ms(?P<params>.*)$")


def api_log_php(path: Path) -> str:
    """The PHP lines (no ``<?php``) that send MediaWiki's ``api`` log group to ``path``."""
    return f"$wgDebugLogGroups['api'] = '{path}';\n"


@dataclass(frozen=True)
class ApiRequest:
    user: str
    ms: int
    params: dict[str, str] = field(default_factory=dict)

    @property
    def module(self) -> str:
        """``action`` with the query submodules asked (``query:prop=revisions|info,list=blocks``)."""
        action = self.params.get("action", "?")
        if action != "query":
            return action
        parts = [f"{key}={self.params[key]}" for key in ("prop", "list", "meta") if key in self.params]
        return "query:" + ",".join(parts) if parts else "query"


class ApiLog:
    """The log file, read from a remembered offset."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def since(self, mark: int, user: str | None = None) -> list[ApiRequest]:
        """Requests logged after ``mark`` (by ``user`` only, if given; spaces as underscores)."""
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(mark)
            text = handle.read().decode("utf-8", "replace")
        found = []
        for line in text.splitlines():
            match = _LINE.search(line)
            if match is None:
                continue
            who = unquote(match["user"]).replace("_", " ")
            if user is not None and who != user.replace("_", " "):
                continue
            params = {}
            for token in match["params"].split():
                key, _, value = token.partition("=")
                params[key] = unquote(value)
            found.append(ApiRequest(who, int(match["ms"]), params))
        return found


def backdate_revision(sandbox_dir: Path, wiki: str, rev_id: int, days: float) -> None:
    """Move revision ``rev_id``'s timestamp ``days`` into the past, in the sandbox's own
    database (MediaWiki stamps live edits with the wall clock; a test of "has stood for a
    week" cannot wait a week)."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    stamp = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y%m%d%H%M%S")
    db = sqlite3.connect(sandbox_dir / "data" / f"{wiki}.sqlite", timeout=30.0)
    try:
        with db:
            db.execute("UPDATE revision SET rev_timestamp = ? WHERE rev_id = ?", (stamp, rev_id))
    finally:
        db.close()
