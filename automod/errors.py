"""The one exception tree of automod.

::

    AutomodError
    ├── ConfigError          settings file or on-wiki config unusable
    ├── StreamError          the event stream cannot be followed
    │   ├── MalformedEvent   one event is not a valid recentchange (skipped, never fatal)
    │   └── StreamStalled    nothing arrived for the watchdog's window
    ├── WikiError            MediaWiki refused or could not be reached
    │   └── WikiUnavailable  network failure, timeout, maxlag: worth retrying later
    ├── ScoringError         a scorer failed
    ├── StoreError           the SQLite store
    │   └── MigrationError
    └── SandboxError         the local test wiki could not be started or stopped

A skip is a returned value, never an exception; bugs stay built-in exceptions.
"""

__all__ = [
    "AutomodError",
    "ConfigError",
    "MalformedEvent",
    "MigrationError",
    "SandboxError",
    "ScoringError",
    "StoreError",
    "StreamError",
    "StreamStalled",
    "WikiError",
    "WikiUnavailable",
]


class AutomodError(Exception):
    """Base of every error automod raises on purpose."""


class ConfigError(AutomodError):
    pass


class StreamError(AutomodError):
    pass


class MalformedEvent(StreamError):
    """One stream event could not be parsed; the follower logs it and goes on."""


class StreamStalled(StreamError):
    pass


class WikiError(AutomodError):
    pass


class WikiUnavailable(WikiError):
    pass


class ScoringError(AutomodError):
    pass


class StoreError(AutomodError):
    pass


class MigrationError(StoreError):
    pass


class SandboxError(AutomodError):
    pass
