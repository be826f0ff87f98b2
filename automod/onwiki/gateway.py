"""The only gateway to MediaWiki: reads what the skip rules need, rolls back, reads config.

Built on pywikibot (login, tokens, maxlag, throttling), using raw Action API requests where
pywikibot's helpers would hide what we need: ``action=rollback`` is sent *without*
``markbot`` (an API boolean is true whenever present, and the bot account is in the
``bot`` group), and with no internal retry, so a ``ratelimited`` answer comes back to the
moderator, which retries later instead of sleeping inside the stream loop.

Every pywikibot or network exception is translated here (:func:`_wiki_errors`) into
:class:`~automod.errors.WikiError` / :class:`~automod.errors.WikiUnavailable`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from automod.errors import ConfigError, WikiError, WikiUnavailable
from automod.records import (
    BlockInfo,
    EventMeta,
    RecentChange,
    RevisionContext,
    RollbackStatus,
    WikiProblem,
)
from automod.settings import WikiSettings

__all__ = [
    "ConfigPage",
    "RollbackResult",
    "TargetProblem",
    "WikiGateway",
    "is_ip",
    "load_pywikibot",
    "same_title",
]

log = logging.getLogger("automod.onwiki.gateway")

#: Rollback errors meaning "someone else already dealt with it": recorded, never retried.
BEATEN_CODES = frozenset({"alreadyrolled", "onlyauthor", "editconflict", "edit-conflict", "undofailure"})


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def same_title(a: str, b: str) -> bool:
    """The cheap comparison (underscores and spaces alike), for when no site is at hand;
    :meth:`WikiGateway.same_title` compares as the wiki does (namespaces, aliases, case)."""
    return a.replace("_", " ").strip() == b.replace("_", " ").strip()


@dataclass(frozen=True)
class ConfigPage:
    title: str
    namespace: int
    rev_id: int
    content_model: str
    text: str
    user: str = ""


@dataclass(frozen=True)
class RollbackResult:
    """The wiki's answer to a revert (a rollback or an undo). ``reverted_rev_ids``: every
    revision it took, oldest first — a rollback takes the editor's whole run of consecutive
    top edits, an undo only the one revision (empty when not done or when the wiki could not say)."""

    status: RollbackStatus
    revert_rev_id: int | None = None
    code: str | None = None
    info: str = ""
    reverted_rev_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class TargetProblem:
    """Why a rollback would not undo the revision meant (or why the wiki could not say)."""

    kind: WikiProblem
    detail: str

    def __str__(self) -> str:
        """The recorded reason: ``<kind>: <detail>``."""
        return f"{self.kind.value}: {self.detail}"


def load_pywikibot(pywikibot_dir: Path | None) -> Any:
    """Import pywikibot with our base directory (its config is read once, at import).

    The settings file is the operator's explicit choice, so it wins over a
    ``PYWIKIBOT_DIR`` inherited from the environment (a stray one would point the bot at
    another wiki's credentials and API).
    """
    import sys

    if pywikibot_dir is not None and not (pywikibot_dir / "user-config.py").exists():
        raise ConfigError(f"settings.pywikibot_dir {pywikibot_dir} has no user-config.py "
                          "(copy user-config.py.sample there and edit it)")
    if pywikibot_dir is None and "PYWIKIBOT_DIR" not in os.environ \
            and not (Path.home() / ".pywikibot/user-config.py").exists() and not Path("user-config.py").exists():
        # No credentials anywhere: read-only use (dry runs on Wikimedia wikis) still works.
        os.environ.setdefault("PYWIKIBOT_NO_USER_CONFIG", "2")
    if pywikibot_dir is not None:
        current = os.environ.get("PYWIKIBOT_DIR")
        if current and Path(current).resolve() != pywikibot_dir.resolve():
            log.warning("settings.pywikibot_dir=%s replaces PYWIKIBOT_DIR=%s", pywikibot_dir, current)
        if "pywikibot" in sys.modules and current and Path(current).resolve() != pywikibot_dir.resolve():
            log.warning("pywikibot is already loaded from %s in this process", current)
        else:
            os.environ["PYWIKIBOT_DIR"] = str(pywikibot_dir)
    import pywikibot  # noqa: PLC0415 - deliberately late: needs PYWIKIBOT_DIR first

    return pywikibot


@contextmanager
def _wiki_errors(what: str) -> Iterator[None]:
    """Translate pywikibot and network failures into automod's WikiError tree."""
    import pywikibot.exceptions as pwb_exc
    import requests

    try:
        yield
    except (requests.RequestException, pwb_exc.ApiTimeoutError, pwb_exc.ServerError,
            pwb_exc.MaxlagTimeoutError, ConnectionError) as exc:
        raise WikiUnavailable(f"{what}: {exc}") from exc
    except pwb_exc.APIError as exc:
        raise WikiError(f"{what}: {exc.code}: {exc.info}") from exc
    except pwb_exc.Error as exc:
        raise WikiError(f"{what}: {exc}") from exc


class WikiGateway:
    """One wiki, as the bot account sees it (or, with ``user``, another account of the password
    file: ``automod install-gadgets`` saves the gadget pages as an interface admin)."""

    def __init__(self, wiki: WikiSettings, pywikibot_dir: Path | None = None, *, login: bool = True,
                 user: str | None = None):
        self.wiki = wiki
        self.pywikibot = load_pywikibot(pywikibot_dir)
        config = self.pywikibot.config
        with _wiki_errors(f"connecting to {wiki.name}"):
            if wiki.name in config.family_files:
                self.site = self.pywikibot.Site(wiki.name, wiki.name, user=user)
            else:
                self.site = self.pywikibot.Site(url=wiki.api, user=user)
            # One bot per store (store/lock.py): the processes pywikibot counts in its
            # throttle.ctrl (dead ones for 10 minutes) must not multiply this one's delays.
            self.site.throttle.process_multiplicity = 1
            self.site.throttle.checkdelay = float("inf")
            if login:
                self.site.login()
        self._anon_rights: frozenset[str] | None = None
        self._month_names: list[str] | None = None

    @property
    def bot_user(self) -> str:
        return str(self.site.username() or "")

    def same_title(self, a: str, b: str) -> bool:
        """Whether MediaWiki would call ``a`` and ``b`` the same page: namespace names and
        aliases (``Project:``, the site's own name), first-letter case, underscores, Unicode
        normalisation — via pywikibot's title handling with this site's namespaces."""
        if same_title(a, b):
            return True  # the cheap path: identical up to underscores
        try:
            return bool(self.normal_title(a) == self.normal_title(b))
        except WikiError:
            return False

    def normal_title(self, title: str) -> str:
        """``title`` as the wiki spells it (canonical local namespace name, first letter, NFC)."""
        import unicodedata

        with _wiki_errors(f"reading the title {title!r}"):
            try:
                return str(self.pywikibot.Page(self.site, unicodedata.normalize("NFC", title)).title())
            except (ValueError, self.pywikibot.exceptions.InvalidTitleError) as exc:
                raise WikiError(f"invalid title {title!r}: {exc}") from exc

    def is_blocked(self, user: str) -> bool:
        """Whether ``user`` (a name or an IP) is blocked sitewide now."""
        params = {"bkip": user} if is_ip(user) else {"bkusers": user}
        blocks = self.query(list="blocks", bkprop="id|flags", **params)["query"].get("blocks", [])
        return any(not b.get("partial") for b in blocks)

    # -- reading ---------------------------------------------------------------------

    def query(self, **params: Any) -> dict[str, Any]:
        with _wiki_errors(f"query on {self.wiki.name}"):
            return dict(self.site.simple_request(action="query", formatversion=2, **params).submit())

    def parse(self, **params: Any) -> dict[str, Any]:
        """``action=parse`` (``page=`` or ``oldid=``); the ``parse`` part of the answer."""
        with _wiki_errors(f"parse on {self.wiki.name}"):
            return dict(self.site.simple_request(action="parse", formatversion=2, **params).submit()["parse"])

    def compare(self, **params: Any) -> dict[str, Any]:
        """``action=compare`` (``fromrev=``/``torev=``…); the ``compare`` part of the answer."""
        with _wiki_errors(f"compare on {self.wiki.name}"):
            return dict(self.site.simple_request(action="compare", formatversion=2, **params).submit()["compare"])

    def anonymous_rights(self) -> frozenset[str]:
        """Rights of logged-out editors (group ``*``); cached, they rarely change."""
        if self._anon_rights is None:
            groups = self.query(meta="siteinfo", siprop="usergroups")["query"]["usergroups"]
            self._anon_rights = frozenset(next((g["rights"] for g in groups if g["name"] == "*"), []))
        return self._anon_rights

    def revision_context(self, change: RecentChange, *, texts: bool = False,
                         templates: Sequence[str] = ()) -> RevisionContext:
        """What the skip rules and the rollback-target check need, in one API round trip (two
        only when someone edited the page since): the revision's page, user and tags, its
        parent's user, the page's top revision, the editor's rights, the bot's blocks; with
        ``texts``, the parent's and the revision's wikitext; with ``templates`` (titles with
        namespace), which of them the page's current revision uses (a links-table read)."""
        assert change.rev_id is not None
        revids = [change.rev_id] + ([change.parent_id] if change.parent_id else [])
        params: dict[str, Any] = {
            "revids": "|".join(map(str, revids)),
            "prop": "revisions|info", "rvprop": "ids|user|tags|timestamp", "inprop": "protection",
            "list": "blocks", "bkusers": self.bot_user or "-", "bkprop": "id|expiry|flags|restrictions",
        }
        if texts:
            params.update(rvprop="ids|user|tags|timestamp|content", rvslots="main")
        if templates:
            params.update(prop="revisions|info|templates", tltemplates="|".join(templates), tllimit="max")
        if not is_ip(change.user):
            params["list"] = "blocks|users"
            params["ususers"] = change.user
            params["usprop"] = "rights"
        data = self.query(**params)["query"]
        pages = [p for p in data.get("pages", []) if "missing" not in p]
        if not pages:
            raise WikiError(f"revision {change.rev_id} on {self.wiki.name} not found (deleted?)")
        revisions = {r["revid"]: r for p in pages for r in p.get("revisions", [])}
        this = revisions.get(change.rev_id)
        if this is None:
            raise WikiError(f"revision {change.rev_id} on {self.wiki.name} not found")
        page = next(p for p in pages if any(r["revid"] == change.rev_id for r in p.get("revisions", [])))
        parent = revisions.get(change.parent_id or -1)
        top_rev_id = int(page.get("lastrevid", change.rev_id))
        top_user = this.get("user", "")
        others_since = False
        if top_rev_id != change.rev_id:  # the rare case: the page moved on since (who edited?)
            since = self.query(pageids=page["pageid"], prop="revisions", rvstartid=change.rev_id, rvdir="newer",
                               rvprop="ids|user", rvlimit=50)["query"]["pages"][0].get("revisions", [])
            later = [r for r in since if int(r.get("revid", 0)) != change.rev_id]
            top_user = later[-1].get("user", "") if later and len(since) < 50 else "" if later else top_user
            others_since = len(since) >= 50 or any(r.get("user") != this.get("user") for r in later)
        if is_ip(change.user):
            rights = self.anonymous_rights()
        else:
            users = data.get("users", [{}])
            rights = frozenset(users[0].get("rights", [])) if users else frozenset()
        return RevisionContext(
            rev_id=change.rev_id,
            page_id=int(page["pageid"]),
            title=page["title"],
            namespace=int(page["ns"]),
            user=this.get("user", change.user),
            tags=frozenset(this.get("tags", [])),
            parent_id=change.parent_id,
            parent_user=parent.get("user") if parent else None,
            editor_rights=rights,
            fully_protected=any(p.get("type") == "edit" and p.get("level") not in ("autoconfirmed", "")
                                for p in page.get("protection", [])),
            top_rev_id=top_rev_id,
            top_user=top_user,
            bot_blocks=tuple(_block(b) for b in data.get("blocks", [])),
            edited_since_by_others=others_since,
            parent_text=_content(parent) if texts and parent else None,
            text=_content(this) if texts else None,
            templates_used=frozenset(str(t["title"]).partition(":")[2] for t in page.get("templates", [])),
        )

    def context_target_problem(self, change: RecentChange, context: RevisionContext) -> TargetProblem | None:
        """:meth:`rollback_target_problem` answered from a revision context already read (no
        request): the revision must be on the page and by the user the event claims, and no
        one else may have edited since. The rollback itself is conditional on ``user`` being
        the top editor, so an edit by someone else after the context read makes it ``beaten``."""
        assert change.rev_id is not None
        if not self.same_title(context.title, change.title):
            return TargetProblem(WikiProblem.TARGET_MISMATCH, f"r{change.rev_id} is not a revision of {change.title!r}")
        if context.user != change.user:
            return TargetProblem(WikiProblem.TARGET_MISMATCH, f"r{change.rev_id} is by {context.user!r}, "
                                 f"not {change.user!r}")
        if context.edited_since_by_others:
            return TargetProblem(WikiProblem.NOT_TOP_REVISION,
                                 f"{change.title!r} was edited by someone else since r{change.rev_id}")
        return None

    def config_page(self, title: str) -> ConfigPage | None:
        """The latest revision of the community config page, or None if it does not exist."""
        data = self.query(titles=title, prop="revisions|info",
                           rvprop="ids|content|contentmodel|user", rvslots="main")["query"]
        page = data["pages"][0]
        if "missing" in page or "invalid" in page or not page.get("revisions"):
            return None
        rev = page["revisions"][0]
        main = rev["slots"]["main"]
        return ConfigPage(title=page["title"], namespace=int(page["ns"]), rev_id=int(rev["revid"]),
                          content_model=main.get("contentmodel", page.get("contentmodel", "")),
                          text=main.get("content", ""), user=rev.get("user", ""))

    def revision_as_change(self, rev_id: int) -> RecentChange:
        """A recent-change record for an existing revision (for ``automod score``)."""
        data = self.query(revids=rev_id, prop="revisions|info", rvprop="ids|user|timestamp|comment|size|flags")
        pages = data["query"].get("pages", [])
        if not pages or "missing" in pages[0] or not pages[0].get("revisions"):
            raise WikiError(f"revision {rev_id} not found on {self.wiki.name}")
        page, rev = pages[0], pages[0]["revisions"][0]
        stamp = datetime.fromisoformat(rev["timestamp"].replace("Z", "+00:00"))
        return RecentChange(
            meta=EventMeta(id=f"score-{rev_id}", dt=rev["timestamp"], domain=self.site.hostname(),
                           stream="automod.score"),
            wiki=self.wiki.name, server_name=self.site.hostname(),
            type="edit" if rev.get("parentid") else "new", namespace=int(page["ns"]), title=page["title"],
            user=rev.get("user", ""), bot=False, timestamp=int(stamp.timestamp()), comment=rev.get("comment", ""),
            minor=bool(rev.get("minor")), rc_id=None, rev_id=rev_id, parent_id=rev.get("parentid") or None,
            length_old=None, length_new=rev.get("size"))

    def find_rollback(self, title: str, after_rev_id: int) -> int | None:
        """The bot's revert (rollback or undo) of ``title`` after ``after_rev_id``, if there is one."""
        data = self.query(titles=title, prop="revisions", rvstartid=after_rev_id, rvdir="newer",
                           rvprop="ids|user|tags", rvlimit=50)
        for rev in data["query"]["pages"][0].get("revisions", []):
            if rev.get("user") == self.bot_user and {"mw-rollback", "mw-undo"} & set(rev.get("tags", [])):
                return int(rev["revid"])
        return None

    def rollback_target_problem(self, title: str, rev_id: int, user: str) -> TargetProblem | None:
        """Why rolling back ``user``'s top edits on ``title`` would not undo revision ``rev_id``
        (None: it would). Asked just before a rollback, since a stream event's title and user
        are only claims: ``TARGET_MISMATCH`` when the revision is not on that page or not by
        that user, ``NOT_TOP_REVISION`` when someone else edited the page since."""
        data = self.query(titles=title, prop="revisions", rvstartid=rev_id, rvdir="newer",
                          rvprop="ids|user", rvlimit=50)
        pages = data["query"].get("pages") or [{}]
        revisions = pages[0].get("revisions", []) if "missing" not in pages[0] else []
        if not revisions or int(revisions[0].get("revid", 0)) != rev_id:
            return TargetProblem(WikiProblem.TARGET_MISMATCH, f"r{rev_id} is not a revision of {title!r}")
        if revisions[0].get("user") != user:
            by = revisions[0].get("user")
            return TargetProblem(WikiProblem.TARGET_MISMATCH, f"r{rev_id} is by {by!r}, not {user!r}")
        others = [r for r in revisions if r.get("user") != user]
        if others or len(revisions) == 50:
            return TargetProblem(WikiProblem.NOT_TOP_REVISION, f"{title!r} was edited by someone else since r{rev_id}")
        return None

    # -- acting ------------------------------------------------------------------------

    def edit(self, title: str, *, summary: str, text: str | None = None, appendtext: str | None = None,
             prependtext: str | None = None, section: str | None = None, sectiontitle: str | None = None,
             undo: int | None = None, undoafter: int | None = None, minor: bool = False,
             create_only: bool = False) -> int:
        """Save an edit (never bot-flagged); return the new revision id.

        ``appendtext`` needs no base revision, so appending cannot edit-conflict and never
        rewrites what humans wrote. Raises WikiError (e.g. ``articleexists`` with
        ``create_only``) or WikiUnavailable.
        """
        params: dict[str, Any] = {"action": "edit", "title": title, "summary": summary,
                                  "token": self.site.tokens["csrf"], "formatversion": 2}
        for key, value in (("text", text), ("appendtext", appendtext), ("prependtext", prependtext),
                           ("section", section),
                           ("sectiontitle", sectiontitle), ("undo", undo), ("undoafter", undoafter)):
            if value is not None:
                params[key] = value
        params["minor" if minor else "notminor"] = 1
        if create_only:
            params["createonly"] = 1
        with _wiki_errors(f"editing {title!r} on {self.wiki.name}"):
            result = self.site.simple_request(**params).submit()["edit"]  # no "bot" key: not bot-flagged
        if result.get("result") != "Success":
            raise WikiError(f"edit of {title!r} refused: {result}")
        return int(result.get("newrevid") or result.get("oldrevid") or 0)

    def page_text(self, title: str) -> tuple[int, str] | None:
        """(revision id, wikitext) of the latest revision of ``title``, or None if missing."""
        page = self.query(titles=title, prop="revisions", rvprop="ids|content", rvslots="main")["query"]["pages"][0]
        if "missing" in page or not page.get("revisions"):
            return None
        rev = page["revisions"][0]
        return int(rev["revid"]), rev["slots"]["main"].get("content", "")

    def month_names(self) -> list[str]:
        """The wiki's own names for the 12 months (its content language), for notice headings."""
        if self._month_names is not None:
            return list(self._month_names)
        keys = ["january", "february", "march", "april", "may_long", "june", "july", "august",
                "september", "october", "november", "december"]
        data = self.query(meta="allmessages", ammessages="|".join(keys), amenableparser=1)
        found = {m["name"]: m.get("content", "") for m in data["query"]["allmessages"]}
        self._month_names = [found.get(k) or k.title() for k in keys]  # a wiki's month names do not change
        return list(self._month_names)

    @property
    def index_url(self) -> str:
        return self.wiki.api.rsplit("/", 1)[0] + "/index.php"

    def rollback(self, title: str, user: str, summary: str, *,
                 scored: tuple[int, int] | None = None) -> RollbackResult:
        """Roll back ``user``'s consecutive top edits on ``title``; never bot-flagged.

        ``user`` must still be the top editor or MediaWiki refuses (``alreadyrolled``): the
        race guard. Not retried here: transient failures come back as ``retry-later``. A done
        rollback names every revision it took (from the answer's ``last_revid``, the revision
        restored, to its ``old_revid``, the top one it replaced). ``scored`` = ``(parent_id,
        rev_id)`` of the revision decided: when the answer shows the rollback took exactly it
        (the common case), no history is read to say so.
        """
        result = self._revert("rollback", {"action": "rollback", "title": title, "user": user, "summary": summary,
                                           "formatversion": 2}, title, user)  # no "markbot" key: present means true
        if isinstance(result, RollbackResult):
            return result
        answer = result["rollback"]
        revert = int(answer.get("revid", 0)) or None
        try:
            span = (int(answer["last_revid"]), int(answer["old_revid"]))
            taken = (span[1],) if span == scored else self._revisions_between(title, *span)
        except (KeyError, TypeError, ValueError, WikiError) as exc:  # done all the same; only the list is unknown
            log.warning("rollback of %s by %s on %s: which revisions it took is unknown: %s",
                        title, user, self.wiki.name, exc)
            taken = ()
        return RollbackResult(RollbackStatus.DONE, revert_rev_id=revert, reverted_rev_ids=taken)

    def undo(self, title: str, rev_id: int, parent_id: int, user: str, summary: str) -> RollbackResult:
        """Undo revision ``rev_id`` of ``title`` alone (``undo``/``undoafter=parent_id``), leaving
        the editor's earlier edits in place; never bot-flagged. ``undofailure`` (a conflicting
        later edit) and ``editconflict`` come back ``beaten``, a null result too (already undone)."""
        params = {"action": "edit", "title": title, "undo": rev_id, "undoafter": parent_id, "summary": summary,
                  "nocreate": 1, "notminor": 1, "formatversion": 2}  # no "bot" key: not bot-flagged
        result = self._revert("csrf", params, title, user)
        if isinstance(result, RollbackResult):
            return result
        answer = result["edit"]
        if answer.get("result") != "Success":
            return RollbackResult(RollbackStatus.FAILED, code="edit-refused", info=str(answer)[:300])
        if answer.get("nochange") or not answer.get("newrevid"):
            return RollbackResult(RollbackStatus.BEATEN, code="nochange", info="the revision is already undone")
        return RollbackResult(RollbackStatus.DONE, revert_rev_id=int(answer["newrevid"]), reverted_rev_ids=(rev_id,))

    def _revisions_between(self, title: str, after: int, upto: int) -> tuple[int, ...]:
        """The revisions of ``title`` after ``after`` up to ``upto`` (both ids), oldest first."""
        data = self.query(titles=title, prop="revisions", rvstartid=after, rvendid=upto, rvdir="newer",
                          rvprop="ids", rvlimit="max")
        pages = data["query"].get("pages") or [{}]
        return tuple(sorted(int(r["revid"]) for r in pages[0].get("revisions", []) if after < int(r["revid"]) <= upto))

    def _revert(self, token: str, params: dict[str, Any], title: str, user: str) -> RollbackResult | dict[str, Any]:
        """Send one reverting request without pywikibot's waits and retries: the answer, or
        how it failed (``beaten``, ``retry-later`` for what may pass, else ``failed``)."""
        import pywikibot.exceptions as pwb_exc

        try:
            request = _no_wait_request()(site=self.site, max_retries=0,
                                    parameters={**params, "token": self.site.tokens[token]})
            answer: dict[str, Any] = request.submit()
        except pwb_exc.APIError as exc:
            if exc.code in BEATEN_CODES:
                return RollbackResult(RollbackStatus.BEATEN, code=exc.code, info=exc.info)
            if exc.code in ("ratelimited", "readonly", "maxlag"):
                return RollbackResult(RollbackStatus.RETRY_LATER, code=exc.code, info=exc.info)
            return RollbackResult(RollbackStatus.FAILED, code=exc.code, info=exc.info)
        except _RateLimited:
            return RollbackResult(RollbackStatus.RETRY_LATER, code="ratelimited",
                                  info=f"{params['action']} rate limit reached")
        except (pwb_exc.ApiTimeoutError, pwb_exc.ServerError) as exc:
            # With max_retries=0 a maxlag or server error surfaces as a timeout error.
            return RollbackResult(RollbackStatus.RETRY_LATER, code=type(exc).__name__, info=str(exc))
        except Exception as exc:  # network: the revert may or may not have happened
            log.warning("%s of %s by %s on %s: %s", params["action"], title, user, self.wiki.name, exc)
            return RollbackResult(RollbackStatus.RETRY_LATER, code=type(exc).__name__, info=str(exc))
        return answer


class _RateLimited(Exception):
    """pywikibot met ``ratelimited`` on a reverting request (raised instead of its wait)."""


@lru_cache(maxsize=1)
def _no_wait_request() -> Any:
    """pywikibot's Request that hands ``ratelimited`` back instead of sleeping and retrying;
    made once (a class made per revert stays alive until a garbage collection, issue 29)."""
    from pywikibot.data.api import Request

    class NoWaitRequest(Request):  # type: ignore[misc]  # pywikibot is untyped: subclassing Any
        def _ratelimited(self) -> None:
            raise _RateLimited()

    return NoWaitRequest


def _content(revision: dict[str, Any]) -> str | None:
    main = (revision.get("slots") or {}).get("main") or {}
    if "texthidden" in main or "texthidden" in revision:
        return None
    content = main.get("content", revision.get("content"))
    return str(content) if content is not None else None


def _block(raw: dict[str, Any]) -> BlockInfo:
    restrictions = raw.get("restrictions") or {}
    if not raw.get("partial"):
        return BlockInfo(sitewide=True)
    return BlockInfo(
        sitewide=False,
        page_ids=frozenset(int(p["id"]) for p in restrictions.get("pages", [])),
        namespaces=frozenset(int(n) for n in restrictions.get("namespaces", [])),
    )
