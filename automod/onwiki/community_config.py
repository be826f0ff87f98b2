"""Reading the community's config page from the wiki: where it may live, and what it holds.

The record and its parsing are :mod:`automod.config` (pure, below the wiki gateway); this
module adds what only a wiki can say: the page's latest revision, and whether ordinary users
could edit it (such a page is refused, so a vandal cannot steer the bot).
"""

from __future__ import annotations

from collections.abc import Collection

from automod.config import ConfigProblem, ParsedConfig, parse_config
from automod.onwiki.gateway import ConfigPage, WikiGateway

__all__ = [
    "config_page_problem",
    "read_config_page",
]


def config_page_problem(title: str, namespace: int, content_model: str | None, bot_user: str) -> ConfigProblem | None:
    """Refuse config pages that ordinary users could edit.

    Allowed: the MediaWiki namespace (8; editing needs ``editinterface`` and, for ``.json``,
    ``editsitejson``) or a ``.json`` subpage of the bot's own user page (namespace 2; only the
    bot and holders of ``edituserjson`` can edit it).
    """
    if content_model not in (None, "json"):
        return ConfigProblem("$page", f"{title} has content model {content_model!r}, not json")
    if namespace == 8:
        return None
    if namespace == 2:
        base, _, rest = title.partition(":")[2].partition("/")
        if base.replace("_", " ") == bot_user.replace("_", " ") and rest and title.endswith(".json"):
            return None
    return ConfigProblem(
        "$page",
        f"{title} can be edited by ordinary users; use a MediaWiki: page or "
        f"User:{bot_user}/<name>.json",
    )


def read_config_page(gateway: WikiGateway, title: str,
                     available_models: Collection[str]) -> tuple[ConfigPage, ParsedConfig] | None:
    """The config page's latest revision and what it holds, its place checked first (None:
    the page does not exist). Raises WikiError when the wiki cannot say."""
    page = gateway.config_page(title)
    if page is None:
        return None
    problem = config_page_problem(page.title, page.namespace, page.content_model, gateway.bot_user)
    parsed = parse_config(page.text, available_models)
    return page, ParsedConfig(parsed.config, ((problem,) if problem else ()) + parsed.problems)
