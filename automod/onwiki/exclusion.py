"""The bot-exclusion protocol ({{bots}} / {{nobots}} with allow= / deny= / optout=).

Interpreted by pywikibot's own ``Page.botMayEdit`` (no second parser), over a given text: on a
user talk page before any notice, and on an article — read in the edit's **parent** revision,
never in the text the edit added, so a vandal cannot escape a revert by adding ``{{nobots}}``.

On the per-candidate path nothing is parsed. The revision context read
(``WikiGateway.revision_context``) brings the parent's and the edit's wikitext and, from the
links table, which exclusion templates the page's current revision uses (``tltemplates``: the
exclusion templates and their redirects, read once per run). The parent's text settles a
directly written ``{{nobots}}`` (redirects to the templates count as the templates). A
``{{nobots}}`` that comes only through another template (the links table shows it, the text does
not) is traced to the templates the parent text invokes, with one cheap links-table read of
those templates — only for pages the links table shows as excluded. Through transclusion only
``{{nobots}}`` (and the family's restricted templates) count: a transcluded ``{{bots|…}}``'s
parameters are not in any text the bot reads (pywikibot ignores it too). Known limit: an edit
that removes the very template that transcluded ``{{nobots}}`` is judged as if it had not been
there (the links table no longer shows it, and nothing cheaper than a parse of the parent would).

An exclusion found is then judged by who wrote it (:func:`exclusion_counts`): it counts only if
it has stood for ``exclusion_min_age_days`` or was added by a trusted user (holding one of the
community's ``report_reviewer_rights``, read through the API; never the editor being judged, an
IP, or a right logged-out users hold). A revert authors nothing: when the revision that brought
the exclusion back is a rollback, undo or manual revert, the author is the one who first added
it in the text restored. This history is read only for pages whose parent says "excluded".
An exclusion that comes through a template is judged twice: the article's use of the template,
and the template's own ``{{nobots}}`` by the template's history (:func:`_wrapper_counts`, up to
:data:`WRAPPER_DEPTH` templates deep) — a template edit is never a candidate, so a vandal who
writes ``{{nobots}}`` into an infobox that articles have used for years escapes nothing; nor
by turning it into a redirect to ``{{nobots}}`` (:func:`_redirect_counts`: the redirect's history).

On a user talk page, an exclusion withholds the bot's notice only if the page's owner or a
trusted user added it (:func:`talk_page_excludes_bot`): read from the page's history, and only
when the current text has one, so the check costs nothing on the pages without it. Otherwise
an IP's ``{{bots|deny=AutomodBot}}`` on a newcomer's talk page would hide from them why their
edit vanished, and the link to report the bot's mistake.
"""

from __future__ import annotations

import html
import logging
import re
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from automod.config import CommunityConfig
from automod.errors import WikiError
from automod.onwiki.gateway import WikiGateway, is_ip, same_title
from automod.onwiki.talk_page import TalkPage, read_talk_page
from automod.onwiki.warnings import trusted_authors
from automod.records import RevisionContext

__all__ = ["ParentExclusion", "bot_may_edit", "exclusion_templates", "parent_exclusion",
           "talk_page_excludes_bot", "text_excludes_bot"]

log = logging.getLogger("automod.onwiki.exclusion")

#: Tags of revisions that restore an earlier text: they author nothing of it.
REVERT_TAGS = frozenset({"mw-rollback", "mw-undo", "mw-manual-revert"})
#: History read per request, and at most this many requests, when an exclusion's author is traced.
HISTORY_BATCH, HISTORY_REQUESTS = 10, 5
#: The templates' redirects are read once per run per wiki, then again after this long.
REDIRECTS_TTL = 3600.0
#: Talk-page revisions read (newest first, with their texts) to find who added an exclusion;
#: past them its author is unknown and it is not honoured (else a flood of edits, or a few
#: 2 MB ones, would launder an exclusion anyone planted).
EXCLUSION_HISTORY = 500
#: Text read for it at most (a talk page may weigh 2 MB), with the same meaning.
EXCLUSION_TEXT_BYTES = 10_000_000
#: Revisions per request with their texts (the API's limit without ``apihighlimits``).
_BATCH = 50


@dataclass(frozen=True)
class ParentExclusion:
    """What the parent revision says about this bot: excluded or not, and whether it counts."""

    excluded: bool
    counts: bool = False
    why: str = ""


