"""How many bytes of revision text a real gateway received: its ``query`` answers are counted
as they pass (the wiki still answers every request; nothing is stood in for)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ContentReads:
    """Bytes of revision text received (UTF-8), in all and in section reads (``rvsection``)."""

    total: int = 0
    sectioned: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)


def _text_bytes(answer: dict[str, Any]) -> int:
    pages = (answer.get("query") or {}).get("pages") or []
    return sum(len(str(slot.get("content", "")).encode("utf-8"))
               for page in pages for rev in page.get("revisions", []) for slot in (rev.get("slots") or {}).values())


@contextmanager
def counting_content(gateway: Any) -> Iterator[ContentReads]:
    """Count the revision text ``gateway.query`` receives while the block runs."""
    reads = ContentReads()
    real = gateway.query

    def query(**params: Any) -> dict[str, Any]:
        answer = real(**params)
        size = _text_bytes(answer)
        reads.total += size
        if "rvsection" in params:
            reads.sectioned += size
        reads.requests.append({**params, "bytes": size})
        return answer

    gateway.query = query
    try:
        yield reads
    finally:
        del gateway.query
