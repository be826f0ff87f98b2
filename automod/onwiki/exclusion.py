"""The bot-exclusion protocol ({{bots}} / {{nobots}} with allow= / deny= / optout=).

Interpreted by pywikibot's own ``Page.botMayEdit`` (no second parser): on a user talk page
before any notice, and on an article — but read in the edit's **parent** revision, never in
the text the edit added, so a vandal cannot escape a revert by adding ``{{nobots}}``
(ClueBot NG reads the edit's own text and can be escaped that way).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway

__all__ = ["bot_may_edit", "revision_excludes_bot"]


def bot_may_edit(gateway: WikiGateway, title: str) -> bool:
    """Whether the current text of ``title`` lets this bot edit it (a missing page does)."""
    try:
        parsed = gateway.parse(page=title, prop="wikitext|templates")
    except WikiError as exc:
        if "missingtitle" in str(exc):
            return True
        raise
    return _allows(gateway, title, parsed)


def revision_excludes_bot(gateway: WikiGateway, title: str, rev_id: int) -> bool:
    """Whether revision ``rev_id`` of ``title`` (its own text, and the templates it used)
    tells this bot to stay away."""
    return not _allows(gateway, title, gateway.parse(oldid=rev_id, prop="wikitext|templates"))


def _allows(gateway: WikiGateway, title: str, parsed: dict[str, Any]) -> bool:
    page = revision_page_class(gateway.pywikibot.Page)(gateway.site, title, parsed)
    try:
        return bool(page.botMayEdit())
    except gateway.pywikibot.exceptions.Error as exc:
        raise WikiError(f"reading {{{{bots}}}} on {title!r}: {exc}") from exc


@lru_cache(maxsize=4)  # one entry: pywikibot's Page class (bounded all the same, issue 29)
def revision_page_class(page_class: Any) -> Any:
    class RevisionPage(page_class):  # type: ignore[misc]  # pywikibot's Page, untyped: subclassing Any
        """A page as one parsed revision shows it: its text and the templates it used
        (pywikibot would otherwise read the current revision's)."""

        def __init__(self, site: Any, title: str, parsed: dict[str, Any]) -> None:
            self._revision_templates = [page_class(site, t["title"]) for t in parsed.get("templates", [])]
            self._revision_text = str(parsed.get("wikitext", ""))
            super().__init__(site, title)

        @property
        def text(self) -> str:  # read-only: pywikibot's setter would check the current text
            return self._revision_text

        def templates(self, *, content: bool = False, namespaces: Any = None) -> list[Any]:
            found = self._revision_templates
            if namespaces is None:
                return list(found)
            wanted = self.site.namespaces.resolve(namespaces)
            return [t for t in found if t.namespace() in wanted]

    return RevisionPage
