"""How many bytes of answers a real gateway received: every ``query``, ``parse`` and
``compare`` answer is counted (as compact JSON, UTF-8) as it passes; the wiki still answers
every request, nothing is stood in for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

READS = ("query", "parse", "compare")


@dataclass
class AnswerBytes:
    """Bytes of the answers received, in all and per request (method, bytes)."""

    total: int = 0
    requests: list[tuple[str, int]] = field(default_factory=list)


@contextmanager
def counting_answers(gateway: Any) -> Iterator[AnswerBytes]:
    """Count the answers ``gateway``'s reads receive while the block runs."""
    counted = AnswerBytes()

    def counting(name: str) -> Any:
        real = getattr(gateway, name)

        def read(**params: Any) -> dict[str, Any]:
            answer = real(**params)
            size = len(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            counted.total += size
            counted.requests.append((name, size))
            return dict(answer)

        return read

    names = [name for name in READS if hasattr(gateway, name)]
    for name in names:
        setattr(gateway, name, counting(name))
    try:
        yield counted
    finally:
        for name in names:
            delattr(gateway, name)
