"""The community's on-wiki configuration: one JSON page per wiki, parsed and validated.

Contract: DESIGN.md 4.1; machine-readable schema in ``config/community-config.schema.json``
(kept equal to :data:`DEFAULTS` and the checks below by ``tests/test_community_config.py``).

Fail closed, always: invalid JSON, an unknown key, a wrong type, an out-of-range value, a
model this wiki cannot use, or a page that ordinary users could edit each produce a
:class:`ConfigProblem` with its JSON path, and a wiki with problems is disabled. There is
no fallback to an older revision: a vandalised page can only switch the bot off.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CAUTION_LEVELS",
    "DEFAULTS",
    "CommunityConfig",
    "ConfigProblem",
    "ModelChoice",
    "ParsedConfig",
    "config_page_problem",
    "parse_config",
]

#: AutoModerator's named levels (``src/Util.php::getCautionLevel``): revert iff p > value.
CAUTION_LEVELS: dict[str, float] = {
    "very-cautious": 0.990,
    "cautious": 0.985,
    "somewhat-cautious": 0.980,
    "less-cautious": 0.975,
}
#: Explicit thresholds outside this range are refused (AutoModerator's multilingual floor
#: is 0.85, commit 8728e7f); below it the models' precision is too low to act unattended.
THRESHOLD_MIN, THRESHOLD_MAX = 0.85, 0.999
DEFAULT_SUMMARY = (
    "Reverted edit by [[Special:Contributions/$2|$2]] (score $3 with $4). "
    "Wrong? [[$5|Report it]]"
)

DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "mode": "log-only",
    "model": "revertrisk-language-agnostic",
    "models": None,
    "caution_level": "very-cautious",
    "threshold": None,
    "skip_rights": ["bot", "autopatrol"],
    "max_reverts_per_user_per_page": 1,
    "max_edit_age_minutes": 10,
    "max_reverts_per_hour": 30,
    "minor": False,
    "talk_notice": {"enabled": False, "registered_only": False},
    "false_positive_page": "",
    "help_page": "",
    "summary": DEFAULT_SUMMARY,
}
# Upper bounds, so that a vandalised page cannot make the bot revert much more.
LIMITS = {
    "max_reverts_per_user_per_page": (0, 10),
    "max_edit_age_minutes": (1, 1440),
    "max_reverts_per_hour": (1, 500),
}


@dataclass(frozen=True)
class ConfigProblem:
    """One reason a config page cannot be used, with the JSON path it concerns."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class ModelChoice:
    model: str
    threshold: float


@dataclass(frozen=True)
class CommunityConfig:
    enabled: bool = False
    mode: str = "log-only"
    models: tuple[ModelChoice, ...] = (ModelChoice("revertrisk-language-agnostic", 0.990),)
    skip_rights: frozenset[str] = frozenset({"bot", "autopatrol"})
    max_reverts_per_user_per_page: int = 1
    max_edit_age_minutes: int = 10
    max_reverts_per_hour: int = 30
    minor: bool = False
    talk_notice_enabled: bool = False
    talk_notice_registered_only: bool = False
    false_positive_page: str = ""
    help_page: str = ""
    summary: str = DEFAULT_SUMMARY

    @property
    def model(self) -> str:
        """The primary model (the first one when several must agree)."""
        return self.models[0].model

    @property
    def threshold(self) -> float:
        return self.models[0].threshold

    @property
    def reverting(self) -> bool:
        return self.enabled and self.mode == "revert"


