"""Is the bot alive and keeping up? A heartbeat file and log line every interval.

The heartbeat (JSON, written atomically next to the store) carries the stream lag (now minus
the newest event's time), events per minute, decisions by kind, and Lift Wing's error
rate. ``automod status`` reads it and exits non-zero when the bot is stalled (no heartbeat,
or no event for too long) or lagging, so a cron or a human can tell at a glance.

Quiet is not stuck: an old newest event is a problem only when something waits — an edit
queued or in hand, or a connection over which nothing (event, canary, comment) has arrived
for longer than the stream's stall limit. A clean stop (SIGTERM, Ctrl-C, the end of a run)
writes a last heartbeat marked ``stopped``; ``status`` then says "stopped", not that the
workers died. A process killed outright leaves no such mark: "not running", workers as they were.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from automod.errors import AutomodError
from automod.store import InstanceLock

__all__ = ["Health", "Heartbeat", "StatusLimits", "heartbeat_path", "quiet_note", "rate_limit_notes", "read_status"]

log = logging.getLogger("automod.moderation.health")


def heartbeat_path(store: Path) -> Path:
    return store.with_name(store.name + ".health.json")


def _epoch(dt: str | None) -> float | None:
    if not dt:
        return None
    try:
        return datetime.fromisoformat(dt.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Health:
    """Counters the stream thread and the wiki threads update; cheap and thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.events: deque[float] = deque()
        self.last_event_at: float | None = None
        self.last_event_dt: str | None = None
        #: Set just before the last heartbeat of a clean stop: when, and what stopped the run.
        self.stopped: dict[str, Any] | None = None

    def stop_cleanly(self, how: str) -> None:
        with self._lock:
            self.stopped = {"at": time.time(), "how": how}

    def saw_event(self, dt: str | None) -> None:
        now = time.time()
        with self._lock:
            self.events.append(now)
            self.last_event_at = now
            self.last_event_dt = dt
            while self.events and self.events[0] < now - 60:
                self.events.popleft()

    def snapshot(self, decisions: Counter[str], liftwing: dict[str, int], wikis: dict[str, Any],
                 stream_activity: float | None = None, stall_seconds: float | None = None) -> dict[str, Any]:
        """``stream_activity``: wall time anything (event, canary, comment) last arrived;
        ``stall_seconds``: how long the follower lets a connection stay silent before reopening it."""
        now = time.time()
        with self._lock:
            while self.events and self.events[0] < now - 60:
                self.events.popleft()
            event_time = _epoch(self.last_event_dt)
            requests = liftwing.get("requests", 0)
            heard = max(filter(None, (self.last_event_at, stream_activity)), default=None)
            return {
                "time": now,
                "pid": os.getpid(),
                "started": self.started,
                "events_per_minute": len(self.events),
                "last_event_received": heard,
                "stream_quiet_seconds": round(now - heard, 1) if heard else None,
                "stall_seconds": stall_seconds,
                "last_event_dt": self.last_event_dt,
                "lag_seconds": round(now - event_time, 1) if event_time else None,
                "decisions": dict(decisions),
                "liftwing": {**liftwing,
                             "error_rate": round(liftwing.get("errors", 0) / requests, 4) if requests else 0.0},
                "wikis": wikis,
                **({"stopped": self.stopped} if self.stopped else {}),
            }


class Heartbeat(threading.Thread):
    """Writes the heartbeat file and logs it every ``interval`` seconds until stopped."""

    def __init__(self, path: Path, interval: float, collect: Callable[[], dict[str, Any]]):
        super().__init__(name="heartbeat", daemon=True)
        self.path, self.interval, self.collect = path, interval, collect
        self.stopping = threading.Event()

    def beat(self) -> dict[str, Any]:
        data = self.collect()
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.path)
        log.info("heartbeat: lag %s s, %d events/min, decisions %s, Lift Wing error rate %s",
                 data["lag_seconds"], data["events_per_minute"], data["decisions"], data["liftwing"]["error_rate"])
        return data

    def run(self) -> None:
        self.beat()
        while not self.stopping.wait(self.interval):
            try:
                self.beat()
            except (OSError, AutomodError) as exc:  # a full or read-only disk: the workers say so
                log.warning("heartbeat not written: %s", exc)
            except Exception:  # the heartbeat must never take the bot down
                log.exception("heartbeat failed")

    def stop(self) -> None:
        self.stopping.set()


