"""A real local MediaWiki with an EventStreams-compatible SSE relay, for tests and demos.

``up(dir)`` installs (once) and starts the wiki and the relay, ``down(dir)`` stops them;
``up(dir, wikis=N)`` runs N wikis (sandboxwiki, sandbox2wiki, …) feeding the one relay. The
relay itself lives in :mod:`automod.sandbox.relay` and is only ever run as a subprocess.
:mod:`automod.sandbox.seed` imports a backdated history to train on, and
:mod:`automod.sandbox.trial` does what the README's trial does in a browser (edit, report, review…);
the `automod sandbox` commands (:mod:`automod.cli.sandbox`) call it.
Other packages import these names from here, not from the modules (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from automod.sandbox.accounts import Account
from automod.sandbox.instances import WikiInstance
from automod.sandbox.mediawiki import WIKI, SandboxInfo, down, is_running, up
from automod.sandbox.seed import seed
from automod.sandbox.trial import REVIEW_STATUSES, edit_as, file_report, review_report, save_config, seed_sandbox

__all__ = [
    "REVIEW_STATUSES",
    "WIKI",
    "Account",
    "SandboxInfo",
    "WikiInstance",
    "down",
    "edit_as",
    "file_report",
    "is_running",
    "review_report",
    "save_config",
    "seed",
    "seed_sandbox",
    "up",
]
