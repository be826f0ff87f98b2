"""At start, what the last run left half done is taken up again: a restart loses nothing.

Two kinds of decision outlive a stop (a deploy's SIGTERM, a kill -9, a crash):

- ``reverting``: the intent was committed and the rollback perhaps sent. The wiki is asked
  whether the bot's rollback is there: ``reverted`` if so, else ``interrupted`` (never sent
  blindly: the bot stopped in the middle of acting).
- ``rollback-pending``: the rollback waited in memory (``rollback.RollbackQueue``: the rate
  limit's next slot, a passing refusal), and the stream position is already past the edit,
  so nothing else would ever send it. Unless the wiki shows it done (sent just before the
  stop, not recorded), it is queued again, due at once, and passes the same checks as any
  waiting rollback before it is sent (still the top edit, young enough, the wiki still
  reverting; ``Moderator.retry_pending``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from automod.errors import WikiError
from automod.moderation.rollback import RollbackQueue, rollback_summary
from automod.moderation.served_wiki import ServedWiki
from automod.onwiki.gateway import WikiGateway
from automod.records import EventMeta, Outcome, RecentChange, Verdict
from automod.store import Store

__all__ = ["Restart", "change_from_row"]

log = logging.getLogger("automod.moderation.restart")


def change_from_row(row: sqlite3.Row) -> RecentChange:
    """The change a ``decisions`` row stands for, as far as acting on it needs. The row keeps
    the event's time, not the edit's; an unreadable one counts as long ago, so the age check
    stops the rollback instead of letting it through."""
    try:
        stamp = int(datetime.fromisoformat(str(row["event_dt"]).replace("Z", "+00:00")).timestamp())
    except ValueError:
        stamp = 0
    return RecentChange(meta=EventMeta(id="", dt=str(row["event_dt"]), domain="", stream=""), wiki=row["wiki"],
                        server_name="", type="edit", namespace=0, title=row["title"], user=row["user"], bot=False,
                        timestamp=stamp, comment="", minor=False, rc_id=None, rev_id=int(row["rev_id"]),
                        parent_id=row["parent_id"], length_old=None, length_new=None)


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
            self.settle_interrupted(name, served)
            self.requeue_pending(name, served)

    def settle_interrupted(self, name: str, served: ServedWiki) -> None:
        """Settle rollbacks whose outcome the stop left unknown (intent recorded, no result)."""
        rows = self.store.decisions_with_outcome(name, Outcome.REVERTING.value)
        gateway = served.connect() if rows else None
        for row in rows:
            if gateway is None:
                log.warning("%s: cannot check interrupted rollback of r%d yet", name, row["rev_id"])
                continue
            try:
                revert = self._rollback_done(gateway, name, row)
            except WikiError as exc:
                log.warning("%s: cannot check interrupted rollback of r%d: %s", name, row["rev_id"], exc)
                continue
            if revert:
                self._settle_done(name, row, revert)
            else:
                self.store.update_decision(name, row["rev_id"], Outcome.INTERRUPTED.value,
                                           "the bot stopped before the rollback; not retried")
                self._settled(name, row["rev_id"], None)
            log.info("%s: interrupted rollback of r%d settled as %s", name, row["rev_id"],
                     Outcome.REVERTED if revert else Outcome.INTERRUPTED)

    def requeue_pending(self, name: str, served: ServedWiki) -> int:
        """Queue again the rollbacks the last run left waiting; return how many. A dry run
        never sends one, so it leaves them to the next live run."""
        rows = self.store.decisions_with_outcome(name, Outcome.ROLLBACK_PENDING.value)
        if not rows or self.dry_run:
            return 0
        gateway = served.connect()
        if gateway is None:
            log.warning("%s: cannot reach the wiki; %d rollbacks left waiting by the last run stay "
                        "rollback-pending until the next start", name, len(rows))
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
            verdict = self.store.verdict(name, int(row["rev_id"])) or Verdict(Outcome.ROLLBACK_PENDING)
            # Without a config the wiki is disabled: the item is then abandoned, unsent.
            summary = rollback_summary(config, gateway, change, verdict) if config is not None else ""
            self.pending.resume(change, summary)
            queued += 1
        log.info("%s: %d rollbacks left waiting by the last run queued again%s", name, queued,
                 f" ({found} found done before the stop)" if found else "")
        return queued

    def _rollback_done(self, gateway: WikiGateway, name: str, row: sqlite3.Row) -> int | None:
        """The bot's rollback after the row's revision, unless it is recorded as another
        decision's (one rollback undoes all of an editor's top edits)."""
        revert = gateway.find_rollback(row["title"], row["rev_id"])
        owner = self.store.revert_of(name, revert) if revert else None
        return revert if owner is None or owner["rev_id"] == row["rev_id"] else None

    def _settle_done(self, name: str, row: sqlite3.Row, revert: int) -> None:
        self.store.update_decision(name, row["rev_id"], Outcome.REVERTED.value,
                                   f"settled after restart (revert r{revert})")
        if self.store.rollback_of(name, row["rev_id"]) != revert:  # recorded unless the stop came just after
            self.store.record_action(name, row["rev_id"], "rollback", "done", revert, "found after restart")
        self._settled(name, row["rev_id"], revert)

    def _settled(self, name: str, rev_id: int, revert: int | None) -> None:
        """A rollback found done after a restart gets what any rollback gets: the editor's
        notice and its output line (an interrupted one gets its line)."""
        row, verdict = self.store.decision(name, rev_id), self.store.verdict(name, rev_id)
        if row is None or verdict is None:
            return
        change = change_from_row(row)
        verdict = verdict.with_(revert_rev_id=revert)
        if revert:
            self.after_revert(self.wikis[name], change, verdict)
        self.emit(change, verdict)
