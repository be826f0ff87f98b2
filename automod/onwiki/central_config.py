"""The central configuration page: one JSON page on one served wiki that governs many.

For small wikis with no local interface administrator. The page holds
``{"defaults": {…}, "wikis": {"<dbname>": {…}}}``; each block is a community config (same
schema as a local page) and a wiki's block overrides the defaults key by key. It governs a
served wiki only while that wiki has *no* local config page (a local page wins entirely, a
local ``{"enabled": false}`` opts out) and the operator has not listed it as opted out.

Fail closed, every wiki user being a possible attacker: the page is honoured only while the
wiki's own protection and group rights (read through the API on every read) let nobody
outside ``central_config.editor_groups`` edit it, and its latest revision was saved by a
member of those groups. Otherwise every wiki it would govern stays disabled, with the reason.
A wrong or vandalised central page can therefore only switch wikis off, never on elsewhere.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from automod.config import AppliedConfig, ConfigProblem, parse_config
from automod.errors import AutomodError, WikiError
from automod.onwiki.gateway import WikiGateway
from automod.schemas import COMMUNITY_CONFIG, schema_problems
from automod.settings import CentralConfigSettings, Settings

__all__ = ["CentralPage", "CentralSource", "SHARED_KEY", "central_source", "central_status", "editing_groups",
           "governed_config", "content_author", "governed_wikis", "merged_block", "parse_central", "read_central_page",
           "shared_page_problem", "unserved_wikis"]

log = logging.getLogger("automod.onwiki.central_config")

#: A protection level names a right, except the two historical names MediaWiki maps.
_LEVEL_RIGHTS = {"sysop": "editprotected", "autoconfirmed": "editsemiprotected"}
#: The central-only key naming a shared false-positive page on the central wiki (shared_reports.py).
SHARED_KEY = "shared_false_positive_page"
#: Keys that together choose the model(s) and threshold: a block's choice replaces the defaults'.
_THRESHOLD_KEYS = frozenset({"threshold", "caution_level"})


@dataclass(frozen=True)
class CentralPage:
    """One read of the central page: its revision and document, or why it is refused."""

    wiki: str
    title: str
    rev_id: int | None
    document: dict[str, Any] | None
    problems: tuple[ConfigProblem, ...] = ()
    #: Who saved the revision (for the change notice); "" when hidden or unknown.
    user: str = ""

    @property
    def label(self) -> str:
        """How decisions name the page that governed them: ``<wiki>:<title>``."""
        return f"{self.wiki}:{self.title}"

    @property
    def shared_false_positive_page(self) -> str | None:
        """The shared report page on the central wiki this revision names (only while honoured)."""
        value = self.document.get(SHARED_KEY) if self.document is not None else None
        return value.strip() if isinstance(value, str) and value.strip() else None


def editing_groups(namespace: int, content_model: str, protection: list[dict[str, Any]],
                   usergroups: list[dict[str, Any]]) -> frozenset[str] | None:
    """The smallest set of groups one of which every possible editor of the page must hold,
    or None when nothing beyond the plain ``edit`` right restricts it.

    Editing needs every restricting right (``editinterface``/``editsitejson`` for a JSON page
    in the MediaWiki namespace, the right each edit-protection level names); an editor holds
    each of them through some group, so the groups holding any one of them bound the editors.
    """
    rights = set()
    if namespace == 8:
        rights.add("editinterface")
        if content_model == "json":
            rights.add("editsitejson")
    for entry in protection:
        if entry.get("type") == "edit" and entry.get("level"):
            rights.add(_LEVEL_RIGHTS.get(str(entry["level"]), str(entry["level"])))
    if not rights:
        return None
    holders = {right: frozenset(g["name"] for g in usergroups if right in g.get("rights", ())) for right in rights}
    return min(holders.values(), key=lambda groups: (len(groups), sorted(groups)))


def parse_central(text: str) -> tuple[dict[str, Any] | None, tuple[ConfigProblem, ...]]:
    """The central document, with every block checked against the community-config schema."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        return None, (ConfigProblem("$", f"not valid JSON: {exc}"),)
    if not isinstance(data, dict):
        return None, (ConfigProblem("$", "the central page should hold a JSON object"),)
    problems = [ConfigProblem(f"$.{key}", f"unknown key (the central page has defaults, wikis and {SHARED_KEY})")
                for key in data if key not in ("defaults", "wikis", SHARED_KEY)]
    shared = data.get(SHARED_KEY)
    if shared is not None and shared_page_problem(shared):
        problems.append(ConfigProblem(f"$.{SHARED_KEY}", str(shared_page_problem(shared))))
    defaults, wikis = data.get("defaults", {}), data.get("wikis", {})
    blocks: list[tuple[str, Any]] = [("$.defaults", defaults)]
    if isinstance(wikis, dict):
        blocks += [(f"$.wikis.{name}", block) for name, block in wikis.items()]
    else:
        problems.append(ConfigProblem("$.wikis", "should be an object: {\"<dbname>\": {…}}"))
    for root, block in blocks:
        if not isinstance(block, dict):
            problems.append(ConfigProblem(root, "should be an object"))
            continue
        problems += [ConfigProblem(p.path, p.message) for p in schema_problems(block, COMMUNITY_CONFIG, root=root)]
    if problems:
        return None, tuple(problems)
    return {"defaults": defaults, "wikis": wikis, **({SHARED_KEY: shared} if shared else {})}, ()