def bot_may_edit(gateway: WikiGateway, title: str) -> bool:
    """Whether the current text of ``title`` lets this bot edit it (a missing page does):
    its text and the exclusion templates its links table shows (one query, no parse)."""
    names = exclusion_templates(gateway)
    current = read_talk_page(gateway, title, names.titles)
    if not current.exists:
        return True
    return not (text_excludes_bot(gateway, title, current.text, names)
                or _transcluded_exclusion(gateway, current.text, current.templates, names))


def talk_page_excludes_bot(gateway: WikiGateway, user: str, trusted_right: str, talk: TalkPage | None = None) -> bool:
    """Whether ``user``'s talk page tells this bot to stay away, by the hand of its owner, of
    the bot, or of an editor holding ``trusted_right``. Who added the exclusion is the author
    of the oldest revision of the run of revisions, ending at the current one, that exclude
    the bot; a revision tagged as a revert authors nothing (the run before the text it
    restores is looked at instead). Unknown (a hidden text or author, or beyond the history
    read: :data:`EXCLUSION_HISTORY`, :data:`EXCLUSION_TEXT_BYTES`): not honoured. ``talk``: the
    talk page as already read with :func:`exclusion_templates` (else it is read here)."""
    title = f"User talk:{user}"
    names = exclusion_templates(gateway)
    current = talk if talk is not None else read_talk_page(gateway, title, names.titles)
    if not current.exists:
        return False
    text, used = current.text, current.templates
    wrappers = _transcluded_exclusion(gateway, text, used, names)
    if not (text_excludes_bot(gateway, title, text, names) or wrappers):
        return False

    def excludes(older: str) -> bool:
        # an older text judged with the templates the current one uses: it is the current
        # exclusion whose origin is sought
        return text_excludes_bot(gateway, title, older, names) or bool(
            wrappers and invoked_templates(gateway, older) & wrappers)

    author = _exclusion_author(gateway, title, excludes)
    if author and (same_title(author, user) or trusted_authors(gateway, trusted_right, {author})):
        return True
    log.info("%s: {{bots}}/{{nobots}} on %s was added by %s, neither its owner nor trusted: not honoured",
             gateway.wiki.name, title, author or ("no one found within the history read" if author is None
                                                   else "a hidden or unknown user"))
    return False


def _exclusion_author(gateway: WikiGateway, title: str, excludes: Callable[[str], bool]) -> str | None:
    """Who added the exclusion the current text of ``title`` holds ("" if unknown: hidden);
    None past :data:`EXCLUSION_HISTORY` revisions or :data:`EXCLUSION_TEXT_BYTES`."""
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
            if excludes(content):
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


@dataclass(frozen=True)
class ExclusionTemplates:
    """The exclusion templates of a wiki with their redirects (``No bots`` → ``Nobots``)."""

    targets: dict[str, str]  # any name (without namespace) → the template it stands for
    restricted: frozenset[str]  # the family's edit-restricted templates (pywikibot), by name

    @property
    def titles(self) -> list[str]:
        return [f"Template:{name}" for name in sorted(self.targets)]

    def forbidding(self) -> frozenset[str]:
        """Names that exclude whatever their parameters: {{nobots}} and the restricted ones."""
        return frozenset(n for n, t in self.targets.items() if t == "Nobots" or t in self.restricted)


_TEMPLATES: weakref.WeakKeyDictionary[WikiGateway, tuple[float, ExclusionTemplates]] = weakref.WeakKeyDictionary()


def exclusion_templates(gateway: WikiGateway) -> ExclusionTemplates:
    """The wiki's exclusion templates and their redirects (one query per run, refreshed hourly)."""
    cached = _TEMPLATES.get(gateway)
    if cached is not None and time.monotonic() - cached[0] < REDIRECTS_TTL:
        return cached[1]
    restricted = frozenset(str(t) for t in gateway.site.get_edit_restricted_templates())
    bases = ["Bots", "Nobots", *sorted(restricted)]
    targets = {name: name for name in bases}
    data = gateway.query(titles="|".join(f"Template:{n}" for n in bases), prop="redirects",
                         rdnamespace=10, rdlimit="max")["query"]
    for page in data.get("pages", []):
        target = str(page.get("title", "")).partition(":")[2]
        for redirect in page.get("redirects", []):
            targets[str(redirect["title"]).partition(":")[2]] = target
    found = ExclusionTemplates(targets, restricted)
    _TEMPLATES[gateway] = (time.monotonic(), found)
    return found


