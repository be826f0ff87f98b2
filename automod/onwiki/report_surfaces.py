"""The bot owns its surfaces: the report form's preload page and the report page's header.

Anyone may edit ``<report page>/Preload`` (what the one-click link pre-fills) and the text
above the report page's first section. A vandal who makes the preload's marker name their
own reverted edit would have every victim's one-click report ask for the vandal's edit back;
a header is where reporters read how to report. So on every report-page pass (and when the
preload itself is edited) both are compared with their value as a trusted hand last set it
(:func:`automod.onwiki.provenance.trusted_value`: the bot, or a user holding a reviewer
right, in an edit of their own — a revert or a move signs nothing), and any other change is
repaired. The preload's marker comes only from the link's own parameters (``$1``…): a
preload naming a revision of its own is replaced by the bot's text, whoever saved it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from automod.config import CommunityConfig
from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway, same_title
from automod.onwiki.page_reads import header_history, history
from automod.onwiki.provenance import PageRevision, trusted_value
from automod.onwiki.report_page import DIFF, LINE
from automod.onwiki.report_trust import HISTORY_DEPTH, may_review

__all__ = ["header_of", "header_revisions", "preload_repair", "repair_header", "repair_preload", "steering_ok",
           "trust_check"]

log = logging.getLogger("automod.onwiki.report_surfaces")

#: The bot's hidden markers (``<!-- automod-report rev=$1 -->``, with ``wiki=$3`` on the shared page).
_MARKERS = re.compile(r"<!--\s*automod-report\b.*?-->", re.S)
#: A revision named by number in a URL (``diff=123``, ``oldid=123``): a preload may name none.
_NUMBERED = re.compile(r"\b(?:diff|oldid|curid)=\d")
#: The first heading line: the header (MediaWiki's section 0) is what comes before it.
_HEADING = re.compile(r"^(=+)[^=\n].*?\1[ \t]*$", re.M)


def trust_check(gateway: WikiGateway, config: CommunityConfig | None) -> Callable[[str], bool]:
    """Whether a user may set the bot's surfaces: the bot itself, or a reviewer (rights read
    once per user through the API; without a config, the bot alone)."""
    known: dict[str, bool] = {}

    def trusted(user: str) -> bool:
        if user not in known:
            known[user] = bool(user) and (same_title(user, gateway.bot_user) or
                                          (config is not None and may_review(gateway, user, config)))
        return known[user]
    return trusted


def steering_ok(text: str, wanted: str) -> bool:
    """Whether a preload steers nothing: the same markers as the bot's (whose parameters come
    from the link), and no revision named by number (a diff link, a bot line, a URL)."""
    return (sorted(_MARKERS.findall(text)) == sorted(_MARKERS.findall(wanted))
            and not DIFF.search(text) and not LINE.search(text) and not _NUMBERED.search(text))


def preload_repair(revisions: Sequence[PageRevision], wanted: str, trusted: Callable[[str], bool],
                   bot_user: str) -> str | None:
    """The text the preload page must be given, or None when it is fine as it is. Pure.

    Its value as a trusted hand last set it stays (a community may reword the prompt), unless
    it steers (:func:`steering_ok`) or is an older text of the bot's own (replaced by today's)."""
    if not revisions:
        return wanted
    newest = max(revisions, key=lambda r: r.rev_id)
    value = trusted_value(revisions, lambda text: text, trusted)
    if value is None or not steering_ok(value, wanted):
        value = wanted
    elif value.strip() != wanted.strip():
        setters = [r for r in revisions if r.text == value and not r.hidden]
        if setters and same_title(max(setters, key=lambda r: r.rev_id).user, bot_user):
            value = wanted  # the bot's own older text (an older release, another language)
    if not newest.hidden and newest.text.strip() == value.strip():
        return None
    return value


def repair_preload(gateway: WikiGateway, title: str, wanted: str, summary: str,
                   config: CommunityConfig | None) -> bool:
    """Create the preload page ``title`` or repair it (:func:`preload_repair`); True if saved."""
    revisions = history(gateway, title, HISTORY_DEPTH)
    text = preload_repair(revisions, wanted, trust_check(gateway, config), gateway.bot_user)
    if text is None:
        return False
    if not revisions:
        try:
            gateway.edit(title, text=text, summary=summary, create_only=True)
        except WikiError as exc:
            if "articleexists" not in str(exc):
                raise
            return False
        return True
    gateway.edit(title, text=text, summary=summary)
    log.warning("%s: %s was changed by a user who may not set it (r%d, %s): repaired", gateway.wiki.name, title,
                max(r.rev_id for r in revisions), max(revisions, key=lambda r: r.rev_id).user)
    return True


def header_of(text: str) -> str:
    """The text above the page's first heading (MediaWiki's section 0), without trailing space."""
    found = _HEADING.search(text)
    return (text[:found.start()] if found else text).rstrip()


def header_revisions(gateway: WikiGateway, page: str) -> list[PageRevision]:
    """What :func:`repair_header` reads: the latest :data:`HISTORY_DEPTH` revisions' section 0
    (the header) with each whole revision's sha1, so a manual revert is still told by its whole
    text while the bytes read grow with the header, not with the reports below it."""
    return header_history(gateway, page, HISTORY_DEPTH)


def repair_header(gateway: WikiGateway, page: str, revisions: Sequence[PageRevision], summary: str,
                  config: CommunityConfig) -> bool:
    """Give the report page's header back its value as a trusted hand last set it; True if saved.
    ``revisions`` may carry only section 0 as text (:func:`header_revisions`): their digest is
    the whole revision's. Nothing is done while no trusted value is known (the page was created by an untrusted hand
    and no trusted one set its header since) or the newest revision's text is hidden."""
    if not revisions:
        return False
    newest = max(revisions, key=lambda r: r.rev_id)
    value = trusted_value(revisions, header_of, trust_check(gateway, config))
    if value is None or newest.hidden or header_of(newest.text) == value:
        return False
    gateway.edit(page, section="0", text=value, summary=summary)
    log.warning("%s: the header of %s was changed by a user who may not set it (r%d, %s): repaired",
                gateway.wiki.name, page, newest.rev_id, newest.user)
    return True
