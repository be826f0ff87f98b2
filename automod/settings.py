"""Operator settings: the YAML file that says which wikis the bot serves and where things are.

Contract (docs/ARCHITECTURE.md, operator settings): ``user_agent``, ``store``, ``stream.url``,
``liftwing.url``, ``liftwing.token_env`` and ``wikis`` (``name``, ``api``, ``config_page``, ``lang``).
Credentials never live here: they stay in pywikibot's own files (``pywikibot_dir``).
Relative paths are resolved against the settings file's folder, so a settings file and its
store can move together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from automod.errors import ConfigError
from automod.schemas import SETTINGS, SchemaProblem, load_schema, schema_problems

__all__ = ["CentralConfigSettings", "HealthSettings", "LiftWingSettings", "ScoringSettings", "Settings",
           "StreamSettings", "WikiSettings", "load_settings"]

DEFAULT_CONFIG_PAGE = "MediaWiki:Automod-config.json"


@dataclass(frozen=True)
class StreamSettings:
    url: str
    #: Reconnect when nothing (event, canary or comment) arrived for this long.
    #: Wikimedia sends a canary every minute, so two minutes of silence is a stall.
    stall_seconds: float = 120.0


@dataclass(frozen=True)
class LiftWingSettings:
    url: str = "https://api.wikimedia.org/service/lw/inference/v1/models/"
    token_env: str | None = None


@dataclass(frozen=True)
class ScoringSettings:
    """How a wiki's queued candidates are scored ahead of their (sequential) decisions: a
    remote scorer's latency, not the bot's own work, is what bounds a wiki's throughput."""

    #: Scoring requests one wiki may have in flight at once (1: one edit at a time).
    max_in_flight: int = 8


@dataclass(frozen=True)
class HealthSettings:
    interval_seconds: float = 60.0
    max_silence_seconds: float = 600.0
    max_lag_seconds: float = 300.0


@dataclass(frozen=True)
class CentralConfigSettings:
    """Where the central config page is, who alone may be able to edit it, who opted out."""

    wiki: str
    page: str
    editor_groups: frozenset[str] = frozenset({"interface-admin", "sysop"})
    #: Served wikis that opted out of global governance: never governed centrally.
    opted_out: frozenset[str] = frozenset()
    #: The 1/7/30-day summary page on the central wiki ("" = not published).
    summary_page: str = ""

    def governs(self, wiki: str) -> bool:
        """Whether the central page may govern ``wiki`` (when it has no local page)."""
        return wiki not in self.opted_out


@dataclass(frozen=True)
class WikiSettings:
    name: str
    api: str
    config_page: str = DEFAULT_CONFIG_PAGE
    lang: str = "en"
    #: Where the daily statistics table goes ("" = not published).
    stats_page: str = ""
    #: The window of the report page's flood limits (an hour; lowered only in tests and trials).
    report_budget_window_seconds: float = 3600.0


@dataclass(frozen=True)
class Settings:
    user_agent: str
    store: Path
    stream: StreamSettings
    wikis: tuple[WikiSettings, ...]
    liftwing: LiftWingSettings = field(default_factory=LiftWingSettings)
    pywikibot_dir: Path | None = None
    #: Locally hosted models (``model: "local:<name>"`` → ``models_dir/<name>/``).
    models_dir: Path = Path("models")
    health: HealthSettings = field(default_factory=HealthSettings)
    central_config: CentralConfigSettings | None = None
    scoring: ScoringSettings = field(default_factory=ScoringSettings)

    @property
    def served_wikis(self) -> frozenset[str]:
        return frozenset(w.name for w in self.wikis)

    def wiki(self, name: str) -> WikiSettings:
        for wiki in self.wikis:
            if wiki.name == name:
                return wiki
        raise ConfigError(f"wiki {name!r} is not in the settings (have: {sorted(self.served_wikis)})")


