"""The JSON Schemas that define automod's two configuration files, and checks against them.

``community-config.schema.json`` is the on-wiki page a community edits;
``settings.schema.json`` is the operator's YAML file. Each schema is the single source of
truth for its keys, types, limits and defaults: a new key is added there, once, and both
the check and the defaults follow. Validation uses the ``jsonschema`` library with the
2020-12 dialect (the one MediaWiki's CommunityConfiguration extension uses).

Every failure becomes a :class:`SchemaProblem` naming the JSON path and the rule broken, in
words a wiki admin can act on. A property may carry an ``x-error`` annotation (ignored by
validators) that replaces the generic wording for that property.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

__all__ = ["COMMUNITY_CONFIG", "SETTINGS", "SchemaProblem", "did_you_mean", "load_schema", "schema_defaults",
           "schema_problems"]

COMMUNITY_CONFIG = "community-config.schema.json"
SETTINGS = "settings.schema.json"

_TYPE_WORDS = {
    "boolean": "true or false", "number": "a number", "integer": "an integer", "string": "a string",
    "array": "a list", "object": "an object", "null": "null",
}


@dataclass(frozen=True)
class SchemaProblem:
    """One rule a document breaks: where (``$.models[0].threshold``) and what, in words;
    for an unknown key, the known key it most resembles (``suggestion``), if any."""

    path: str
    message: str
    rule: str
    suggestion: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema file ``name`` shipped inside this package (checked to be a valid schema)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def schema_defaults(name: str) -> dict[str, Any]:
    """The top-level ``default`` of every property of schema ``name``."""
    props = load_schema(name)["properties"]
    return {key: prop["default"] for key, prop in props.items() if "default" in prop}


def schema_problems(document: Any, name: str, root: str = "$") -> list[SchemaProblem]:
    """Every way ``document`` breaks schema ``name``, in document order, paths under ``root``."""
    validator = jsonschema.Draft202012Validator(load_schema(name))
    problems: list[SchemaProblem] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        seen = {(p.path, p.message) for p in problems}
        problems.extend(p for p in _explain(error, root) if (p.path, p.message) not in seen)
    order = list(load_schema(name).get("properties", {}))

    def schema_order(problem: SchemaProblem) -> int:
        """Problems in the order the schema lists its keys (user_agent before store…)."""
        key = problem.path[len(root):].lstrip(".").split(".")[0].split("[")[0]
        return order.index(key) if key in order else len(order)
    return sorted(problems, key=schema_order)


def _path(root: str, parts: Any) -> str:
    out = root
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _explain(error: jsonschema.ValidationError, root: str) -> list[SchemaProblem]:
    path = _path(root, error.absolute_path)
    # JSON values of our own schemas and documents: Any, as the stubs' unions (Unset, bool schemas) do not occur.
    rule = str(error.validator)
    schema: Any = error.schema
    value: Any = error.instance
    expected: Any = error.validator_value
    if rule == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        problems = []
        for key in sorted(set(value) - set(allowed)):
            guess = did_you_mean(key, allowed)
            message = f"unknown key (did you mean {guess}?)" if guess else "unknown key"
            problems.append(SchemaProblem(_path(root, [*error.absolute_path, key]), message, rule, guess))
        return problems
    custom = schema.get("x-error") if isinstance(schema, dict) else None
    if custom and rule != "required":
        return [SchemaProblem(path, f"{custom}, got {_show(value)}", rule)]
    if rule == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(t, str(t)) for t in wanted if t != "null")
        message = f"should be {words}, got {_show(value)}"
    elif rule == "enum":
        message = f"should be one of {', '.join(map(str, expected))}; got {_show(value)}"
    elif rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        message = _range_message(schema, value)
    elif rule == "minItems":
        message = "should be a non-empty list" if expected == 1 else f"should list at least {expected} items"
    elif rule == "minLength":
        message = "must not be empty" if expected == 1 else f"should be at least {expected} characters"
    elif rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [SchemaProblem(_path(root, [*error.absolute_path, missing]), "is required", rule)]
    elif rule == "pattern":
        message = f"should match {expected}, got {_show(value)}"
    else:
        message = error.message
    return [SchemaProblem(path, message, rule)]


def did_you_mean(key: object, known: list[str]) -> str | None:
    """The known key a typo most resembles (difflib, as ``treshold`` → ``threshold``), or None."""
    if not isinstance(key, str):
        return None
    folded = {name.lower(): name for name in known}
    close = difflib.get_close_matches(key.lower(), list(folded), n=1, cutoff=0.75)
    return folded[close[0]] if close else None


def _range_message(schema: dict[str, Any], value: Any) -> str:
    if "exclusiveMinimum" in schema and schema["exclusiveMinimum"] == 0 and "maximum" not in schema:
        return f"should be a positive number, got {_show(value)}"
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and high is not None:
        return f"should be between {low} and {high}, got {_show(value)}"
    if low is not None:
        return f"should be at least {low}, got {_show(value)}"
    return f"should be at most {high}, got {_show(value)}"


def _show(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        return repr(value)