@dataclass(frozen=True)
class ParsedConfig:
    """A config page revision: either a usable config or the problems that disable it."""

    config: CommunityConfig | None
    problems: tuple[ConfigProblem, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return self.config is not None and not self.problems


def config_page_problem(title: str, namespace: int, content_model: str | None, bot_user: str) -> ConfigProblem | None:
    """Refuse config pages that ordinary users could edit.

    Allowed: the MediaWiki namespace (8; editing needs ``editinterface`` and, for ``.json``,
    ``editsitejson``) or a ``.json`` subpage of the bot's own user page (namespace 2; only the
    bot and holders of ``edituserjson`` can edit it).
    """
    if content_model not in (None, "json"):
        return ConfigProblem("$page", f"{title} has content model {content_model!r}, not json")
    if namespace == 8:
        return None
    if namespace == 2:
        base, _, rest = title.partition(":")[2].partition("/")
        if base.replace("_", " ") == bot_user.replace("_", " ") and rest and title.endswith(".json"):
            return None
    return ConfigProblem(
        "$page",
        f"{title} can be edited by ordinary users; use a MediaWiki: page or "
        f"User:{bot_user}/<name>.json",
    )


def parse_config(text: str, available_models: Collection[str]) -> ParsedConfig:
    """Return the config in ``text`` (the page's JSON), or every problem found in it."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return ParsedConfig(None, (ConfigProblem("$", f"not valid JSON: {exc}"),))
    problems: list[ConfigProblem] = []
    if not isinstance(data, dict):
        return ParsedConfig(None, (ConfigProblem("$", "the page should hold a JSON object"),))
    for key in sorted(set(data) - set(DEFAULTS)):
        problems.append(ConfigProblem(f"$.{key}", "unknown key"))
    v = _Validator(data, problems)
    enabled = v.boolean("enabled")
    mode = v.choice("mode", ("revert", "log-only"))
    models = _models(v, data, problems, available_models)
    skip_rights = v.string_list("skip_rights")
    minor = v.boolean("minor")
    limits = {key: v.integer(key, *LIMITS[key]) for key in LIMITS}
    talk = _talk_notice(data.get("talk_notice", DEFAULTS["talk_notice"]), problems)
    fp_page = v.string("false_positive_page")
    if talk[0] and not fp_page.strip():
        problems.append(ConfigProblem("$.false_positive_page", "required when talk_notice.enabled is true"))
    help_page = v.string("help_page")
    summary = v.string("summary")
    if not summary.strip():
        problems.append(ConfigProblem("$.summary", "must not be empty"))
    if problems:
        return ParsedConfig(None, tuple(problems))
    return ParsedConfig(CommunityConfig(
        enabled=enabled, mode=mode, models=models, skip_rights=frozenset(skip_rights),
        max_reverts_per_user_per_page=limits["max_reverts_per_user_per_page"],
        max_edit_age_minutes=limits["max_edit_age_minutes"],
        max_reverts_per_hour=limits["max_reverts_per_hour"],
        minor=minor, talk_notice_enabled=talk[0], talk_notice_registered_only=talk[1],
        false_positive_page=fp_page, help_page=help_page, summary=summary,
    ))


def _models(v: _Validator, data: dict[str, Any], problems: list[ConfigProblem],
            available: Collection[str]) -> tuple[ModelChoice, ...]:
    if data.get("models") is not None:
        raw = data["models"]
        if "model" in data or "threshold" in data or "caution_level" in data:
            problems.append(ConfigProblem("$.models", "use either models or model/threshold/caution_level, not both"))
        if not isinstance(raw, list) or not raw:
            problems.append(ConfigProblem("$.models", "should be a non-empty list"))
            return ()
        out = []
        for i, item in enumerate(raw):
            path = f"$.models[{i}]"
            if not isinstance(item, dict):
                problems.append(ConfigProblem(path, "should be an object"))
                continue
            for key in sorted(set(item) - {"model", "threshold", "caution_level"}):
                problems.append(ConfigProblem(f"{path}.{key}", "unknown key"))
            sub = _Validator(item, problems, prefix=path, defaults={"caution_level": "very-cautious"})
            out.append(ModelChoice(_model_name(sub, available), _threshold(sub)))
        names = [m.model for m in out]
        if len(set(names)) != len(names):
            problems.append(ConfigProblem("$.models", "lists a model twice"))
        return tuple(out)
    return (ModelChoice(_model_name(v, available), _threshold(v)),)


def _model_name(v: _Validator, available: Collection[str]) -> str:
    name = v.string("model", default="revertrisk-language-agnostic")
    if name and name not in available:
        v.problem("model", f"model {name!r} is not available on this wiki (available: {', '.join(sorted(available))})")
    return name


def _threshold(v: _Validator) -> float:
    level = v.choice("caution_level", tuple(CAUTION_LEVELS))
    if v.data.get("threshold") is None:
        return CAUTION_LEVELS.get(level, 1.0)
    return v.number("threshold", THRESHOLD_MIN, THRESHOLD_MAX)


def _talk_notice(raw: Any, problems: list[ConfigProblem]) -> tuple[bool, bool]:
    if not isinstance(raw, dict):
        problems.append(ConfigProblem("$.talk_notice", "should be an object"))
        return False, False
    for key in sorted(set(raw) - {"enabled", "registered_only"}):
        problems.append(ConfigProblem(f"$.talk_notice.{key}", "unknown key"))
    v = _Validator(raw, problems, prefix="$.talk_notice", defaults={"enabled": False, "registered_only": False})
    return v.boolean("enabled"), v.boolean("registered_only")


class _Validator:
    """Typed reads of one JSON object; each failure becomes a ConfigProblem with its path."""

    def __init__(self, data: dict[str, Any], problems: list[ConfigProblem], prefix: str = "$",
                 defaults: dict[str, Any] | None = None):
        self.data, self.problems, self.prefix = data, problems, prefix
        self.defaults = DEFAULTS if defaults is None else defaults

    def problem(self, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(f"{self.prefix}.{key}", message))

    def _get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, self.defaults.get(key, default))

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            self.problem(key, f"should be true or false, got {json.dumps(value)}")
            return False
        return value

    def string(self, key: str, default: str = "") -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            self.problem(key, f"should be a string, got {json.dumps(value)}")
            return ""
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self._get(key)
        if value not in allowed:
            self.problem(key, f"should be one of {', '.join(allowed)}; got {json.dumps(value)}")
            return ""
        return str(value)

    def string_list(self, key: str) -> list[str]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
            self.problem(key, "should be a list of right names")
            return []
        return list(value)

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(key, f"should be an integer, got {json.dumps(value)}")
            return 0
        if not low <= value <= high:
            self.problem(key, f"should be between {low} and {high}, got {value}")
        return value

    def number(self, key: str, low: float, high: float) -> float:
        value = self.data.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            self.problem(key, f"should be a number, got {json.dumps(value)}")
            return 1.0
        if not low <= value <= high:
            self.problem(key, f"should be between {low} and {high}, got {value}")
            return 1.0
        return float(value)
