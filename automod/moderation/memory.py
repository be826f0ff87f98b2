"""Giving the heap's free pages back to the system, so a bot that runs for weeks keeps a flat RSS.

CPython frees objects into the C allocator; glibc keeps freed pages inside each thread's arena
(the worker, the prefetch pool, the stream thread) unless they sit at an arena's top, so RSS
creeps up with traffic although nothing lives longer (issue 29's soak: the Python heap flat per
tracemalloc, RSS growing). ``malloc_trim(0)`` returns every arena's whole free pages; elsewhere
(musl, macOS) it is absent and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Any

__all__ = ["TRIM_INTERVAL", "release_free_memory"]

log = logging.getLogger("automod.moderation.memory")

#: Seconds between two trims (a worker's chore): cheap (milliseconds for a heap of ~50 MiB).
TRIM_INTERVAL = 60.0

_libc: Any = None


def _malloc_trim() -> Any:
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        except OSError:
            _libc = False
    return getattr(_libc, "malloc_trim", None) if _libc else None


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (nothing where the C library cannot)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
