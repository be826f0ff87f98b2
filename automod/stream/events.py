"""Recent-change events, parsed strictly at the edge.

The stream's JSON becomes a frozen :class:`RecentChange` here; nothing past this module
sees a raw dict. Anything that does not look like a ``mediawiki/recentchange`` event
raises :class:`~automod.errors.MalformedEvent` (one error type, whatever went wrong),
which the follower logs and skips.

MediaWiki's RCFeed calls the parent revision ``revision.old`` and this edit's revision
``revision.new`` (``MachineReadableRCFeedFormatter``); we name them ``parent_id`` and
``rev_id`` so no one has to remember that.
"""

from __future__ import annotations

import json
from typing import Any

from automod.errors import MalformedEvent
from automod.records import CANARY_DOMAIN, EventMeta, RecentChange

# The records are defined in automod.records; re-exported here, where the stream makes them.
__all__ = ["CANARY_DOMAIN", "MAX_EVENT_BYTES", "EventMeta", "RecentChange", "decode_json", "is_canary", "parse_event"]

_KNOWN_TYPES = frozenset({"edit", "new", "log", "categorize", "external"})
#: Real recentchange events are a few kB; anything this large is not one (and is not parsed).
MAX_EVENT_BYTES = 1_000_000
#: Integers must fit SQLite's signed 64-bit INTEGER, or storing them fails far from here.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def is_canary(data: dict[str, Any]) -> bool:
    """True for Wikimedia's minutely canary events (checked before strict parsing)."""
    meta = data.get("meta")
    return isinstance(meta, dict) and meta.get("domain") == CANARY_DOMAIN


def parse_event(raw: str | bytes | dict[str, Any]) -> RecentChange:
    """Return the :class:`RecentChange` in ``raw`` (JSON text or an already decoded dict).

    Raises MalformedEvent for invalid JSON, a missing field or a field of the wrong type.
    """
    if isinstance(raw, dict):
        data = raw
    elif isinstance(raw, (str, bytes, bytearray)):
        data = decode_json(raw)
    else:
        raise MalformedEvent(f"expected JSON text or an object, got {type(raw).__name__}")
    if not isinstance(data, dict):
        raise MalformedEvent(f"expected a JSON object, got {type(data).__name__}")
    meta_raw = _obj(data, "meta")
    meta = EventMeta(
        id=_str(meta_raw, "id", "meta.id"),
        dt=_str(meta_raw, "dt", "meta.dt"),
        domain=_str(meta_raw, "domain", "meta.domain"),
        stream=_str(meta_raw, "stream", "meta.stream"),
        uri=_opt_str(meta_raw, "uri", "meta.uri"),
        request_id=_opt_str(meta_raw, "request_id", "meta.request_id"),
        topic=_opt_str(meta_raw, "topic", "meta.topic"),
        partition=_opt_int(meta_raw, "partition", "meta.partition"),
        offset=_opt_int(meta_raw, "offset", "meta.offset"),
    )
    type_ = _str(data, "type")
    if type_ not in _KNOWN_TYPES:
        raise MalformedEvent(f"unknown change type {type_!r}")
    wiki, server_name = _str(data, "wiki"), _str(data, "server_name")
    namespace, title = _int(data, "namespace"), _str(data, "title")
    user, bot, timestamp = _str(data, "user"), _bool(data, "bot"), _int(data, "timestamp")
    revision = _opt_obj(data, "revision")
    length = _opt_obj(data, "length")
    rev_id = _opt_int(revision, "new", "revision.new")
    parent_id = _opt_int(revision, "old", "revision.old")
    if type_ in ("edit", "new") and rev_id is None:
        raise MalformedEvent(f"missing field revision.new (required for type {type_!r})")
    if type_ == "edit" and parent_id is None:
        raise MalformedEvent("missing field revision.old (required for type 'edit')")
    return RecentChange(
        meta=meta,
        wiki=wiki,
        server_name=server_name,
        type=type_,
        namespace=namespace,
        title=title,
        user=user,
        bot=bot,
        timestamp=timestamp,
        comment=_opt_str(data, "comment") or "",
        minor=bool(_opt_bool(data, "minor")),
        rc_id=_opt_int(data, "id"),
        rev_id=rev_id,
        parent_id=parent_id,
        length_old=_opt_int(length, "old", "length.old"),
        length_new=_opt_int(length, "new", "length.new"),
        **_log_fields(data) if type_ == "log" else {},
    )


def _log_fields(data: dict[str, Any]) -> dict[str, str | None]:
    """A log event's type and action, and a move's target (``log_params.target``). The
    params of other logs vary (a list, an object, a string): only a move's are read."""
    log_type, log_action = _opt_str(data, "log_type"), _opt_str(data, "log_action")
    target = None
    if log_type == "move":
        params = data.get("log_params")
        if not isinstance(params, dict):
            raise _wrong("log_params", "an object", params)
        target = _str(params, "target", "log_params.target")
    return {"log_type": log_type, "log_action": log_action, "move_target": target}


def decode_json(raw: str | bytes | bytearray) -> Any:
    """``json.loads`` whose every failure (bad JSON, invalid UTF-8, nesting too deep for the
    parser) is a :class:`MalformedEvent`: one poison event must never stop the stream."""
    if len(raw) > MAX_EVENT_BYTES:
        raise MalformedEvent(f"event of {len(raw)} bytes is larger than {MAX_EVENT_BYTES}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise MalformedEvent("not JSON: nested too deeply") from exc


# Field readers: each names the JSON path in its error so a bad event is easy to find.

def _missing(path: str) -> MalformedEvent:
    return MalformedEvent(f"missing field {path}")


def _wrong(path: str, want: str, value: Any) -> MalformedEvent:
    return MalformedEvent(f"field {path} should be {want}, got {type(value).__name__}")


def _obj(data: dict[str, Any], key: str, path: str | None = None) -> dict[str, Any]:
    if key not in data:
        raise _missing(path or key)
    value = data[key]
    if not isinstance(value, dict):
        raise _wrong(path or key, "an object", value)
    return value


def _opt_obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong(key, "an object", value)
    return value


def _text(path: str, value: str) -> str:
    """A string that can be stored and printed: lone surrogates (``"\\ud800"``) cannot."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedEvent(f"field {path} is not valid Unicode") from exc
    return value


def _in_range(path: str, value: int) -> int:
    if not _INT_MIN <= value <= _INT_MAX:
        raise MalformedEvent(f"field {path} is out of range: {str(value)[:40]}")
    return value


def _str(data: dict[str, Any], key: str, path: str | None = None) -> str:
    if key not in data:
        raise _missing(path or key)
    value = data[key]
    if not isinstance(value, str):
        raise _wrong(path or key, "a string", value)
    return _text(path or key, value)


def _opt_str(data: dict[str, Any], key: str, path: str | None = None) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _wrong(path or key, "a string", value)
    return value if value is None else _text(path or key, value)


def _int(data: dict[str, Any], key: str, path: str | None = None) -> int:
    if key not in data:
        raise _missing(path or key)
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise _wrong(path or key, "an integer", value)
    return _in_range(path or key, value)


def _opt_int(data: dict[str, Any], key: str, path: str | None = None) -> int | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _wrong(path or key, "an integer", value)
    return value if value is None else _in_range(path or key, value)


def _bool(data: dict[str, Any], key: str) -> bool:
    if key not in data:
        raise _missing(key)
    value = data[key]
    if not isinstance(value, bool):
        raise _wrong(key, "a boolean", value)
    return value


def _opt_bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise _wrong(key, "a boolean", value)
    return value
