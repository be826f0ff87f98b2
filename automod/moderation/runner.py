"""Running the bot: one stream thread feeding one worker thread per wiki, the heartbeat,
signals and timers, and the one-off ``automod score``.

The stream position is committed at most once a second, and only up to the newest event
below which every event is fully handled (``workers.CompletionTracker``).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from automod.errors import ScoringError, StoreError, WikiError
from automod.moderation.decide import decide
from automod.moderation.health import Health, Heartbeat, heartbeat_path
from automod.moderation.moderator import POSITION_SAVE_INTERVAL, Moderator, RunSummary
from automod.moderation.served_wiki import ServedWiki
from automod.moderation.workers import CompletionTracker, WikiWorker
from automod.records import Outcome
from automod.settings import Settings
from automod.store import InstanceLock, Store
from automod.stream import RetryPolicy, StreamFollower

__all__ = ["RunOptions", "run", "score_revision"]

log = logging.getLogger("automod.moderation.runner")


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    max_events: int | None = None
    exit_after: float | None = None
    retry: RetryPolicy = RetryPolicy()



def run(settings: Settings, options: RunOptions, out: TextIO) -> RunSummary:
    """Follow the stream until closed, ``max_events`` or ``exit_after``; return counts.

    SIGTERM/SIGINT: each wiki finishes the edit in hand, the position of everything fully
    handled is committed, and the process exits within seconds. ``--max-events`` and
    ``--exit-after`` instead let the wikis finish what they were given.
    """
    with InstanceLock(settings.store):  # a second bot on this store refuses to start
        return _run(settings, options, out)


def _run(settings: Settings, options: RunOptions, out: TextIO) -> RunSummary:
    url = settings.stream.url
    served = settings.served_wikis
    tracker = CompletionTracker()
    health = Health()
    workers = {w.name: WikiWorker(w, settings, out, tracker, dry_run=options.dry_run, served=served)
               for w in settings.wikis}
    summary = RunSummary()
    with Store(settings.store) as store:
        position = store.position(url)
        follower = StreamFollower(
            url, user_agent=settings.user_agent,
            last_event_id=position.event_id if position else None,
            stall_seconds=settings.stream.stall_seconds, retry=options.retry,
            on_malformed=lambda eid, raw, err: store.record_malformed(url, eid, raw, str(err)))
        heartbeat = Heartbeat(heartbeat_path(settings.store), settings.health.interval_seconds,
                              lambda: _collect(health, workers, follower, settings.stream.stall_seconds))
        for worker in workers.values():
            worker.on_fatal = follower.close  # a dead wiki stops the bot, loudly
        signalled = threading.Event()
        # First: every thread started from here on inherits the blocked SIGTERM/SIGINT.
        stop = _stop_on_signal_and_timer(follower, options.exit_after, signalled)
        for worker in workers.values():
            worker.start()
        heartbeat.start()
        for worker in workers.values():
            worker.ready.wait(60)
        log.info("following %s for %s from %s%s", url, ", ".join(sorted(served)),
                 f"event {position.event_id}" if position else "now", " (dry run)" if options.dry_run else "")
        last_save, seq, finished = time.monotonic(), 0, False
        try:
            for event_id, change in follower:
                seq += 1
                summary.events += 1
                health.saw_event(change.meta.dt)
                target = workers.get(change.wiki)
                tracker.add(seq, event_id, change.meta.dt, done=target is None)
                if target is None:
                    summary.rejected["wiki-not-served"] = summary.rejected.get("wiki-not-served", 0) + 1
                else:
                    target.put(seq, event_id, change)
                if time.monotonic() - last_save >= POSITION_SAVE_INTERVAL:
                    _commit(store, url, tracker)
                    last_save = time.monotonic()
                _raise_worker_error(workers)
                if options.max_events and summary.events >= options.max_events:
                    break
            finished = True
        finally:
            stop()
            follower.close()
            for worker in workers.values():
                worker.stop() if signalled.is_set() else worker.drain()
            for worker in workers.values():
                worker.join(timeout=30 if not signalled.is_set() else 10)
            _commit(store, url, tracker)
            heartbeat.stop()
            if finished and all(worker.error is None and not worker.is_alive() for worker in workers.values()):
                health.stop_cleanly("signal" if signalled.is_set() else "end of run")
            try:
                heartbeat.beat()
            except OSError as exc:  # a full or read-only disk: the store's error, raised next, says why
                log.warning("cannot write the heartbeat %s: %s", heartbeat.path, exc.strerror or exc)
    _raise_worker_error(workers)
    for worker in workers.values():
        summary.candidates += worker.summary.candidates
        summary.duplicates += worker.summary.duplicates
        for key, value in worker.summary.rejected.items():
            summary.rejected[key] = summary.rejected.get(key, 0) + value
        for key, value in worker.summary.outcomes.items():
            summary.outcomes[key] = summary.outcomes.get(key, 0) + value
    log.info("stopped after %d events: %d candidates, %d duplicates, outcomes %s, rejected %s",
             summary.events, summary.candidates, summary.duplicates, summary.outcomes, summary.rejected)
    return summary


def _commit(store: Store, url: str, tracker: CompletionTracker) -> None:
    tracker.commit(store, url)


def _raise_worker_error(workers: dict[str, WikiWorker]) -> None:
    for worker in workers.values():
        if isinstance(worker.error, StoreError):  # already one clear sentence naming the store
            raise StoreError(f"{worker.wiki.name}: {worker.error}") from worker.error
        if worker.error is not None:
            raise StoreError(f"{worker.wiki.name}: the wiki's worker failed: {worker.error}") from worker.error


def _collect(health: Health, workers: dict[str, WikiWorker], follower: StreamFollower,
             stall_seconds: float | None = None) -> dict[str, Any]:
    decisions: Counter[str] = Counter()
    liftwing: Counter[str] = Counter()
    wikis: dict[str, Any] = {}
    for name, worker in workers.items():
        decisions.update(worker.summary.outcomes)
        moderator = worker.moderator
        served = moderator.wikis.get(name) if moderator else None
        if served is not None:
            for stats in served.liftwing_stats():
                liftwing["requests"] += stats.requests
                liftwing["errors"] += sum(stats.errors.values())
        wikis[name] = {"queue": worker.queue.qsize(), "alive": worker.is_alive() or not worker.ident,
                       "oldest_undecided_seconds": worker.oldest_undecided_seconds(),
                       "disabled": served.disabled_reason() if served else "starting",
                       "config_rev": served.applied.rev_id if served else None,
                       **(moderator.pending.status(name) if moderator else {})}
    activity = follower.stats.last_activity
    wall = time.time() - (time.monotonic() - activity) if activity else None
    return health.snapshot(decisions, dict(liftwing), wikis, stream_activity=wall, stall_seconds=stall_seconds)


def score_revision(settings: Settings, wiki_name: str, rev_id: int) -> dict[str, Any]:
    """Score one revision and say what the bot would decide; change nothing anywhere."""

    with Store(":memory:") as store:
        out = io.StringIO()
        moderator = Moderator(settings, store, out, dry_run=True,
                              wikis={wiki_name: ServedWiki(settings.wiki(wiki_name), settings, store, login=False)})
        served = moderator.wikis[wiki_name]
        served.refresh_config(force=True)
        gateway = served.connect()
        if gateway is None:
            raise WikiError(served.disabled_reason() or f"cannot connect to {wiki_name}")
        change = gateway.revision_as_change(rev_id)
        # Age is irrelevant when asking about one revision by hand: judge it as if it were new.
        change = dataclasses.replace(change, timestamp=int(moderator.clock()))
        verdict = moderator.decide(change).verdict  # dry run: no follow-up is acted on
        extra = _score_anyway(served, change.wiki, rev_id) if verdict.outcome is Outcome.SKIP else {}
        moderator.close()
    fields = {"outcome": verdict.outcome.value, "reason": verdict.reason, "config_rev": verdict.config_rev,
              "model": verdict.model, "model_version": verdict.model_version,
              "probability": verdict.probability, "threshold": verdict.threshold}
    return {"wiki": wiki_name, "rev_id": rev_id, "title": change.title, "user": change.user,
            "actionable": verdict.outcome not in NOT_ACTIONABLE,
            **{key: value for key, value in fields.items() if value is not None}, **extra}


#: Outcomes under which the bot would not act on the revision, whatever its score.
NOT_ACTIONABLE = frozenset({Outcome.SKIP, Outcome.DISABLED, Outcome.ERROR, Outcome.UNSCORABLE})


def _score_anyway(served: ServedWiki, wiki: str, rev_id: int) -> dict[str, Any]:
    """The configured models' verdict on a revision the bot skips (e.g. not the page's top
    revision): a patroller asking about it still learns what the model thinks."""
    config = served.applied.config
    if config is None:
        return {}
    scores = []
    for choice in config.models:
        try:
            scores.append(served.scorer(choice.model).score(wiki, rev_id))
        except ScoringError as exc:
            return {"model": choice.model, "score_error": str(exc)}
    verdict = decide(scores, config, dry_run=True)
    return {"model": scores[0].model, "model_version": scores[0].version, "probability": verdict.probability,
            "threshold": verdict.threshold, "above_threshold": verdict.above_threshold}


def _stop_on_signal_and_timer(follower: StreamFollower, exit_after: float | None,
                              signalled: threading.Event | None = None) -> Callable[[], None]:
    """Close the follower on SIGTERM/SIGINT or after ``exit_after`` s; return an undo.

    A Python-level handler runs only when the main thread next executes bytecode: a signal
    landing just before it blocks in recv() waited for the next byte or the stall timeout
    (seen: SIGTERM ignored for 10 s, 1 run in 8), and one delivered to another thread was
    not seen at all. So, from the main thread, the signals are blocked in this thread and
    every thread it starts afterwards, and a dedicated thread takes them synchronously and
    closes the stream (a socket shutdown, which ends a blocked read at once).
    """
    signals = {signal.SIGTERM, signal.SIGINT}
    use_sigwait = threading.current_thread() is threading.main_thread() and hasattr(signal, "sigwait")
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals) if use_sigwait else None
    timer = threading.Timer(exit_after, follower.close) if exit_after else None
    if timer:
        timer.daemon = True
        timer.start()
    finished = threading.Event()
    waiter: threading.Thread | None = None

    def wait_for_signal() -> None:
        while True:
            signal.sigwait(signals)
            if finished.is_set():
                return
            log.info("stop requested by signal")
            if signalled is not None:
                signalled.set()
            follower.close()

    if use_sigwait:
        waiter = threading.Thread(target=wait_for_signal, name="signals", daemon=True)
        waiter.start()

    def undo() -> None:
        if timer:
            timer.cancel()
        if waiter is not None and waiter.ident is not None:
            finished.set()
            signal.pthread_kill(waiter.ident, signal.SIGINT)  # wakes its sigwait; it then exits
            waiter.join(2)
        if previous_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)

    return undo
