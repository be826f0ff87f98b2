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

__all__ = ["ARENAS", "TRIM_INTERVAL", "limit_arenas", "release_free_memory"]

log = logging.getLogger("automod.moderation.memory")

#: glibc's malloc arenas at most (its default is 8 per core): each thread that meets contention
#: gets an arena of its own whose freed pages stay there, so a bot of a dozen threads fragments
#: across a dozen heaps. Two is the usual setting for long-running Python services
#: (``MALLOC_ARENA_MAX=2``); the bot's threads mostly wait on the network.
ARENAS = 2
#: ``mallopt``'s parameter number for it (glibc's malloc.h).
_M_ARENA_MAX = -8

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


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas (call before the threads start); False where the C library has no
    ``mallopt`` or refuses. An operator's ``MALLOC_ARENA_MAX`` wins: glibc read it at start."""
    import os

    _malloc_trim()
    mallopt = getattr(_libc, "mallopt", None) if _libc else None
    if mallopt is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (nothing where the C library cannot)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
