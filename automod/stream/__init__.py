"""Events from EventStreams: strict parsing and the resumable follower.

Other packages import these names from here, not from the modules (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from automod.stream.events import parse_event
from automod.stream.follower import MALFORMED_KEEP_BYTES, RetryPolicy, StreamFollower

__all__ = ["MALFORMED_KEEP_BYTES", "RetryPolicy", "StreamFollower", "parse_event"]