def text_excludes_bot(gateway: WikiGateway, title: str, text: str, names: ExclusionTemplates) -> bool:
    """Whether ``text`` itself invokes an exclusion template that keeps this bot away, by
    pywikibot's ``botMayEdit`` (a redirect to {{nobots}} read as {{nobots}})."""
    if not _may_name(text, names):
        return False  # the common case, without pywikibot's template extraction over the whole text
    page = text_page_class(gateway.pywikibot.Page)(gateway.site, title, text, names.targets)
    try:
        return not bool(page.botMayEdit())
    except gateway.pywikibot.exceptions.Error as exc:
        raise WikiError(f"reading {{{{bots}}}} on {title!r}: {exc}") from exc


def _may_name(text: str, names: ExclusionTemplates) -> bool:
    """Whether ``text`` could invoke one of ``names`` at all (a cheap, generous substring test)."""
    lowered = html.unescape(text).lower()  # MediaWiki decodes character references in titles
    if "{{" not in lowered:
        return False
    return any(form in lowered for name in names.targets
               for form in {name.lower(), name.lower().replace(" ", "_")})


def invoked_templates(gateway: WikiGateway, text: str) -> frozenset[str]:
    """The templates ``text`` invokes directly (title without namespace, as MediaWiki spells it)."""
    textlib = gateway.pywikibot.textlib
    found = set()
    for name, _ in textlib.extract_templates_and_params(text, strip=True):
        try:
            link = gateway.pywikibot.Link(name, gateway.site, default_namespace=10)
            if link.namespace == 10:
                found.add(link.title)
        except gateway.pywikibot.exceptions.Error:
            continue  # a parser function or magic word
    return frozenset(found)


def _transcluded_exclusion(gateway: WikiGateway, text: str, used: set[str] | frozenset[str],
                           names: ExclusionTemplates) -> frozenset[str]:
    """The templates ``text`` invokes through which a forbidding exclusion template comes
    (empty: none), when the links table (``used``) shows one the text does not invoke."""
    forbidding = names.forbidding() & set(used)
    if not forbidding:
        return frozenset()
    invoked = invoked_templates(gateway, text)
    if forbidding & invoked:
        return frozenset()  # none used, or written in the text itself (the text check decides)
    return _wrappers(gateway, invoked - set(names.targets), names)


def _wrappers(gateway: WikiGateway, candidates: Sequence[str] | frozenset[str],
              names: ExclusionTemplates) -> frozenset[str]:
    """Which of ``candidates`` (template names) transclude a forbidding exclusion template."""
    forbidding = [f"Template:{n}" for n in sorted(names.forbidding())]
    found: set[str] = set()
    ordered = sorted(candidates)
    for start in range(0, len(ordered), 50):
        chunk = ordered[start:start + 50]
        data = gateway.query(titles="|".join(f"Template:{n}" for n in chunk), prop="templates",
                             tltemplates="|".join(forbidding), tllimit="max")["query"]
        for page in data.get("pages", []):
            if page.get("templates"):
                found.add(str(page["title"]).partition(":")[2])
    return frozenset(found)


def parent_exclusion(gateway: WikiGateway, context: RevisionContext, config: CommunityConfig,
                     editor: str, now: float | None = None) -> ParentExclusion:
    """Whether the edit's parent revision excludes this bot and whether that counts (see the
    module's text); ``context`` read with ``texts`` and the :func:`exclusion_templates`."""
    if context.parent_id is None or context.parent_text is None:
        return ParentExclusion(False)
    names = exclusion_templates(gateway)
    direct = text_excludes_bot(gateway, context.title, context.parent_text, names)
    wrappers = frozenset() if direct else _transcluded_exclusion(
        gateway, context.parent_text, context.templates_used, names)
    if not direct and not wrappers:
        return ParentExclusion(False)

    def excludes(text: str) -> bool:
        return text_excludes_bot(gateway, context.title, text, names) or bool(
            wrappers and invoked_templates(gateway, text) & wrappers)

    moment = time.time() if now is None else now
    counts, why = exclusion_counts(gateway, context, config, editor, excludes, moment)
    for wrapper in sorted(wrappers) if counts else ():  # the template's own {{nobots}}: who wrote it?
        counts, inside = _wrapper_counts(gateway, wrapper, config, editor, names, moment)
        if not counts:
            why = f"{why}; but in Template:{wrapper}: {inside}"
            break
    invoked = invoked_templates(gateway, context.parent_text) if direct and counts else frozenset()
    if not any(names.targets.get(n) == n for n in invoked):  # only through redirects: who made them so?
        for redirect in sorted(n for n in invoked if names.targets.get(n, n) != n):
            counts, inside = _redirect_counts(gateway, redirect, names.targets[redirect], config, editor, moment)
            if not counts:
                why = f"{why}; but Template:{redirect} redirects to Template:{names.targets[redirect]}: {inside}"
                break
    log.info("%s r%s: the parent excludes this bot (%s); %s: %s", gateway.wiki.name, context.rev_id,
             "in its text" if direct else f"through {', '.join(sorted(wrappers))}",
             "counts" if counts else "ignored", why)
    return ParentExclusion(True, counts, why)


