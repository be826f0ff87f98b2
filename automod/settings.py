"""Operator settings: the YAML file that says which wikis the bot serves and where things are.

Contract (DESIGN.md 4.2): ``user_agent``, ``store``, ``stream.url``, ``liftwing.url``,
``liftwing.token_env`` and ``wikis`` (``name``, ``api``, ``config_page``, ``lang``).
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

__all__ = ["HealthSettings", "LiftWingSettings", "Settings", "StreamSettings", "WikiSettings", "load_settings"]

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
class HealthSettings:
    interval_seconds: float = 60.0
    max_silence_seconds: float = 600.0
    max_lag_seconds: float = 300.0


@dataclass(frozen=True)
class WikiSettings:
    name: str
    api: str
    config_page: str = DEFAULT_CONFIG_PAGE
    lang: str = "en"
    #: Where the daily statistics table goes ("" = not published).
    stats_page: str = ""


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
    root = _Mapping(data, "settings", {"user_agent", "store", "stream", "liftwing", "wikis", "pywikibot_dir", "models_dir", "health"})
    user_agent = root.str("user_agent")
    if len(user_agent) < 10 or "(" not in user_agent:
        # Wikimedia's User-Agent policy asks for a name/version and a way to reach you.
        raise ConfigError("settings.user_agent should look like 'automod/0.1 (https://… ; you@example.org)'")
    stream = _Mapping(root.get("stream"), "settings.stream", {"url", "stall_seconds"})
    liftwing_raw = root.get("liftwing", {})
    liftwing = _Mapping(liftwing_raw, "settings.liftwing", {"url", "token_env"})
    wikis_raw = root.get("wikis")
    if not isinstance(wikis_raw, list) or not wikis_raw:
        raise ConfigError("settings.wikis should be a non-empty list")
    wikis = []
    for i, item in enumerate(wikis_raw):
        w = _Mapping(item, f"settings.wikis[{i}]", {"name", "api", "config_page", "lang", "stats_page"})
        wikis.append(WikiSettings(
            name=w.str("name"),
            api=w.str("api"),
            config_page=w.str("config_page", DEFAULT_CONFIG_PAGE),
            lang=w.str("lang", "en"),
            stats_page=str(w.get("stats_page", "") or ""),
        ))
    names = [w.name for w in wikis]
    if len(set(names)) != len(names):
        raise ConfigError(f"settings.wikis names a wiki twice: {names}")
    pwb = root.get("pywikibot_dir")
    return Settings(
        user_agent=user_agent,
        store=(base / root.str("store")).resolve(),
        stream=StreamSettings(url=stream.str("url"), stall_seconds=stream.number("stall_seconds", 120.0)),
        liftwing=LiftWingSettings(
            url=liftwing.str("url", LiftWingSettings.url),
            token_env=liftwing.get("token_env"),
        ),
        wikis=tuple(wikis),
        pywikibot_dir=(base / str(pwb)).resolve() if pwb else None,
        models_dir=(base / str(root["models_dir"])).resolve() if root.get("models_dir") else default_models_dir(base),
        health=_health(root.get("health", {})),
    )


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


def _health(raw: Any) -> HealthSettings:
    h = _Mapping(raw or {}, "settings.health", {"interval_seconds", "max_silence_seconds", "max_lag_seconds"})
    return HealthSettings(interval_seconds=h.number("interval_seconds", 60.0),
                          max_silence_seconds=h.number("max_silence_seconds", 600.0),
                          max_lag_seconds=h.number("max_lag_seconds", 300.0))


class _Mapping:
    """A YAML mapping read with typed getters that name the offending key."""

    def __init__(self, data: Any, path: str, allowed: set[str]):
        if not isinstance(data, dict):
            raise ConfigError(f"{path} should be a mapping, got {type(data).__name__}")
        unknown = set(data) - allowed
        if unknown:
            raise ConfigError(f"{path} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        self.data, self.path = data, path

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def str(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.path}.{key} should be a non-empty string")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{self.path}.{key} should be a positive number")
        return float(value)
