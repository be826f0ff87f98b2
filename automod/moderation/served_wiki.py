"""One served wiki's live state: its connection, its applied community config, its scorers.

Fail closed: until the wiki answers and its config page holds a valid config, the wiki is
*disabled* and :meth:`ServedWiki.disabled_reason` says why (recorded on every decision).
The config is re-read when the stream shows an edit to the page (the moderator calls
:meth:`ServedWiki.refresh_config` with ``force=True``) and every 10 minutes otherwise. An
invalid revision disables the wiki until a valid one replaces it: never an older config.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import requests

from automod.config import DEFAULT_SUMMARY, AppliedConfig, CommunityConfig, ConfigProblem
from automod.errors import AutomodError, StoreError, WikiError, WikiUnavailable
from automod.moderation.prefetch import ConcurrentPrefetch
from automod.onwiki import (
    CentralPage,
    ConfigPage,
    WikiGateway,
    central_changed,
    central_source,
    governed_config,
    governed_wikis,
    messages_for,
    read_config_page,
    same_title,
    unserved_wikis,
)
from automod.records import RecentChange
from automod.scoring import (
    KNOWN_LIFTWING_MODELS,
    ORES_MODELS,
    LiftWingRetry,
    LiftWingScorer,
    OresScorer,
    Scorer,
    ScorerUnavailable,
    Timeouts,
)
from automod.settings import Settings, WikiSettings
from automod.store import Store, SurfaceMove

__all__ = ["AvailableModels", "ServedWiki", "SurfaceMove"]

log = logging.getLogger("automod.moderation.served_wiki")

CONFIG_REFRESH_SECONDS = 600.0
RECONNECT_SECONDS = 60.0
#: A bot acting on live edits cannot wait a minute for one score: short timeouts, few tries.
LIVE_TIMEOUTS = Timeouts(connect=3.0, read=5.0)
LIVE_RETRY = LiftWingRetry(attempts=3, initial=0.5, cap=4.0)


def _is_multilingual(model_dir: Path) -> bool:
    """The model card says which kind of local model a folder holds (no torch import)."""
    try:
        from automod.scoring.multilingual import is_multilingual_model
    except ImportError:
        return False
    return bool(is_multilingual_model(model_dir))


class AvailableModels(Collection[str]):
    """The models a config may name, probing Lift Wing for an ORES-style one only when asked.

    ``in`` asks Lift Wing (once per model) whether this wiki has an ORES-style model;
    listing shows the always-available models and the ORES-style ones already found.
    """

    def __init__(self, always: tuple[str, ...], ores_available: Callable[[str], bool | None]) -> None:
        self._always = always
        self._ores_available = ores_available
        self._found: list[str] = []

    def __contains__(self, model: object) -> bool:
        if model in self._always or model in self._found:
            return True
        if isinstance(model, str) and model in ORES_MODELS and self._ores_available(model):
            self._found.append(model)
            return True
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._always + tuple(self._found))

    def __len__(self) -> int:
        return len(self._always) + len(self._found)


#: Moves of a central config page or of the shared report page it names, by (central wiki, page):
#: every wiki it governs (that uses it) is off until the central page is edited at its title again
#: (seen by the central wiki's worker). Kept in the store too: a restart loads them again.
_CENTRAL_MOVES: dict[tuple[str, str], SurfaceMove] = {}
_CENTRAL_MOVES_LOCK = threading.Lock()


class ServedWiki:
    def __init__(self, wiki: WikiSettings, settings: Settings, store: Store, *, login: bool = True):
        self.wiki = wiki
        self.settings = settings
        self.store = store
        self.login = login
        self.gateway: WikiGateway | None = None
        self.applied = AppliedConfig(None, None, (ConfigProblem("$page", "config not loaded yet"),))
        self._connect_error: str | None = None
        self._last_connect_try = -RECONNECT_SECONDS
        self._last_config_read = -CONFIG_REFRESH_SECONDS
        self._scorers: dict[str, Scorer] = {}
        self._ores_available: dict[str, bool] = {}
        self._loaded_once = False
        #: The central page shared by every wiki of this run (None: no central config).
        self.central = central_source(settings)
        self._central_seen = -1  # the central page's generation this wiki last derived from
        self._central_noticed = -1  # on the central wiki: the generation whose notice was handled
        self._central_last: CentralPage | None = None  # ... and the page it was about
        #: Called with (previous, new AppliedConfig, ConfigPage) when a new revision is applied.
        self.on_config_change: Callable[[AppliedConfig, AppliedConfig, ConfigPage], None] | None = None
        #: A move of one of the bot's own pages on this wiki: off until set right (``notice_move``);
        #: the store keeps it, so a restart does not forget it.
        self._moves: list[SurfaceMove] = store.open_surface_moves(wiki.name)
        if self.central is not None:
            with _CENTRAL_MOVES_LOCK:
                for move in store.open_surface_moves(self.central.central.wiki):
                    _CENTRAL_MOVES.setdefault((move.wiki, move.page), move)

    @property
    def name(self) -> str:
        return self.wiki.name

    @property
    def available_models(self) -> AvailableModels:
        """Models a config may name here: revert-risk, ORES-style ones this wiki has, local ones."""
        return AvailableModels(KNOWN_LIFTWING_MODELS + self._local_models(), self._ores_model_available)

    def _ores_model_available(self, model: str) -> bool | None:
        """Whether Lift Wing has ``model`` for this wiki; None when it cannot say now.

        Asked only when a config names the model, so a wiki that never selects an
        ORES-style model never probes Lift Wing nor warns about it.
        """
        if model in self._ores_available:
            return self._ores_available[model]
        try:
            found = self._ores_scorer(model).available()
        except AutomodError as exc:  # Lift Wing down: not available now, ask again later
            log.warning("%s: cannot check whether Lift Wing has %s here: %s", self.name, model, exc)
            return None
        self._ores_available[model] = found
        return found

    def _local_models(self) -> tuple[str, ...]:
        try:
            from automod.scoring import local_model_names
        except ImportError:  # the "local" extra is not installed
            return ()
        return tuple(f"local:{name}" for name in local_model_names(self.settings.models_dir))

    def _liftwing_options(self) -> dict[str, Any]:
        token_env = self.settings.liftwing.token_env
        return {"user_agent": self.settings.user_agent, "timeouts": LIVE_TIMEOUTS, "retry": LIVE_RETRY,
                "token": os.environ.get(token_env) if token_env else None}

    def _ores_scorer(self, model: str) -> OresScorer:
        return OresScorer(self.settings.liftwing.url, model, self.name, **self._liftwing_options())

    def is_config_page(self, title: str) -> bool:
        """This wiki's own config page, or (on the central wiki) the central page."""
        if self.central is not None and self.central.is_central_page(self.name, title, self.gateway):
            return True
        if self.gateway is not None:
            return self.gateway.same_title(title, self.wiki.config_page)
        return same_title(title, self.wiki.config_page)

    # -- moves of the bot's own pages ---------------------------------------------------------

    def _same(self, title: str, other: str) -> bool:
        return self.gateway.same_title(title, other) if self.gateway is not None else same_title(title, other)

    def _shared_page(self) -> str | None:
        """The shared report page the honoured central revision names (None: none)."""
        if self.central is None:
            return None
        page, _ = self.central.latest()
        return page.shared_false_positive_page if page is not None and page.document is not None else None

    def _central_surface(self, page: str) -> bool:
        """Whether ``page`` (a configured title on this wiki) is the central page or the shared
        report page (its preload included): a move of it turns off the wikis that use it."""
        if self.central is None or self.central.central.wiki != self.name:
            return False
        shared = self._shared_page()
        return page == self.central.central.page or (shared is not None and page in (shared, f"{shared}/Preload"))

    def surface_of(self, title: str) -> str | None:
        """Which of the bot's pages ``title`` is (its configured title), or None: the config page,
        the central page and the shared report page with its preload (on the central wiki), the
        report page and its preload."""
        if self.central is not None and self.central.is_central_page(self.name, title, self.gateway):
            return self.central.central.page
        pages = [self.wiki.config_page]
        shared = self._shared_page() if self.central is not None and self.central.central.wiki == self.name else None
        if shared is not None:
            pages += [shared, f"{shared}/Preload"]
        config = self.applied.config
        if config is not None and config.false_positive_page:
            pages += [config.false_positive_page, f"{config.false_positive_page}/Preload"]
        return next((page for page in pages if self._same(title, page)), None)

    def notice_move(self, change: RecentChange) -> SurfaceMove | None:
        """A move from or onto one of the bot's pages turns the wiki off (fail closed; the central
        page or the shared report page: every wiki using it), stored so a restart keeps it off:
        the move, when it is a new one (the caller says so once on the config talk page), else
        None. A move onto the page counts too: a moved page brings no trust."""
        if not change.is_move or change.move_target is None:
            return None
        page = self.surface_of(change.title) or self.surface_of(change.move_target)
        if page is None:
            return None
        move = SurfaceMove(self.name, page, change.title, change.move_target, change.user, change.rc_id, time.time())
        central = self._central_surface(page)
        if central:  # the wikis using it are off (``_central_move``), this one only if it is one of them
            with _CENTRAL_MOVES_LOCK:
                first = _CENTRAL_MOVES.setdefault((self.name, page), move) is move
        else:
            first = self.moved is None
        if not any(m.rc_id == move.rc_id and m.rc_id is not None for m in self._moves):
            self._moves.append(move)
        self.store.record_surface_move(move)
        log.error("%s: %s; %s off until the config page is saved again at its title", self.name, move.reason(),
                  "every wiki using it is" if central else "the wiki is")
        return move if first else None

    @property
    def moved(self) -> SurfaceMove | None:
        """The first move of one of this wiki's own pages not set right yet (a move of the central
        or shared page counts through ``_central_move``, for the wikis using it)."""
        return next((m for m in self._moves if not self._central_surface(m.page)), None)

    def notice_config_saved(self, change: RecentChange) -> None:
        """An edit saved at the config page's (or the central page's) own title, by someone who may
        edit it, with a valid config: the bot's pages are set right again (the move is over)."""
        if change.type not in ("edit", "new") or self.applied.config is None:
            return
        central_saved = None
        if self.central is not None and self.central.is_central_page(self.name, change.title, self.gateway):
            with _CENTRAL_MOVES_LOCK:
                central_saved = [key for key in _CENTRAL_MOVES if key[0] == self.name]
                for key in central_saved:
                    del _CENTRAL_MOVES[key]
            self.store.clear_surface_moves(self.name, change.user)
        elif not self._same(change.title, self.wiki.config_page):
            return
        else:
            with _CENTRAL_MOVES_LOCK:
                central = tuple(page for wiki, page in _CENTRAL_MOVES if wiki == self.name)
            self.store.clear_surface_moves(self.name, change.user, keep=central)
        moved = self.moved
        self._moves = [m for m in self._moves if self._central_surface(m.page)] if central_saved is None else []
        if moved is not None:
            log.info("%s: %s saved again by %s (r%s): the move of %s is over", self.name, change.title,
                     change.user, change.rev_id, moved.source)

    def shared_page_move(self) -> SurfaceMove | None:
        """A move of the shared report page (or its preload) not set right yet, if any."""
        shared = self._shared_page()
        if self.central is None or shared is None:
            return None
        with _CENTRAL_MOVES_LOCK:
            return next((_CENTRAL_MOVES[(self.central.central.wiki, page)] for page in (shared, f"{shared}/Preload")
                         if (self.central.central.wiki, page) in _CENTRAL_MOVES), None)

    def _central_move(self) -> SurfaceMove | None:
        """The move of the central page that governs this wiki now, or of the shared report page
        it uses (no report page of its own), if any."""
        if self.central is None or self.applied.page is None or self.applied.page == self.wiki.config_page:
            return None
        with _CENTRAL_MOVES_LOCK:
            moved = _CENTRAL_MOVES.get((self.central.central.wiki, self.central.central.page))
        config = self.applied.config
        if moved is None and (config is None or not config.false_positive_page):
            moved = self.shared_page_move()
        return moved

    # -- connection ------------------------------------------------------------------------

    def connect(self) -> WikiGateway | None:
        """The gateway, connecting first if needed (at most once a minute while it fails)."""
        if self.gateway is not None:
            return self.gateway
        now = time.monotonic()
        if now - self._last_connect_try < RECONNECT_SECONDS:
            return None
        self._last_connect_try = now
        try:
            # pywikibot retries an unreachable wiki for minutes; a quick probe fails fast.
            requests.get(self.wiki.api, params={"action": "query", "meta": "siteinfo", "format": "json"},
                         headers={"User-Agent": self.settings.user_agent}, timeout=5).raise_for_status()
            self.gateway = WikiGateway(self.wiki, self.settings.pywikibot_dir, login=self.login)
        except (requests.RequestException, AutomodError) as exc:
            self._connect_error = f"wiki-unavailable: {exc}"
            log.error("%s: cannot connect to %s: %s", self.name, self.wiki.api, exc)
            return None
        except Exception as exc:  # pywikibot setup errors (no user-config, unknown family...)
            self._connect_error = f"wiki-unavailable: {type(exc).__name__}: {exc}"
            log.error("%s: cannot set up pywikibot for %s: %s", self.name, self.wiki.api, exc)
            return None
        self._connect_error = None
        log.info("%s: connected to %s as %s", self.name, self.wiki.api, self.gateway.bot_user or "(anonymous)")
        return self.gateway

    # -- config ------------------------------------------------------------------------------

    def _centrally_governed(self) -> bool:
        return self.central is not None and self.central.central.governs(self.name)

    def refresh_config(self, force: bool = False) -> AppliedConfig:
        """Re-read the config page (every 10 minutes, when ``force``d, or when the central page
        changed); with no local page, the central page's block governs (if this wiki may be)."""
        applied = self._refresh_config(force)
        self._notice_central_change()
        return applied

    def _notice_central_change(self) -> None:
        """On the central wiki, never in a dry run: post the central page's change notice.
        Posted from this wiki's own thread, whose gateway no other thread uses."""
        if self.central is None or not self.login or self.central.central.wiki != self.name or self.gateway is None:
            return
        page, generation = self.central.latest()
        if page is None or generation == self._central_noticed:
            return
        try:
            central_changed(self.gateway, self.store, self._central_last, page, self.central.governed_states())
        except WikiUnavailable as exc:  # passing: tried again at the next refresh
            log.warning("%s: cannot post the central config notice yet: %s", self.name, exc)
            return
        except StoreError:
            raise  # the store is the bot's memory: a fault there stops the bot (workers.py)
        except AutomodError as exc:
            log.error("%s: cannot post the central config notice: %s", self.name, exc)
        self._central_noticed, self._central_last = generation, page

    def _refresh_config(self, force: bool) -> AppliedConfig:
        central_moved = self._centrally_governed() and self.central is not None \
            and self.central.generation != self._central_seen
        if not force and not central_moved and time.monotonic() - self._last_config_read < CONFIG_REFRESH_SECONDS:
            return self.applied
        if force and self.central is not None and self.central.central.wiki == self.name:
            self.central.page(CONFIG_REFRESH_SECONDS, force=True)  # the central page may be what changed
        gateway = self.connect()
        if gateway is None:
            return self.applied
        try:
            read = read_config_page(gateway, self.wiki.config_page, self.available_models)
        except WikiError as exc:
            log.error("%s: cannot read %s: %s", self.name, self.wiki.config_page, exc)
            return self.applied  # the last applied revision is still the latest known one
        self._last_config_read = time.monotonic()
        page = read[0] if read is not None else None
        if self.central is not None and self._centrally_governed():
            self.central.local_pages[self.name] = page is not None
        if page is None and self._centrally_governed():
            applied = self._central_config()
        elif page is None:
            applied = AppliedConfig(None, None, (ConfigProblem("$page", f"{self.wiki.config_page} does not exist"),),
                                    page=self.wiki.config_page)
        else:
            assert read is not None
            parsed = read[1]
            problems = parsed.problems
            if not problems and parsed.config is not None:
                problems = self._load_scorers(parsed.config)
            applied = AppliedConfig(page.rev_id, None if problems else parsed.config, problems,
                                    page=self.wiki.config_page)
            self.store.record_config(self.name, page.rev_id, not problems, [str(p) for p in problems], page.text)
        if applied != self.applied:
            previous = self.applied
            if self.on_config_change is not None and page is not None and previous.rev_id != applied.rev_id \
                    and self._loaded_once and applied.page == previous.page == self.wiki.config_page:
                try:
                    self.on_config_change(previous, applied, page)
                except StoreError:
                    raise
                except AutomodError as exc:
                    log.error("%s: cannot post the config-change notice: %s", self.name, exc)
            if applied.config is not None:
                log.info("%s: applied config %s revision %s (enabled=%s, mode=%s, model=%s, threshold=%s)",
                         self.name, applied.page or self.wiki.config_page, applied.rev_id, applied.config.enabled,
                         applied.config.mode, applied.config.model, applied.config.threshold)
            else:
                log.error("%s: config %s revision %s is unusable, wiki disabled: %s", self.name,
                          applied.page or self.wiki.config_page, applied.rev_id,
                          "; ".join(map(str, applied.problems)))
        self.applied = applied
        self._loaded_once = True
        return applied

    def _central_config(self) -> AppliedConfig:
        """This wiki's block of the central page (merged over its defaults), or why not."""
        assert self.central is not None
        central_page, self._central_seen = self.central.page(CONFIG_REFRESH_SECONDS)
        applied, text = governed_config(central_page, self.name, self.available_models)
        if applied.config is not None:
            problems = self._load_scorers(applied.config)
            if problems:
                applied = AppliedConfig(applied.rev_id, None, problems, page=applied.page)
        if applied.rev_id is not None:
            self.store.record_config(self.name, applied.rev_id, not applied.problems,
                                     [str(p) for p in applied.problems], text)
        return applied

    def _load_scorers(self, config: CommunityConfig) -> tuple[ConfigProblem, ...]:
        """Load local models now: a missing or corrupt model file disables the wiki."""
        problems = []
        for i, choice in enumerate(config.models):
            if not choice.model.startswith("local:"):
                continue
            self._scorers.pop(choice.model, None)
            try:
                self.scorer(choice.model)
            except AutomodError as exc:
                path = "$.model" if len(config.models) == 1 else f"$.models[{i}].model"
                problems.append(ConfigProblem(path, f"cannot load {choice.model}: {exc}"))
        return tuple(problems)

    def disabled_reason(self) -> str | None:
        """Why nothing may be scored or reverted on this wiki now, or None."""
        if self.gateway is None and self._connect_error:
            return self._connect_error
        moved = self.moved or self._central_move()
        if moved is not None:
            return moved.reason()
        if self.applied.config is None:
            return "config-invalid: " + "; ".join(map(str, self.applied.problems))
        if not self.applied.config.enabled:
            return "disabled-by-config"
        return None

    # -- scoring -------------------------------------------------------------------------------

    def scorer(self, model: str) -> Scorer:
        if model not in self._scorers and model in ORES_MODELS:
            self._scorers[model] = self._remote(lambda: self._ores_scorer(model))
        elif model not in self._scorers and model.startswith("local:"):
            from automod.scoring import LocalScorer

            gateway = self.connect()
            if gateway is None:
                raise ScorerUnavailable(f"{self.name} is not reachable for local scoring")
            model_dir = self.settings.models_dir / model.removeprefix("local:")
            if _is_multilingual(model_dir):
                from automod.scoring.multilingual import MultilingualScorer

                self._scorers[model] = MultilingualScorer(model_dir, gateway.query, lang=self.wiki.lang)
            else:
                self._scorers[model] = LocalScorer(model_dir, gateway.query)
        if model not in self._scorers:
            self._scorers[model] = self._remote(
                lambda: LiftWingScorer(self.settings.liftwing.url, model, **self._liftwing_options()))
        return self._scorers[model]

    def scorers_made(self) -> list[Scorer]:
        """The scorers made so far (asking makes none, unlike :meth:`scorer`)."""
        return list(self._scorers.values())

    def _remote(self, make: Callable[[], Scorer]) -> Scorer:
        """A remote scorer, able to score queued candidates concurrently unless the operator
        set ``scoring.max_in_flight`` to 1 (then one edit at a time, as before)."""
        limit = self.settings.scoring.max_in_flight
        return make() if limit <= 1 else ConcurrentPrefetch(make(), make, limit)

    def liftwing_stats(self) -> list[Any]:
        """Request/error counters of the scorers that call Lift Wing (for the heartbeat);
        safe to call from another thread while this wiki's worker adds scorers."""
        found = (getattr(s, "stats", None) for s in list(self._scorers.values()))
        return [stats for stats in found if stats is not None]

    def close(self) -> None:
        for scorer in self._scorers.values():
            scorer.close()


