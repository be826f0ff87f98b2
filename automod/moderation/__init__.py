"""The live loop: candidates, skip rules, decisions, the moderator, workers, the runner.

See docs/ARCHITECTURE.md for what this package owns and may use.
"""