@dataclass(frozen=True)
class _Rev:
    rev_id: int
    user: str
    timestamp: float
    tags: frozenset[str]
    sha1: str
    text: str | None


#: Templates traced through when a ``{{nobots}}`` comes through templates inside templates.
WRAPPER_DEPTH = 3


def _wrapper_counts(gateway: WikiGateway, wrapper: str, config: CommunityConfig, editor: str,
                    names: ExclusionTemplates, now: float, depth: int = 1) -> tuple[bool, str]:
    """Whether the exclusion a template brings counts, by the template's own history: a page
    that has used ``{{Infobox}}`` for years is not excluded by a ``{{nobots}}`` a vandal wrote
    into ``Template:Infobox`` a minute ago (a template edit is no candidate: never scored)."""
    title = f"Template:{wrapper}"
    found = gateway.page_text(title)
    if found is None:
        return False, "the template is gone"
    rev_id, text = found
    direct = text_excludes_bot(gateway, title, text, names)
    deeper = frozenset() if direct else _wrappers(gateway, invoked_templates(gateway, text) - set(names.targets),
                                                  names)
    if not direct and (not deeper or depth >= WRAPPER_DEPTH):
        return False, "not traced further"

    def excludes(older: str) -> bool:
        return text_excludes_bot(gateway, title, older, names) or bool(
            deeper and invoked_templates(gateway, older) & deeper)

    counts, why = _exclusion_counts(gateway, title, rev_id, config, editor, excludes, now)
    for inner in sorted(deeper) if counts else ():
        counts, why = _wrapper_counts(gateway, inner, config, editor, names, now, depth + 1)
        if not counts:
            why = f"in Template:{inner}: {why}"
            break
    return counts, why


#: A redirect's target, as its text gives it (``#REDIRECT [[Template:Nobots]]``, any language's word).
_REDIRECT = re.compile(r"^\s*#[^\[\]\n]*?\[\[\s*:?([^\]|#\n]+)")


def _redirect_counts(gateway: WikiGateway, name: str, target: str, config: CommunityConfig, editor: str,
                     now: float) -> tuple[bool, str]:
    """Whether ``Template:name``, a redirect to the exclusion template ``target``, has been one
    long enough or was made one by a trusted hand: an article that has used a harmless template
    for years is not excluded by a vandal turning that template into a redirect to {{nobots}}."""
    title = f"Template:{name}"
    found = gateway.page_text(title)
    if found is None:
        return False, "the redirect is gone"

    def excludes(text: str) -> bool:
        match = _REDIRECT.match(text)
        if match is None:
            return False
        try:
            link = gateway.pywikibot.Link(match.group(1).strip(), gateway.site, default_namespace=10)
            return bool(link.namespace == 10 and link.title == target)
        except gateway.pywikibot.exceptions.Error:
            return False

    return _exclusion_counts(gateway, title, found[0], config, editor, excludes, now)


def exclusion_counts(gateway: WikiGateway, context: RevisionContext, config: CommunityConfig, editor: str,
                     excludes: Any, now: float) -> tuple[bool, str]:
    """Whether the exclusion the parent revision carries counts: it has stood since
    ``now - exclusion_min_age_days``, or the user who (really) added it is trusted."""
    return _exclusion_counts(gateway, context.title, int(context.parent_id or 0), config, editor, excludes, now)


def _exclusion_counts(gateway: WikiGateway, title: str, start_id: int, config: CommunityConfig, editor: str,
                      excludes: Any, now: float) -> tuple[bool, str]:
    """:func:`exclusion_counts` over ``title``'s history from revision ``start_id`` back."""
    cutoff = now - config.exclusion_min_age_days * 86400
    revisions = _History(gateway, title, start_id)
    index = 0
    while True:
        # The run of revisions, from ``index`` back, that carry the exclusion.
        start = index
        while True:
            rev = revisions.get(start)
            if rev is None:
                return True, "stood through all the history read"
            if rev.timestamp <= cutoff:
                return True, f"stood since before {config.exclusion_min_age_days} days ago"
            older = revisions.get(start + 1)
            if older is None or older.text is None or not excludes(older.text):
                break
            start += 1
        adder = revisions.get(start)
        assert adder is not None
        if adder.tags & REVERT_TAGS:  # a revert authors nothing: who wrote the text it restored?
            restored = revisions.restored_by(start)
            if restored is None:
                return False, f"restored by a revert in r{adder.rev_id} from a text not found in the history read"
            index = restored
            continue
        trusted = _trusted(gateway, adder.user, editor, config)
        who = f"added by {adder.user!r} in r{adder.rev_id}"
        return trusted, f"{who} ({'trusted' if trusted else 'untrusted'}, recent)"


