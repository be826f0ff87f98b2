"""At start, what the last run left half done is taken up again: a restart loses nothing,
and acts at most once per revision.

Two kinds of decision outlive a stop (a deploy's SIGTERM, a kill -9, an OOM kill, a crash):

- ``reverting``: the intent was committed and the rollback perhaps sent, its result not
  recorded.
- ``rollback-pending``: the rollback waited in memory (``rollback.RollbackQueue``: the rate
  limit's next slot, a passing refusal).

The stream position is already past both edits, so nothing else would ever revert them. Each
is taken up the same way: when the wiki's history shows the bot's rollback (sent just before
the stop, not recorded), it is settled ``reverted``; otherwise it is queued again, due at once,
and passes the same checks as any waiting rollback before it is sent
(``Moderator.retry_pending``: still the editor's top edit, young enough, the wiki still enabled
and reverting). Sending again after those checks cannot act twice: a rollback that landed after
all has put the bot's revision on top, so the checks, or MediaWiki's own ``alreadyrolled``
answer (``beaten``), stop it. A ``reverting`` row keeps its outcome while it waits (the intent
stays committed; its reverts still count for the cap and the breaker), so another stop before
it is sent leaves it to the next start again.

Left as they are for the next start: both kinds when the wiki cannot be reached, and both in
a dry run (it never sends, and must not close what a live run can still do). ``interrupted``
is no longer written; rows an earlier version recorded so stay as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from automod.errors import WikiError
from automod.moderation.rollback import RollbackQueue, rollback_summary
from automod.moderation.served_wiki import ServedWiki
from automod.onwiki import WikiGateway
from automod.records import EventMeta, Outcome, RecentChange, RollbackStatus, Verdict
from automod.store import Decision, Store

__all__ = ["Restart", "change_from_row"]

log = logging.getLogger("automod.moderation.restart")

#: The outcomes taken up at start, and how the log names them.
_LEFT_OVER = ((Outcome.REVERTING, "rollbacks interrupted by the last stop"),
              (Outcome.ROLLBACK_PENDING, "rollbacks left waiting by the last run"))


def change_from_row(row: Decision) -> RecentChange:
    """The change a ``decisions`` row stands for, as far as acting on it needs. The row keeps
    the event's time, not the edit's; an unreadable one counts as long ago, so the age check
    stops the rollback instead of letting it through."""
    try:
        stamp = int(datetime.fromisoformat(str(row.event_dt).replace("Z", "+00:00")).timestamp())
    except ValueError:
        stamp = 0
    return RecentChange(meta=EventMeta(id="", dt=str(row.event_dt), domain="", stream=""), wiki=row.wiki,
                        server_name="", type="edit", namespace=0, title=row.title, user=row.user, bot=False,
                        timestamp=stamp, comment="", minor=False, rc_id=None, rev_id=int(row.rev_id),
                        parent_id=row.parent_id, length_old=None, length_new=None)


@dataclass(frozen=True)
class Restart:
    """Takes up, for each served wiki, what the last run left half done (see the module)."""

    store: Store
    wikis: Mapping[str, ServedWiki]
    pending: RollbackQueue
    #: What follows a rollback found done (the editor's notice), and the output line.
    after_revert: Callable[[ServedWiki, RecentChange, Verdict], None]
    emit: Callable[[RecentChange, Verdict], None]
    dry_run: bool = False

    def run(self) -> None:
        for name, served in self.wikis.items():
            for outcome, what in _LEFT_OVER:
                self.take_up(name, served, outcome, what)

    def take_up(self, name: str, served: ServedWiki, outcome: Outcome, what: str) -> int:
        """Settle or queue again the rows left with ``outcome`` (see the module); return how
        many were queued. One log line per wiki and kind."""
        rows = self.store.decisions_with_outcome(name, outcome.value)
        if not rows or self.dry_run:
            if rows:
                log.info("%s: dry run: %d %s stay %s for the next live run", name, len(rows), what, outcome)
            return 0
        gateway = served.connect()
        if gateway is None:
            log.warning("%s: cannot reach the wiki; %d %s stay %s until the next start", name, len(rows), what,
                        outcome)
            return 0
        config, queued, found = served.applied.config, 0, 0
        for row in rows:
            try:
                revert = self._rollback_done(gateway, name, row)
            except WikiError:
                revert = None  # the checks before sending read the page again
            if revert:
                self._settle_done(name, row, revert)
                found += 1
                continue
            change = change_from_row(row)
            verdict = self.store.verdict(name, int(row.rev_id)) or Verdict(outcome)
            # Without a config the wiki is disabled: the item is then abandoned, unsent.
            summary = rollback_summary(config, gateway, change, verdict) if config is not None else ""
            self.pending.resume(change, summary)
            queued += 1
        log.info("%s: %d %s queued again%s", name, queued, what,
                 f" ({found} found done before the stop)" if found else "")
        return queued

    def _rollback_done(self, gateway: WikiGateway, name: str, row: Decision) -> int | None:
        """The bot's rollback after the row's revision, unless it is recorded as another
        decision's (one rollback undoes all of an editor's top edits)."""
        revert = gateway.find_rollback(row.title, row.rev_id)
        owner = self.store.revert_of(name, revert) if revert else None
        return revert if owner is None or owner.rev_id == row.rev_id else None

    def _settle_done(self, name: str, row: Decision, revert: int) -> None:
        """A rollback found done gets what any rollback gets: its record, the editor's notice
        and its output line."""
        rev_id = int(row.rev_id)
        self.store.update_decision(name, rev_id, Verdict(Outcome.REVERTED, f"settled after restart (revert r{revert})"))
        if self.store.rollback_of(name, rev_id) != revert:  # recorded unless the stop came just after
            self.store.record_action(name, rev_id, "rollback", RollbackStatus.DONE.value, revert, "found after restart")
        settled, verdict = self.store.decision(name, rev_id), self.store.verdict(name, rev_id)
        if settled is None or verdict is None:
            return
        change, verdict = change_from_row(settled), verdict.with_(revert_rev_id=revert)
        self.after_revert(self.wikis[name], change, verdict)
        self.emit(change, verdict)
