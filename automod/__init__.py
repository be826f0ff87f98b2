"""automod: a community-configured anti-vandalism bot for MediaWiki wikis."""

__version__ = "0.1.0"
__all__ = ["__version__"]
