"""The one way tests write an operator settings file (YAML), so every test's file is written alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_settings(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as settings YAML at ``path`` (replacing it); return ``path``."""
    path.write_text(yaml.safe_dump(data))
    return path


def offline_settings(store: str = "s.sqlite", wiki: str = "w",
                     user_agent: str = "automod-t/1 (t@example.org)") -> dict[str, Any]:
    """The least valid settings: one wiki and a stream on a closed loopback port (nothing is fetched)."""
    return {"user_agent": user_agent, "store": store, "stream": {"url": "http://127.0.0.1:1/"},
            "wikis": [{"name": wiki, "api": "http://127.0.0.1:1/api.php"}]}
