"""The messages one wiki gets: its content language's files, then the community's pages.

The language is the wiki's own (siteinfo ``lang`` and its declared ``fallback`` chain), so
a French wiki gets French notices without any setting. A community rewords a notice on its
wiki, without code, by saving ``MediaWiki:Automod-notice`` (and the other pages in
:data:`OVERRIDE_PAGES`); those win over the files. Only texts the bot never parses back are
overridable, so no page anyone could edit can break how reports are read.
Read again every 10 minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway, same_title
from automod.onwiki.i18n import DEFAULT_LANGUAGE, Messages, load_messages

__all__ = ["CACHE_SECONDS", "OVERRIDE_PAGES", "WikiLanguage", "messages_for", "wiki_language"]

log = logging.getLogger("automod.onwiki.messages")

CACHE_SECONDS = 600.0
#: Message key → the wiki page that overrides it (MediaWiki's own naming: ucfirst(key)).
OVERRIDE_PAGES = {key: f"MediaWiki:{key[0].upper()}{key[1:]}" for key in (
    "automod-notice", "automod-notice-heading", "automod-notice-followup", "automod-notice-help",
    "automod-notice-summary", "automod-notice-earlier")}


@dataclass(frozen=True)
class WikiLanguage:
    """A wiki's content language and the fallbacks it declares (pt-br → pt)."""

    code: str
    fallbacks: tuple[str, ...] = ()


def wiki_language(gateway: WikiGateway) -> WikiLanguage:
    """From siteinfo; raises WikiError / WikiUnavailable like any read."""
    general = gateway.query(meta="siteinfo", siprop="general")["query"]["general"]
    fallbacks = tuple(str(f.get("code", "")) for f in general.get("fallback", []) if isinstance(f, dict))
    return WikiLanguage(str(general.get("lang") or DEFAULT_LANGUAGE), fallbacks)


def _overrides(gateway: WikiGateway) -> dict[str, str]:
    """The community's texts, one API request for all the pages."""
    pages = gateway.query(titles="|".join(OVERRIDE_PAGES.values()), prop="revisions", rvprop="content",
                          rvslots="main")["query"]["pages"]
    found: dict[str, str] = {}
    for page in pages:
        revisions = page.get("revisions") or []
        text = revisions[0]["slots"]["main"].get("content", "").strip() if revisions else ""
        key = next((k for k, title in OVERRIDE_PAGES.items() if same_title(title, page.get("title", ""))), None)
        if key and text:
            found[key] = text
    return found


class _MessageCache:
    """Per wiki: (when read, messages); a failed read is retried at the next use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Messages]] = {}

    def get(self, gateway: WikiGateway) -> Messages:
        name = gateway.wiki.name
        with self._lock:
            cached = self._cache.get(name)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        complete = True
        try:
            language = wiki_language(gateway)
        except WikiError as exc:
            log.warning("%s: cannot read the content language, writing in English for now: %s", name, exc)
            language, complete = WikiLanguage(DEFAULT_LANGUAGE), False
        messages = load_messages(language.code, language.fallbacks)
        try:
            messages = messages.with_overrides(_overrides(gateway))
        except WikiError as exc:
            log.warning("%s: cannot read the MediaWiki:Automod-* pages, using the packaged texts: %s", name, exc)
            complete = False
        if complete:
            with self._lock:
                self._cache[name] = (time.monotonic(), messages)
        return messages

    def forget(self, wiki: str | None = None) -> None:
        """Read again at the next use (all wikis when ``wiki`` is None)."""
        with self._lock:
            if wiki is None:
                self._cache.clear()
            else:
                self._cache.pop(wiki, None)


MESSAGES = _MessageCache()


def messages_for(gateway: WikiGateway) -> Messages:
    """The messages for ``gateway``'s wiki: its language, then the community's overrides."""
    return MESSAGES.get(gateway)
