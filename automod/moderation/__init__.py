"""The live loop: candidates, skip rules, decisions, the moderator, workers, the runner.

See docs/ARCHITECTURE.md for what this package owns and may use. Other packages import
these names from here, not from the modules.
"""

from __future__ import annotations

from automod.moderation.backtest import BacktestOptions, backtest
from automod.moderation.health import StatusLimits, heartbeat_path, quiet_note, rate_limit_notes, read_status
from automod.moderation.runner import RunOptions, run, score_revision
from automod.moderation.served_wiki import check_config

__all__ = [
    "BacktestOptions",
    "RunOptions",
    "StatusLimits",
    "backtest",
    "check_config",
    "heartbeat_path",
    "quiet_note",
    "rate_limit_notes",
    "read_status",
    "run",
    "score_revision",
]