def shared_page_problem(value: object) -> str | None:
    """Why ``value`` cannot name the shared false-positive page (a title on the central wiki),
    or None. Only the central page's editors can set it, but the title is still written into
    report links and read back as a page name: no markup, no fragment, no control character."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 255:
        return "should be a page title on the central wiki (1 to 255 characters)"
    if set(value) & set("#<>[]{}|") or any(ord(c) < 32 or c == "\x7f" for c in value) or value.startswith(":"):
        return "a page title may not hold # < > [ ] { } | or control characters, nor start with ':'"
    return None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def merged_block(document: dict[str, Any], wiki: str) -> dict[str, Any]:
    """The defaults overridden key by key by ``wiki``'s block; a block's model or threshold
    choice replaces the defaults' (a block's caution level is never beaten by a default threshold).
    ``"enabled": false`` in the defaults is the global switch: no block can turn a wiki back on."""
    defaults, block = dict(document["defaults"]), dict(document["wikis"].get(wiki, {}))
    if defaults.get("enabled") is False:  # the global switch: off everywhere it governs
        block.pop("enabled", None)
    if "models" in block:
        for key in ("model", *_THRESHOLD_KEYS):
            defaults.pop(key, None)
    if "model" in block or _THRESHOLD_KEYS & set(block):
        defaults.pop("models", None)
    if _THRESHOLD_KEYS & set(block):
        for key in _THRESHOLD_KEYS:
            defaults.pop(key, None)
    return {**defaults, **block}


def governed_config(page: CentralPage, wiki: str, available_models: Collection[str]) -> tuple[AppliedConfig, str]:
    """The config the central page gives ``wiki`` (or its problems), and the JSON it came from."""
    if page.document is None:
        problems = tuple(ConfigProblem(p.path, f"central page {page.label}: {p.message}") for p in page.problems)
        return AppliedConfig(page.rev_id, None, problems, page=page.label), ""
    block = merged_block(page.document, wiki)
    text = json.dumps(block, sort_keys=True)
    talk_block = block.get("talk_notice")
    talk: dict[str, Any] = talk_block if isinstance(talk_block, dict) else {}
    if page.shared_false_positive_page and talk.get("enabled") is True and not block.get("false_positive_page"):
        # Notices link to the shared page (shared_reports.py), which stands in for a local
        # report page: checked as if notices were off, then switched back on.
        parsed = parse_config(json.dumps({**block, "talk_notice": {**talk, "enabled": False}}), available_models)
        if parsed.config is not None:
            parsed = dataclasses.replace(parsed, config=dataclasses.replace(parsed.config, talk_notice_enabled=True))
    else:
        parsed = parse_config(text, available_models)
    root = f"$.wikis.{wiki}" if wiki in page.document["wikis"] else "$.defaults"
    problems = tuple(ConfigProblem(root + p.path.removeprefix("$"), f"central page {page.label}: {p.message}")
                     for p in parsed.problems)
    return AppliedConfig(page.rev_id, None if problems else parsed.config, problems, page=page.label), text


#: What a wiki's database name looks like (enwiki, zh_min_nanwiki, commonswiki).
_DBNAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def unserved_wikis(document: dict[str, Any] | None, governed: Collection[str]) -> list[str]:
    """Warnings for the central page's ``wikis`` blocks that govern nothing: a name that is
    no wiki's database name (``../../etc``), or a wiki this bot does not govern (not served,
    or opted out): such a block is ignored, which its author should know."""
    if not document or not isinstance(document.get("wikis"), dict):
        return []
    out = []
    for name in document["wikis"]:
        if not _DBNAME.match(str(name)):
            out.append(f"$.wikis.{name}: not a wiki's database name; the block is ignored")
        elif name not in governed:
            out.append(f"$.wikis.{name}: a wiki this bot does not serve or govern; the block is ignored")
    return out


def governed_wikis(settings: Settings) -> tuple[str, ...]:
    """The served wikis the central page may govern (each only while it has no local page)."""
    central = settings.central_config
    if central is None:
        return ()
    return tuple(w.name for w in settings.wikis if central.governs(w.name))


def read_central_page(gateway: WikiGateway, central: CentralConfigSettings) -> CentralPage:
    """Read the page, its protection and the wiki's group rights in one request; refuse it
    unless only ``editor_groups`` can edit it and its last revision is by one of them."""
    data = gateway.query(titles=central.page, prop="revisions|info", inprop="protection",
                         rvprop="ids|content|contentmodel|user", rvslots="main",
                         meta="siteinfo", siprop="usergroups")["query"]
    info = data["pages"][0]
    if "missing" in info or "invalid" in info or not info.get("revisions"):
        return CentralPage(central.wiki, central.page, None, None,
                           (ConfigProblem("$page", f"{central.page} does not exist on {central.wiki}"),))
    rev = info["revisions"][0]
    main = rev["slots"]["main"]
    rev_id, model = int(rev["revid"]), str(main.get("contentmodel", info.get("contentmodel", "")))
    saver = "" if "userhidden" in rev else str(rev.get("user", ""))

    def refused(message: str) -> CentralPage:
        return CentralPage(central.wiki, info["title"], rev_id, None, (ConfigProblem("$page", message),), saver)

    if model != "json":
        return refused(f"{info['title']} has content model {model!r}, not json")
    groups = editing_groups(int(info["ns"]), model, list(info.get("protection", [])), data["usergroups"])
    allowed = ", ".join(sorted(central.editor_groups))
    if groups is None:
        return refused(f"{info['title']} is not protected: anyone who can edit can change it "
                       f"(protect it so only {allowed} can edit)")
    if not groups <= central.editor_groups:
        return refused(f"{info['title']} can be edited by groups outside {allowed}: "
                       f"{', '.join(sorted(groups - central.editor_groups))}")
    author, author_rev = content_author(gateway, info["title"])
    users = gateway.query(list="users", ususers=author or "-", usprop="groups")["query"].get("users", [])
    if not users or "missing" in users[0] or not set(users[0].get("groups", ())) & central.editor_groups:
        return refused(f"its text (revision {author_rev}) was saved by {author or 'a hidden user'}, "
                       f"who is not in {allowed}")
    document, problems = parse_central(main.get("content", ""))
    return CentralPage(central.wiki, info["title"], rev_id, document, problems, saver)


def central_status(settings: Settings) -> dict[str, Any]:
    """What ``automod status`` says of the central page, read now: the revision honoured, the
    wikis it governs (``governs``: no local page), those whose own page wins (``own_page``),
    those whose local page could not be read (``unknown``), or why it governs nothing."""
    central = settings.central_config
    assert central is not None
    governs: list[str] = []
    own_page: list[str] = []
    unknown: list[str] = []
    for name in governed_wikis(settings):
        wiki = settings.wiki(name)
        try:  # a local page wins entirely: such a wiki is not governed (read now, as the bot would)
            local = WikiGateway(wiki, settings.pywikibot_dir, login=False).config_page(wiki.config_page)
        except AutomodError as exc:
            log.warning("%s: cannot tell whether %s exists: %s", name, wiki.config_page, exc)
            unknown.append(name)
            continue
        (own_page if local is not None else governs).append(name)
    out: dict[str, Any] = {"wiki": central.wiki, "page": central.page, "governs": governs,
                           "own_page": own_page, "opted_out": sorted(central.opted_out)}
    if unknown:
        out["unknown"] = unknown
    try:
        page = read_central_page(WikiGateway(settings.wiki(central.wiki), settings.pywikibot_dir, login=False),
                                 central)
    except AutomodError as exc:
        return {**out, "revision": None, "problems": [f"cannot read the central page: {exc}"]}
    return {**out, "revision": page.rev_id, "problems": [str(p) for p in page.problems],
            "warnings": unserved_wikis(page.document, governed_wikis(settings))}


def content_author(gateway: WikiGateway, title: str, limit: int = 50) -> tuple[str, int | None]:
    """Who wrote the page's current text: the author of the oldest revision of the latest run
    with the same text (protecting a page adds a revision by the protecting admin, with the
    text unchanged). ``""`` when that cannot be told within ``limit`` revisions."""
    page = gateway.query(titles=title, prop="revisions", rvprop="ids|user|sha1", rvlimit=limit)["query"]["pages"][0]
    revisions = page.get("revisions", [])
    if not revisions or "sha1hidden" in revisions[0] or "userhidden" in revisions[0]:
        return "", None
    run = list(revisions)
    for i, rev in enumerate(revisions):
        if rev.get("sha1") != revisions[0].get("sha1"):
            run = revisions[:i]
            break
    else:
        if len(revisions) >= limit:
            return "", None
    first = run[-1]
    return ("" if "userhidden" in first else str(first.get("user", ""))), int(first["revid"])


class CentralSource:
    """The central page as every wiki's thread sees it: read at most once per ``max_age``
    (or when the page is seen edited), shared, thread-safe. ``generation`` grows whenever
    what the page says changes, so each wiki re-derives its config within one refresh."""

    def __init__(self, settings: Settings) -> None:
        assert settings.central_config is not None
        self.settings = settings
        self.central = settings.central_config
        self.generation = 0
        self._page: CentralPage | None = None
        self._read_at = float("-inf")
        self._gateway: WikiGateway | None = None
        self._lock = threading.Lock()
        #: Whether each governed wiki has a local page (which wins), as its thread last read it.
        self.local_pages: dict[str, bool] = {}

    def latest(self) -> tuple[CentralPage | None, int]:
        """The latest read and its generation, without reading (None: never read yet)."""
        with self._lock:
            return self._page, self.generation

    def governed_states(self) -> list[tuple[str, bool]]:
        """Every wiki the page may govern, with whether it has a local page (then unaffected)."""
        return [(wiki, self.local_pages.get(wiki, False)) for wiki in governed_wikis(self.settings)]

    def is_central_page(self, wiki: str, title: str, gateway: WikiGateway | None) -> bool:
        if wiki != self.central.wiki:
            return False
        if gateway is not None:
            return gateway.same_title(title, self.central.page)
        return title.replace("_", " ") == self.central.page.replace("_", " ")

    def page(self, max_age: float, force: bool = False) -> tuple[CentralPage, int]:
        """The latest read and its generation, re-read when older than ``max_age`` seconds
        or ``force``d."""
        with self._lock:
            if force or self._page is None or time.monotonic() - self._read_at >= max_age:
                self._read()
            assert self._page is not None
            return self._page, self.generation

    def _read(self) -> None:
        try:
            if self._gateway is None:
                self._gateway = WikiGateway(self.settings.wiki(self.central.wiki), self.settings.pywikibot_dir,
                                            login=False)
            page = read_central_page(self._gateway, self.central)
        except (WikiError, AutomodError) as exc:
            log.error("central config: cannot read %s on %s: %s", self.central.page, self.central.wiki, exc)
            if self._page is not None:  # the last read is still the latest known revision
                return
            page = CentralPage(self.central.wiki, self.central.page, None, None,
                               (ConfigProblem("$page", f"cannot read the central page: {exc}"),))
        self._read_at = time.monotonic()
        if page != self._page:
            self.generation += 1
            if page.document is not None:
                log.info("central config: applied %s revision %s", page.label, page.rev_id)
            else:
                log.error("central config: %s revision %s refused, the wikis it governs are disabled: %s",
                          page.label, page.rev_id, "; ".join(map(str, page.problems)))
        self._page = page


_SOURCES: dict[Settings, CentralSource] = {}
_SOURCES_LOCK = threading.Lock()


def central_source(settings: Settings) -> CentralSource | None:
    """The one shared source for these settings (every wiki thread of a run gets the same)."""
    if settings.central_config is None:
        return None
    with _SOURCES_LOCK:
        if settings not in _SOURCES:
            _SOURCES[settings] = CentralSource(settings)
        return _SOURCES[settings]
