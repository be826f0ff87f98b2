"""Where one event's time goes on the way to its rollback: the client-side time of each step
of the hot path (queue hand-off, store reads and writes, the context read, waiting for the
score, the rollback request…), logged with the rollback's line so an operator sees it and
``benchmarks/bench_decisions.py --breakdown`` can print the figures instead of guessing."""

from __future__ import annotations

import re
import time

__all__ = ["Laps", "parse_laps", "parse_start"]

_LAP = re.compile(r"([a-z][a-z-]*)=([0-9.]+)")
_START = re.compile(r"laps\[ms\] from ([0-9.]+): ")


class Laps:
    """Laps from ``start`` (``time.monotonic()``): each :meth:`lap` closes the step named."""

    def __init__(self, start: float) -> None:
        self.start = start
        self._last = start
        self.steps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.steps.append((name, (now - self._last) * 1000))
        self._last = now

    def render(self) -> str:
        """``laps[ms] from 1234.5678: queue=0.3 context-read=27.9 …`` (from: ``start``, the
        monotonic clock every process of the machine shares), steps merged by name in first order."""
        merged: dict[str, float] = {}
        for name, ms in self.steps:
            merged[name] = merged.get(name, 0.0) + ms
        return f"laps[ms] from {self.start:.4f}: " + " ".join(f"{name}={ms:.2f}" for name, ms in merged.items())


def _last_start(line: str) -> re.Match[str] | None:
    """The last ``laps[ms] from …:`` of ``line``: the laps end the line, whatever a title or
    user name quoted before them contains."""
    found = None
    for found in _START.finditer(line):
        pass
    return found


def parse_laps(line: str) -> dict[str, float]:
    """The laps of a log line written with :meth:`Laps.render` (empty when it has none)."""
    found = _last_start(line)
    return {m.group(1): float(m.group(2)) for m in _LAP.finditer(line, found.end())} if found else {}


def parse_start(line: str) -> float | None:
    """When the event of a :meth:`Laps.render` line was received (``time.monotonic()``)."""
    found = _last_start(line)
    return float(found.group(1)) if found else None
