"""The bot-exclusion protocol ({{bots}} / {{nobots}} with allow= / deny= / optout=).

Interpreted by pywikibot's own ``Page.botMayEdit`` (no second parser): on a user talk page
before any notice, and on an article — but read in the edit's **parent** revision, never in
the text the edit added, so a vandal cannot escape a revert by adding ``{{nobots}}``
(ClueBot NG reads the edit's own text and can be escaped that way).

On a user talk page, an exclusion withholds the bot's notice only if the page's owner or a
trusted user added it (:func:`talk_page_excludes_bot`): read from the page's history, and only
when the current text has one, so the check costs nothing on the pages without it. Otherwise
an IP's ``{{bots|deny=AutomodBot}}`` on a newcomer's talk page would hide from them why their
edit vanished, and the link to report the bot's mistake.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway, same_title
from automod.onwiki.warnings import REVERT_TAGS, trusted_authors

__all__ = ["bot_may_edit", "revision_excludes_bot", "talk_page_excludes_bot"]

log = logging.getLogger("automod.onwiki.exclusion")

#: Talk-page revisions read (newest first, with their texts) to find who added an exclusion;
#: past them its author is unknown and it is not honoured (else a flood of edits, or a few
#: 2 MB ones, would launder an exclusion anyone planted).
EXCLUSION_HISTORY = 500
#: Text read for it at most (a talk page may weigh 2 MB), with the same meaning.
EXCLUSION_TEXT_BYTES = 10_000_000
#: Revisions per request with their texts (the API's limit without ``apihighlimits``).
_BATCH = 50


def bot_may_edit(gateway: WikiGateway, title: str) -> bool:
    """Whether the current text of ``title`` lets this bot edit it (a missing page does)."""
    try:
        parsed = gateway.parse(page=title, prop="wikitext|templates")
    except WikiError as exc:
        if "missingtitle" in str(exc):
            return True
        raise
    return _allows(gateway, title, parsed)


def talk_page_excludes_bot(gateway: WikiGateway, user: str, trusted_right: str) -> bool:
    """Whether ``user``'s talk page tells this bot to stay away, by the hand of its owner, of
    the bot, or of an editor holding ``trusted_right``. Who added the exclusion is the author
    of the oldest revision of the run of revisions, ending at the current one, that exclude
    the bot; a revision tagged as a revert authors nothing (the run before the text it
    restores is looked at instead). Unknown (a hidden text or author, or beyond the history
    read: :data:`EXCLUSION_HISTORY`, :data:`EXCLUSION_TEXT_BYTES`): not honoured."""
    title = f"User talk:{user}"
    try:
        parsed = gateway.parse(page=title, prop="wikitext|templates")
    except WikiError as exc:
        if "missingtitle" in str(exc):
            return False
        raise
    if _allows(gateway, title, parsed):
        return False
    author = _exclusion_author(gateway, title, parsed.get("templates", []))
    if author and (same_title(author, user) or trusted_authors(gateway, trusted_right, {author})):
        return True
    log.info("%s: {{bots}}/{{nobots}} on %s was added by %s, neither its owner nor trusted: not honoured",
             gateway.wiki.name, title, author or ("no one found within the history read" if author is None
                                                   else "a hidden or unknown user"))
    return False


def _exclusion_author(gateway: WikiGateway, title: str, templates: list[dict[str, Any]]) -> str | None:
    """Who added the exclusion the current text of ``title`` holds ("" if unknown: hidden);
    None past :data:`EXCLUSION_HISTORY` revisions or :data:`EXCLUSION_TEXT_BYTES`. Each older
    text is judged with the templates the current revision uses: it is the current exclusion
    whose origin is sought."""
    params: dict[str, Any] = {"titles": title, "prop": "revisions", "rvprop": "ids|user|tags|content",
                              "rvslots": "main", "rvlimit": _BATCH}
    read = size = 0
    introducer: dict[str, Any] | None = None  # the oldest excluding revision of the current run
    while read < EXCLUSION_HISTORY and size < EXCLUSION_TEXT_BYTES:
        data = gateway.query(**params)
        pages = data.get("query", {}).get("pages", [])
        revisions = pages[0].get("revisions", []) if pages else []
        for rev in revisions:
            read += 1
            content = (rev.get("slots") or {}).get("main", {}).get("content")
            if not isinstance(content, str):
                return ""  # a hidden text: what it holds, and so who added the exclusion, is unknown
            size += len(content)
            if not _allows(gateway, title, {"wikitext": content, "templates": templates}):
                introducer = rev
                continue
            if introducer is None:  # before any run began (the reverted-to text's run is next)
                continue
            if not REVERT_TAGS & set(introducer.get("tags") or ()):
                return str(introducer.get("user", ""))
            introducer = None  # a revert brought the exclusion back: who wrote it first?
        if "continue" not in data or not revisions:
            if introducer is not None and not REVERT_TAGS & set(introducer.get("tags") or ()):
                return str(introducer.get("user", ""))  # the page's creation added it
            return ""  # a revert's text with no older run, or none read: no one known added it
        params.update(data["continue"])
    return None


def revision_excludes_bot(gateway: WikiGateway, title: str, rev_id: int) -> bool:
    """Whether revision ``rev_id`` of ``title`` (its own text, and the templates it used)
    tells this bot to stay away."""
    return not _allows(gateway, title, gateway.parse(oldid=rev_id, prop="wikitext|templates"))


def _allows(gateway: WikiGateway, title: str, parsed: dict[str, Any]) -> bool:
    page = _revision_page_class(gateway.pywikibot.Page)(gateway.site, title, parsed)
    try:
        return bool(page.botMayEdit())
    except gateway.pywikibot.exceptions.Error as exc:
        raise WikiError(f"reading {{{{bots}}}} on {title!r}: {exc}") from exc


@lru_cache(maxsize=None)
def _revision_page_class(page_class: Any) -> Any:
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
