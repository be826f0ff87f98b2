"""The community's configuration record: one JSON page per wiki, parsed and validated here.

Pure (no I/O): reading the page from the wiki is :mod:`automod.onwiki.community_config`; this
module turns its text into a :class:`CommunityConfig` or the problems that disable the wiki,
so the skip rules and decisions below the wiki gateway can use the record.

Contract: docs/ARCHITECTURE.md (community config). The keys, types, limits and defaults are
defined once, in ``automod/schemas/community-config.schema.json`` (``config/`` links to it),
and checked with ``jsonschema``; only rules that span several keys (``models`` against
``model``, the report page a talk notice needs, models this wiki has) are written here.

Fail closed, always: invalid JSON, an unknown key, a wrong type, an out-of-range value, a
model this wiki cannot use (and, checked where the page is read, a page that ordinary users
could edit) each produce a :class:`ConfigProblem` with its JSON path, and a wiki with problems is disabled. There is
no fallback to an older revision: a vandalised page can only switch the bot off.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from automod.records import RevertMethod
from automod.schemas import (
    COMMUNITY_CONFIG,
    load_schema,
    schema_defaults,
    schema_problems,
)

__all__ = [
    "AppliedConfig",
    "CAUTION_LEVELS",
    "DEFAULTS",
    "CommunityConfig",
    "ConfigProblem",
    "ModelChoice",
    "ParsedConfig",
    "parse_config",
]

#: AutoModerator's named levels (``src/Util.php::getCautionLevel``): revert iff p > value.
CAUTION_LEVELS: dict[str, float] = {
    "very-cautious": 0.990,
    "cautious": 0.985,
    "somewhat-cautious": 0.980,
    "less-cautious": 0.975,
}
_PROPERTIES = load_schema(COMMUNITY_CONFIG)["properties"]
#: Explicit thresholds outside this range are refused (the schema's limits).
THRESHOLD_MIN: float = _PROPERTIES["threshold"]["minimum"]
THRESHOLD_MAX: float = _PROPERTIES["threshold"]["maximum"]
#: Every key's default, read from the schema.
DEFAULTS: dict[str, Any] = schema_defaults(COMMUNITY_CONFIG)
DEFAULT_SUMMARY: str = DEFAULTS["summary"]


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
    report_reviewer_rights: frozenset[str] = frozenset({"rollback"})
    trusted_restorer_rights: frozenset[str] = frozenset({"rollback"})
    report_answers_per_hour: int = 60
    report_answers_per_reporter_per_hour: int = 5
    help_page: str = ""
    summary: str = DEFAULT_SUMMARY
    warning_levels: int = 1
    warning_window_days: int = 2
    warning_trusted_right: str = "rollback"
    vandal_report_page: str = ""
    skip_editors_with_edits_at_least: int | None = None
    revert_method: RevertMethod = RevertMethod.ROLLBACK
    skip_editors_min_account_days: int = 30
    breaker_heal_seconds: int = 1800
    exclusion_min_age_days: int = 7

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


@dataclass(frozen=True)
class AppliedConfig:
    """The config a wiki runs under: the page revision read, and its config or its problems."""

    rev_id: int | None
    config: CommunityConfig | None
    problems: tuple[ConfigProblem, ...]
    #: The page whose revision governs (``<wiki>:<title>`` for the central page); None: the local one.
    page: str | None = None


def parse_config(text: str, available_models: Collection[str]) -> ParsedConfig:
    """Return the config in ``text`` (the page's JSON), or every problem found in it."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        return ParsedConfig(None, (ConfigProblem("$", f"not valid JSON: {exc}"),))
    if not isinstance(data, dict):
        return ParsedConfig(None, (ConfigProblem("$", "the page should hold a JSON object"),))
    problems = [ConfigProblem(p.path, p.message) for p in schema_problems(data, COMMUNITY_CONFIG)]
    page = {**DEFAULTS, **data}
    problems += _cross_key_problems(data, page, available_models, problems)
    if problems:
        return ParsedConfig(None, tuple(problems))
    talk = {**DEFAULTS["talk_notice"], **page["talk_notice"]}
    warnings = {**DEFAULTS["warnings"], **page["warnings"]}
    experienced = page["skip_editors_with_edits_at_least"]
    return ParsedConfig(CommunityConfig(
        enabled=page["enabled"], mode=page["mode"], models=_model_choices(data),
        skip_rights=frozenset(page["skip_rights"]),
        max_reverts_per_user_per_page=int(page["max_reverts_per_user_per_page"]),
        max_edit_age_minutes=int(page["max_edit_age_minutes"]),
        max_reverts_per_hour=int(page["max_reverts_per_hour"]),
        minor=page["minor"], talk_notice_enabled=talk["enabled"], talk_notice_registered_only=talk["registered_only"],
        false_positive_page=page["false_positive_page"], help_page=page["help_page"], summary=page["summary"],
        report_reviewer_rights=frozenset(page["report_reviewer_rights"]),
        trusted_restorer_rights=frozenset(page["trusted_restorer_rights"]),
        report_answers_per_hour=int(page["report_answers_per_hour"]),
        report_answers_per_reporter_per_hour=int(page["report_answers_per_reporter_per_hour"]),
        warning_levels=int(warnings["levels"]), warning_window_days=int(warnings["window_days"]),
        warning_trusted_right=str(warnings["trusted_right"]), vandal_report_page=page["vandal_report_page"],
        skip_editors_with_edits_at_least=int(experienced) if experienced is not None else None,
        revert_method=RevertMethod(page["revert_method"]),
        skip_editors_min_account_days=int(page["skip_editors_min_account_days"]),
        breaker_heal_seconds=int(page["breaker_heal_seconds"]),
        exclusion_min_age_days=int(page["exclusion_min_age_days"]),
    ))


def _refuse_constant(name: str) -> float:
    """NaN and Infinity are not JSON, and no limit can compare with them."""
    raise ValueError(f"{name} is not a number JSON allows")


def _model_choices(data: dict[str, Any]) -> tuple[ModelChoice, ...]:
    entries = data["models"] if data.get("models") is not None else [data]
    return tuple(ModelChoice(str(entry.get("model", DEFAULTS["model"])), _threshold(entry)) for entry in entries)


def _threshold(entry: dict[str, Any]) -> float:
    if entry.get("threshold") is not None:
        return float(entry["threshold"])
    return CAUTION_LEVELS[entry.get("caution_level", DEFAULTS["caution_level"])]


def _cross_key_problems(data: dict[str, Any], page: dict[str, Any], available: Collection[str],
                        found: list[ConfigProblem]) -> list[ConfigProblem]:
    """The rules no single key's schema can say; skipped for keys the schema already refused."""
    refused = {p.path.split("[")[0].split(".")[1] if "." in p.path else "" for p in found}
    problems: list[ConfigProblem] = []
    if data.get("models") is not None and {"model", "threshold", "caution_level"} & set(data):
        problems.append(ConfigProblem("$.models", "use either models or model/threshold/caution_level, not both"))
    if "models" not in refused and "model" not in refused:
        entries = data["models"] if data.get("models") is not None else [data]
        paths = [f"$.models[{i}].model" for i in range(len(entries))] if data.get("models") is not None else ["$.model"]
        names = [str(entry.get("model", DEFAULTS["model"])) for entry in entries]
        for path, name in zip(paths, names):
            if name not in available:
                problems.append(ConfigProblem(
                    path, f"model {name!r} is not available on this wiki (available: {', '.join(sorted(available))})"))
        if len(set(names)) != len(names):
            problems.append(ConfigProblem("$.models", "lists a model twice"))
    talk = page["talk_notice"] if isinstance(page["talk_notice"], dict) else {}
    fp_page = page["false_positive_page"]
    if talk.get("enabled") is True and isinstance(fp_page, str) and not fp_page.strip():
        problems.append(ConfigProblem("$.false_positive_page", "required when talk_notice.enabled is true"))
    if "summary" not in refused and not page["summary"].strip():
        problems.append(ConfigProblem("$.summary", "must not be empty"))
    return problems
