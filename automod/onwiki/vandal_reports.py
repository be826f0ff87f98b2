"""Reporting a persistent vandal to the administrators, as ClueBot NG does on AIV.

Only after the bot reverted an editor who already held the final warning within the window;
never an editor who is already blocked; at most once per editor per window. That last rule
is read from the report page's own history (the bot's edits with its report summary naming
the editor), so it holds across restarts and a lost store alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from automod.onwiki.gateway import WikiGateway
from automod.onwiki.messages import messages_for
from automod.onwiki.wikitext import link, summary

__all__ = ["VandalReport", "vandal_already_reported", "report_vandal"]


@dataclass(frozen=True)
class VandalReport:
    status: str  # reported | already-reported | blocked
    rev_id: int | None = None


def vandal_already_reported(gateway: WikiGateway, page: str, user: str, since: float) -> bool:
    """Whether the bot's history on ``page`` since ``since`` holds a report of ``user``."""
    summary = _summary(gateway, user)
    start = datetime.fromtimestamp(since, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = gateway.query(titles=page, prop="revisions", rvprop="ids|comment", rvuser=gateway.bot_user,
                         rvend=start, rvlimit=500)["query"]["pages"][0]
    return any(summary in str(rev.get("comment", "")) for rev in data.get("revisions", []))


def report_vandal(gateway: WikiGateway, page: str, user: str, reverted: Sequence[int], since: float) -> VandalReport:
    """Append one report line about ``user`` (with the reverted revisions) to ``page``."""
    if gateway.is_blocked(user):
        return VandalReport("blocked")
    if vandal_already_reported(gateway, page, user, since):
        return VandalReport("already-reported")
    messages = messages_for(gateway)
    diffs = ", ".join(f"[[Special:Diff/{rev}|r{rev}]]" for rev in sorted(set(reverted)))
    # The name is quoted (wikitext.py): a name like ''x'' must show as typed, not in italics.
    line = messages.format("automod-vandal-report", link(user), diffs)
    rev = gateway.edit(page, appendtext="\n" + line, summary=_summary(gateway, user))
    return VandalReport("reported", rev)


def _summary(gateway: WikiGateway, user: str) -> str:
    return messages_for(gateway).format("automod-vandal-report-summary", summary(user))
