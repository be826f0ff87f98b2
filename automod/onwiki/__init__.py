"""Everything the bot reads from or writes to a wiki: the gateway and the on-wiki surfaces.

See docs/ARCHITECTURE.md for what this package owns and may use.
"""
