"""The poison catalogue: bad events shaped from a real one, each of which must be refused alone.

The catalogue tests/moderation/test_poison_sandbox.py serves through the relay (issue 15) — not JSON, not
objects, huge integers, nulls and wrong types in every required field, a 5 MB event,
invalid UTF-8, deep nesting, a lone surrogate — shared by that test and the stream's framing tests.
"""

from __future__ import annotations

import copy
import json
from typing import Any

REQUIRED_FIELDS = ("meta", "type", "wiki", "namespace", "title", "user", "bot", "timestamp", "revision")


def poison_catalogue(template: dict[str, Any]) -> list[bytes]:
    """Bad events shaped from ``template`` (a real recent-change event), as the bytes of ``data:``."""
    def variant(path: tuple[str, ...], value: Any) -> bytes:
        event = copy.deepcopy(template)
        target = event
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return json.dumps(event).encode()

    poison = [b"[1,2,3]", b"null", b"42", b'"text"', b"{", b"[" * 100_000 + b"]" * 100_000,
              b'{"meta": {"id": "\xff\xfe"}, "type": "edit"}',
              json.dumps(template).replace('"title": "', '"title": "\\ud800').encode(),
              variant(("revision", "new"), 2**70), variant(("timestamp",), -(2**80)),
              variant(("comment",), "x" * 5_000_000)]
    for key in REQUIRED_FIELDS:
        poison.append(variant((key,), None))
        poison.append(variant((key,), [1, {"a": None}]))
    return poison