#: The messages ``check-config`` shows as the wiki will get them (its language, the community's overrides).
SHOWN_MESSAGES = ("automod-notice-heading", "automod-notice", "automod-notice-summary", "automod-report-preload",
                  "automod-warning-template")


def check_config(settings: Settings, wiki_name: str) -> dict[str, Any]:
    """Fetch and validate ``wiki_name``'s config page; the effective config or its problems.

    The effective texts are the wiki's: the rollback summary in its content language unless
    the community wrote its own, and the main messages (:data:`SHOWN_MESSAGES`) with its overrides."""
    from automod.store import Store

    served = ServedWiki(settings.wiki(wiki_name), settings, Store(":memory:"), login=False)
    gateway = served.connect()
    if gateway is None:
        raise WikiError(served.disabled_reason() or f"cannot connect to {wiki_name}")
    applied = served.refresh_config(force=True)
    config = applied.config
    report: dict[str, object] = {"wiki": wiki_name, "page": applied.page or settings.wiki(wiki_name).config_page,
                                 "revision": applied.rev_id, "problems": [str(p) for p in applied.problems]}
    central = served.central.latest()[0] if served.central is not None else None
    if central is not None:  # blocks of the central page that govern nothing (a warning, not a problem)
        report["warnings"] = unserved_wikis(central.document, governed_wikis(settings))
    if config is not None:
        messages = messages_for(gateway)
        report["effective"] = {
            "enabled": config.enabled, "mode": config.mode,
            "models": [{"model": m.model, "threshold": m.threshold} for m in config.models],
            "skip_rights": sorted(config.skip_rights),
            "max_reverts_per_user_per_page": config.max_reverts_per_user_per_page,
            "max_edit_age_minutes": config.max_edit_age_minutes,
            "max_reverts_per_hour": config.max_reverts_per_hour, "minor": config.minor,
            "talk_notice": {"enabled": config.talk_notice_enabled,
                            "registered_only": config.talk_notice_registered_only},
            "false_positive_page": config.false_positive_page, "help_page": config.help_page,
            "language": messages.language,
            "summary": (config.summary if config.summary != DEFAULT_SUMMARY
                        else messages.text("automod-rollback-summary")),
            "messages": {key: messages.text(key) for key in SHOWN_MESSAGES if key in messages.texts},
        }
    return report
