"""A real local MediaWiki with an EventStreams-compatible SSE relay, for tests and demos.

``up(dir)`` installs (once) and starts the wiki and the relay, ``down(dir)`` stops them; the
relay itself lives in :mod:`automod.sandbox.relay` and is only ever run as a subprocess.
"""

from automod.sandbox.accounts import Account
from automod.sandbox.mediawiki import WIKI, SandboxInfo, down, is_running, up

__all__ = ["Account", "SandboxInfo", "WIKI", "down", "is_running", "up"]