def load_settings(path: str | Path) -> Settings:
    """Return the settings in the YAML file at ``path``; ConfigError says what is wrong."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read settings {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"settings {path} is not valid YAML: {exc}") from exc
    return parse_settings(data, base=path.resolve().parent)


def parse_settings(data: Any, base: Path) -> Settings:
    """Validate ``data`` against ``settings.schema.json`` (every problem named), then type it."""
    problems = schema_problems(data, SETTINGS, root="settings")
    if problems:
        raise ConfigError("; ".join(_describe(problems)))
    user_agent = data["user_agent"]
    props = load_schema(SETTINGS)["properties"]
    stream = _with_defaults(data["stream"], props["stream"])
    liftwing = _with_defaults(data.get("liftwing") or {}, props["liftwing"])
    health = _with_defaults(data.get("health") or {}, props["health"])
    scoring = _with_defaults(data.get("scoring") or {}, props["scoring"])
    wikis = tuple(WikiSettings(**{**(given := _with_defaults(w, props["wikis"]["items"])),
                                  "stats_page": w.get("stats_page") or "",
                                  "report_budget_window_seconds": float(given["report_budget_window_seconds"])})
                  for w in data["wikis"])
    names = [w.name for w in wikis]
    if len(set(names)) != len(names):
        raise ConfigError(f"settings.wikis names a wiki twice: {names}")
    pwb = data.get("pywikibot_dir")
    central = _central_config(data.get("central_config"), props["central_config"], names)
    return Settings(
        user_agent=user_agent,
        store=(base / data["store"]).resolve(),
        stream=StreamSettings(url=stream["url"], stall_seconds=float(stream["stall_seconds"])),
        liftwing=LiftWingSettings(url=liftwing["url"], token_env=liftwing["token_env"]),
        wikis=wikis,
        pywikibot_dir=(base / str(pwb)).resolve() if pwb else None,
        models_dir=(base / str(data["models_dir"])).resolve() if data.get("models_dir") else default_models_dir(base),
        health=HealthSettings(**{key: float(value) for key, value in health.items()}),
        central_config=central,
        scoring=ScoringSettings(max_in_flight=int(scoring["max_in_flight"])),
    )


def _central_config(given: dict[str, Any] | None, schema: dict[str, Any],
                    served: list[str]) -> CentralConfigSettings | None:
    """The central page's settings; its wiki must be served, opted-out names too (typos fail loudly)."""
    if not given:
        return None
    central = _with_defaults(given, schema)
    if central["wiki"] not in served:
        raise ConfigError(f"settings.central_config.wiki {central['wiki']!r} is not a served wiki"
                          f" (have: {sorted(served)})")
    unknown = sorted(set(central["opted_out"]) - set(served))
    if unknown:
        raise ConfigError(f"settings.central_config.opted_out names wikis not served: {', '.join(unknown)}")
    return CentralConfigSettings(wiki=central["wiki"], page=central["page"],
                                 editor_groups=frozenset(central["editor_groups"]),
                                 opted_out=frozenset(central["opted_out"]), summary_page=central["summary_page"])


def _with_defaults(given: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``given`` with the schema's default for every property it leaves out."""
    defaults = {k: p["default"] for k, p in schema["properties"].items() if "default" in p}
    return {**defaults, **given}


def _describe(problems: list[SchemaProblem]) -> list[str]:
    """One phrase per problem; unknown keys of one mapping are listed together."""
    unknown: dict[str, list[str]] = {}
    out: list[str] = []
    for problem in problems:
        if problem.rule == "additionalProperties":
            parent, _, key = problem.path.rpartition(".")
            hint = f" (did you mean {problem.suggestion}?)" if problem.suggestion else ""
            unknown.setdefault(parent, []).append(key + hint)
        else:
            out.append(f"{problem.path} {problem.message}")
    out += [f"{parent} has unknown keys: {', '.join(keys)}" for parent, keys in unknown.items()]
    return out


#: The repository's top-level ``models/`` folder, when automod runs from a checkout.
CHECKOUT_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def default_models_dir(base: Path) -> Path:
    """Where ``automod train`` writes and ``local:<name>`` is read when settings name no
    ``models_dir``: the checkout's ``models/`` (whatever the settings file's folder, so the
    sandbox, the examples and the README agree), else ``models/`` beside the settings file
    (an installed, non-editable package has no checkout)."""
    if (CHECKOUT_MODELS_DIR / "README.md").is_file():
        return CHECKOUT_MODELS_DIR
    return (base / "models").resolve()
