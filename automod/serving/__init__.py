"""Past one machine: a local model served behind Lift Wing's contract, and wikis in shards.

- :mod:`automod.serving.contract`: Lift Wing's revert-risk requests, answers and errors
  (no web framework; importable without the ``serve`` extra);
- :mod:`automod.serving.scorers`: the bot's own scorers, pooled per wiki, reading the wiki's API;
- :mod:`automod.serving.model` / :mod:`automod.serving.server`: the KServe model and
  ``automod serve`` (needs the ``serve`` extra, imported only when serving);
- :mod:`automod.serving.shards`: ``automod shard``, wikis split across jobs by edit rate.
"""
