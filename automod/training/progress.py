"""A tiny progress bar on stderr (stdout stays machine-readable); no dependency.

Redraws at most ten times a second on a terminal; elsewhere (CI logs, pipes) prints one
line per 10% so logs stay short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Sized
from typing import TextIO, TypeVar

__all__ = ["Progress", "progress"]

T = TypeVar("T")


class Progress:
    """``with Progress("pages", total) as bar: bar.update()`` — total may be unknown (None)."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 enabled: bool = True) -> None:
        self.label, self.total, self.done = label, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self._last_draw >= 0.1:
                self._last_draw = now
                self.stream.write("\r" + self._line())
                self.stream.flush()
        elif self.total:
            decile = min(10, self.done * 10 // self.total)
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(self._line() + "\n")

    def _line(self) -> str:
        elapsed = time.monotonic() - self.started
        if self.total:
            filled = min(20, self.done * 20 // max(1, self.total))
            return (f"{self.label} [{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} "
                    f"{elapsed:.1f}s")
        return f"{self.label}: {self.done} {elapsed:.1f}s"

    def close(self) -> None:
        if self.enabled and (self.tty or not self.total):
            self.stream.write(("\r" if self.tty else "") + self._line() + "\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(items: Iterable[T], label: str, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Yield ``items``, drawing a bar as they go."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with Progress(label, total, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update()
