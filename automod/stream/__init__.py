"""Events from EventStreams: strict parsing and the resumable follower.

See docs/ARCHITECTURE.md for what this package owns and may use.
"""
