"""The worker's "free memory" chore gives freed heap pages back to the system (issue 29)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from automod.moderation.memory import release_free_memory


def _heap_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon")


def _churn(kept: list[bytes]) -> None:
    """What a worker does between events: many response-sized objects, nearly all freed, a few
    kept (so the freed pages are holes inside the arena, never at its top)."""
    made = [bytes(2048) + i.to_bytes(4, "little") for i in range(40_000)]  # ~80 MiB in this thread's arena
    kept.extend(made[::500])
    del made


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_freed_memory_goes_back_to_the_system() -> None:
    kept: list[bytes] = []
    thread = threading.Thread(target=_churn, args=(kept,))
    thread.start()
    thread.join()
    before = _heap_mib()
    release_free_memory()
    after = _heap_mib()
    assert before - after > 40, f"the heap went from {before:.1f} to {after:.1f} MiB"
    assert len(kept) == 80
