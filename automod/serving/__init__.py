"""Past one machine: a local model served behind Lift Wing's contract, and wikis in shards.

- :mod:`automod.serving.contract`: Lift Wing's revert-risk requests, answers and errors
  (no web framework; importable without the ``serve`` extra);
- :mod:`automod.serving.scorers`: the bot's own scorers, pooled per wiki, reading the wiki's API;
- :mod:`automod.serving.model` / :mod:`automod.serving.server`: the KServe model and
  ``automod serve`` (needs the ``serve`` extra, imported only when serving: ``ServeOptions``
  and ``serve`` are lazy names, PEP 562 ``__getattr__`` below);
- :mod:`automod.serving.shards`: ``automod shard``, wikis split across jobs by edit rate.

Other packages import these names from here, not from the modules (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from automod.serving.contract import DEFAULT_HOST, DEFAULT_PORT
from automod.serving.scorers import routes_from_settings
from automod.serving.shards import central_group, parse_rates, plan_shards, rates_from_store, write_shards

if TYPE_CHECKING:
    from automod.serving.server import ServeOptions, serve

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ServeOptions",
    "central_group",
    "parse_rates",
    "plan_shards",
    "rates_from_store",
    "routes_from_settings",
    "serve",
    "write_shards",
]

#: Names whose module needs an optional extra: imported on first use, from the module named here.
_LAZY = {
    "ServeOptions": "server", "serve": "server",
}


def __getattr__(name: str) -> Any:
    """PEP 562: a lazy name is imported from its module the first time it is asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"automod.serving.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