class _History:
    """The page's revisions from the parent back, read in batches as needed (with their text)."""

    def __init__(self, gateway: WikiGateway, title: str, start_id: int) -> None:
        self.gateway, self.title = gateway, title
        self.revs: list[_Rev] = []
        self._continue: dict[str, Any] | None = {"rvstartid": start_id}
        self._requests = 0

    def get(self, index: int) -> _Rev | None:
        while index >= len(self.revs) and self._continue is not None and self._requests < HISTORY_REQUESTS:
            self._read()
        return self.revs[index] if index < len(self.revs) else None

    def _read(self) -> None:
        assert self._continue is not None
        self._requests += 1
        data = self.gateway.query(titles=self.title, prop="revisions", rvdir="older", rvlimit=HISTORY_BATCH,
                                  rvprop="ids|user|timestamp|tags|sha1|content", rvslots="main", **self._continue)
        for raw in data["query"]["pages"][0].get("revisions", []):
            main = (raw.get("slots") or {}).get("main") or {}
            stamp = datetime.fromisoformat(str(raw["timestamp"]).replace("Z", "+00:00")).timestamp()
            self.revs.append(_Rev(int(raw["revid"]), str(raw.get("user", "")), stamp, frozenset(raw.get("tags", [])),
                                  str(raw.get("sha1", "")), main.get("content") if "texthidden" not in main else None))
        more = data.get("continue")
        self._continue = {k: v for k, v in more.items() if k.startswith("rv")} if more else None

    def restored_by(self, index: int) -> int | None:
        """The index of the older revision whose text revision ``index`` restores, if any."""
        rev = self.get(index)
        if rev is None or not rev.sha1:
            return None
        probe = index + 2  # the one right before it is what was reverted
        while (older := self.get(probe)) is not None:
            if older.sha1 == rev.sha1:
                return probe
            probe += 1
        return None


def _trusted(gateway: WikiGateway, user: str, editor: str, config: CommunityConfig) -> bool:
    if not user or is_ip(user) or user.replace("_", " ") == editor.replace("_", " "):
        return False
    users = gateway.query(list="users", ususers=user, usprop="rights")["query"].get("users", [])
    rights = frozenset(users[0].get("rights", [])) if users and "missing" not in users[0] else frozenset()
    return bool((rights - gateway.anonymous_rights()) & config.report_reviewer_rights)


@lru_cache(maxsize=4)  # one entry: pywikibot's Page class (bounded all the same, issue 29)
def text_page_class(page_class: Any) -> Any:
    class TextPage(page_class):  # type: ignore[misc]  # pywikibot's Page, untyped: subclassing Any
        """A page as one text shows it (pywikibot would otherwise read the current revision):
        every template the text invokes counts as used, and a redirect to an exclusion
        template stands for that template."""

        def __init__(self, site: Any, title: str, text: str, targets: dict[str, str]) -> None:
            self._given_text = text
            self._targets = targets
            super().__init__(site, title)

        @property
        def text(self) -> str:  # read-only: pywikibot's setter would check the current text
            return self._given_text

        def templates(self, *, content: bool = False, namespaces: Any = None) -> list[Any]:
            import pywikibot

            found = []
            for name, _ in pywikibot.textlib.extract_templates_and_params(self._given_text, strip=True):
                try:
                    found.append(page_class(pywikibot.Link(name, self.site, default_namespace=10)))
                except pywikibot.exceptions.Error:
                    continue
            if namespaces is None:
                return found
            wanted = self.site.namespaces.resolve(namespaces)
            return [t for t in found if t.namespace() in wanted]

        def templatesWithParams(self) -> list[tuple[Any, list[str]]]:  # noqa: N802 - pywikibot's name
            mapped = []
            for template, params in super().templatesWithParams():
                name = template.title(with_ns=False)
                target = self._targets.get(name)
                if target is not None and target != name:
                    template = page_class(self.site, f"Template:{target}")
                mapped.append((template, params))
            return mapped

    return TextPage
