"""The community's configuration as a validated record, below everything that uses it.

Pure: JSON text (or a dict) in, :class:`CommunityConfig` or its :class:`ConfigProblem`\\ s out,
through ``automod.schemas``. Reading the page from a wiki is :mod:`automod.onwiki.community_config`.
"""

from __future__ import annotations

from automod.config.community import (
    CAUTION_LEVELS,
    DEFAULT_SUMMARY,
    DEFAULTS,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    AppliedConfig,
    CommunityConfig,
    ConfigProblem,
    ModelChoice,
    ParsedConfig,
    parse_config,
)

__all__ = [
    "CAUTION_LEVELS",
    "DEFAULTS",
    "DEFAULT_SUMMARY",
    "THRESHOLD_MAX",
    "THRESHOLD_MIN",
    "AppliedConfig",
    "CommunityConfig",
    "ConfigProblem",
    "ModelChoice",
    "ParsedConfig",
    "parse_config",
]
