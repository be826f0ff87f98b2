"""A real local MediaWiki with an EventStreams-compatible SSE relay, for tests and demos.

``up(dir)`` installs (once) and starts the wiki and the relay, ``down(dir)`` stops them;
``up(dir, wikis=N)`` runs N wikis (sandboxwiki, sandbox2wiki, …) feeding the one relay. The
relay itself lives in :mod:`automod.sandbox.relay` and is only ever run as a subprocess.
:mod:`automod.sandbox.seed` imports a backdated history to train on, and
:mod:`automod.sandbox.trial` does what the README's trial does in a browser (edit, report, review…);
the `automod sandbox` commands (:mod:`automod.cli.sandbox`) call it.
"""

from automod.sandbox.accounts import Account
from automod.sandbox.instances import WikiInstance
from automod.sandbox.mediawiki import WIKI, SandboxInfo, down, is_running, up

__all__ = ["Account", "SandboxInfo", "WIKI", "WikiInstance", "down", "is_running", "up"]
