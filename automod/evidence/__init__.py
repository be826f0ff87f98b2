"""What the history says: outcome labels, threshold tables, exports.

See docs/ARCHITECTURE.md for what this package owns and may use.
"""