@dataclass(frozen=True)
class StatusLimits:
    max_silence_seconds: float = 600.0  # no stream event for this long: stalled
    max_lag_seconds: float = 300.0      # newest event older than this: lagging
    max_heartbeat_age: float = 180.0    # no heartbeat for this long: the process is gone
    max_undecided_seconds: float = 120.0  # an edit waiting this long for its decision: falling behind


def rate_limit_notes(data: dict[str, Any]) -> list[str]:
    """One line per wiki whose bot account lacks ``noratelimit``: not a failure (rollbacks are
    paced, none is lost while the edit is young), but a burst takes longer to revert."""
    return [f"{name}: rate-limited: {wiki['rate_limited']}"
            for name, wiki in sorted((data.get("wikis") or {}).items()) if wiki.get("rate_limited")]


def read_status(path: Path, limits: StatusLimits, now: float | None = None,
                store: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """The heartbeat and the list of problems with it (empty when all is well), each one
    line: the process gone (nobody holds ``store``'s instance lock), the heartbeat stale,
    a wiki's worker dead or an edit waiting too long, the stream silent or lagging."""
    now = time.time() if now is None else now
    if not path.exists():
        return {}, [f"no heartbeat at {path}: the bot has not run here"]
    try:
        data = json.loads(path.read_text())
        float(data["time"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {}, [f"unreadable heartbeat at {path}: {exc}"]
    problems = []
    stopped = data.get("stopped")
    running = store is not None and InstanceLock.holder(store) is not None
    if stopped and not running:  # the run ended on purpose: its workers finished, none died
        when = datetime.fromtimestamp(float(stopped.get("at", data["time"]))).astimezone().isoformat(" ", "seconds")
        return data, [f"stopped: not running since a clean stop at {when} ({stopped.get('how')}, "
                      f"pid {data.get('pid')})"]
    if store is not None and not running:
        problems.append(f"not running: no process holds {store} (last pid {data.get('pid')}) and it did not stop "
                        "cleanly (killed or crashed)")
    for name, wiki in sorted((data.get("wikis") or {}).items()):
        if wiki.get("alive") is False and not stopped:
            problems.append(f"{name}: the wiki's worker is dead")
        waited = wiki.get("oldest_undecided_seconds") or 0
        if waited > limits.max_undecided_seconds:
            problems.append(f"{name}: falling behind: an edit has waited {waited:.0f} s for its decision "
                            f"({wiki.get('queue')} queued)")
    age = now - data["time"]
    if age > limits.max_heartbeat_age:
        problems.append(f"stalled: last heartbeat {age:.0f} s ago")
    received = data.get("last_event_received") or data.get("started")
    if received is not None and data["time"] - received > limits.max_silence_seconds:
        problems.append(f"stalled: no stream event for {data['time'] - received:.0f} s")
    lag = data.get("lag_seconds")
    if lag is not None and lag > limits.max_lag_seconds:
        waiting = _what_waits(data)
        if waiting:
            problems.append(f"lagging: newest event is {lag:.0f} s old and {waiting}")
    return data, problems


def _what_waits(data: dict[str, Any]) -> str | None:
    """What makes an old newest event a lag (None: the stream is merely quiet): an edit queued
    or in hand, or a connection silent (no event, canary or comment) past the stall limit.
    A heartbeat from before these fields were written counts as waiting, as it always did."""
    wikis = data.get("wikis") or {}
    queued = sum(int(w.get("queue") or 0) for w in wikis.values())
    in_hand = [n for n, w in wikis.items() if (w.get("oldest_undecided_seconds") or 0) > 0]
    if queued or in_hand:
        return f"{queued} queued, undecided on {', '.join(sorted(in_hand)) or 'no wiki'}"
    quiet, stall = data.get("stream_quiet_seconds"), data.get("stall_seconds")
    if quiet is None or stall is None:
        return "the stream's activity is unknown" if "stream_quiet_seconds" not in data else None
    if quiet > stall:
        return f"nothing (event, canary, comment) has arrived for {quiet:.0f} s"
    return None


def quiet_note(data: dict[str, Any], limits: StatusLimits) -> str | None:
    """A note (not a problem) when the newest event is older than the lag limit but nothing waits."""
    lag = data.get("lag_seconds")
    if data.get("stopped") or lag is None or lag <= limits.max_lag_seconds or _what_waits(data):
        return None
    return f"quiet stream: newest event is {lag:.0f} s old, nothing waits, the connection is alive"
