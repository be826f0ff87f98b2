"""The shared false-positive page in the live loop: which thread does what.

The central wiki's thread reads the shared page when the stream shows it edited and once at
start, keeps its preload page, and writes the outcome lines and the implicit reports; each
governed wiki's thread links its notices to the shared page (when its config names no report
page of its own), stores the implicit reports made there, and restores confirmed edits with
its own gateway. The threads meet only through the :class:`SharedHub` inboxes and the store
(which keeps what must survive a stop: reinstatements, implicit reports, outcome lines written).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator

from automod.config import CommunityConfig
from automod.errors import AutomodError, StoreError
from automod.moderation.served_wiki import ServedWiki
from automod.onwiki import (
    ReinstateRequest,
    SharedPage,
    answer_waiting_shared,
    ensure_shared_preload,
    governed_wikis,
    post_lost_outcomes,
    post_outcome,
    reinstate_shared,
    review_config,
    shared_hub,
    shared_page_steps,
    shared_report_url,
    start_pass,
    write_implicit_reports,
)
from automod.records import RecentChange
from automod.store import Store

__all__ = ["queue_implicit_report", "run_shared_tasks", "shared_page_of", "shared_page_title", "shared_report_edit",
           "shared_report_link"]

log = logging.getLogger("automod.moderation.shared_tasks")

LabelHook = Callable[[Store, str, int, str], None]
_DONE: set[tuple[int, str, str]] = set()  # (id of the central ServedWiki, shared page, chore) done this run
_RETRY_AT: dict[tuple[int, str, str], float] = {}  # ... and when a failed try may be repeated
RETRY_SECONDS = 60.0
#: How often the reports waiting for the shared page's flood limits are looked at (a store read;
#: the wiki only when some wait and the limits allow a line).
WAITING_REPORTS_INTERVAL = 5.0
_WAITING_AT: dict[tuple[int, str], float] = {}
_LOCK = threading.Lock()


def _index(api: str) -> str:
    return api.rsplit("/", 1)[0] + "/index.php"


def shared_page_of(served: ServedWiki) -> tuple[SharedPage, CommunityConfig] | None:
    """The shared page the honoured central revision names (None: none, or not honoured),
    with the review rules of the central defaults."""
    central = served.central
    if central is None:
        return None
    page, _ = central.latest()
    if page is None or page.document is None or not page.shared_false_positive_page:
        return None
    settings = served.settings
    urls = {name: _index(settings.wiki(name).api) for name in governed_wikis(settings)}
    shared = SharedPage(central.central.wiki, page.shared_false_positive_page, page.label, urls,
                        _index(settings.wiki(central.central.wiki).api))
    return shared, review_config(page.document["defaults"], CommunityConfig())


def shared_report_edit(served: ServedWiki, store: Store, change: RecentChange,
                       on_label: LabelHook | None) -> Generator[None, None, bool]:
    """On the central wiki: an edit to the shared page starts a pass; True if it was that page.
    The steps of the pass (``onwiki.shared_page_steps``): the worker decides candidate edits
    between two of them, as on a local page."""
    found = _read_here(served)
    gateway = served.gateway
    if found is None or gateway is None or not (gateway.same_title(change.title, found[0].title) or
                                                gateway.same_title(change.title, f"{found[0].title}/Preload")):
        return False
    shared, config = found
    moved = served.shared_page_move()
    if moved is not None:  # fail closed: a report under a redirect is nobody's to answer
        log.warning("%s: shared report page edit r%s left alone: %s", served.name, change.rev_id, moved.reason())
        return True
    try:  # at every pass, and at every edit of the preload: as a trusted hand last set it
        ensure_shared_preload(gateway, shared.title, config)
    except StoreError:
        raise
    except AutomodError as exc:  # the reports are still answered; the next pass tries again
        log.error("%s: cannot check the shared preload: %s", served.name, exc)
    if not gateway.same_title(change.title, shared.title):
        return True
    try:
        yield from shared_page_steps(gateway, store, shared_hub(served.settings), shared, editor=change.user,
                                     config=config, on_label=on_label, rev_id=change.rev_id)
    except StoreError:
        raise  # the store is the bot's memory: a fault there stops the bot (workers.py)
    except AutomodError as exc:
        log.error("%s: cannot process the shared report page: %s", served.name, exc)
    return True


def _read_here(served: ServedWiki) -> tuple[SharedPage, CommunityConfig] | None:
    """The shared page, if this wiki's thread is the one that reads it (the central wiki's)."""
    if served.central is None or served.central.central.wiki != served.name or not served.login:
        return None
    return shared_page_of(served)


def shared_page_title(served: ServedWiki) -> str | None:
    """The shared page's title when this wiki's thread reads it (None otherwise)."""
    found = _read_here(served)
    return found[0].title if found is not None else None


def shared_report_link(served: ServedWiki, rev_id: int, title: str) -> str | None:
    """The notice's report link on a centrally governed wiki without its own report page."""
    config = served.applied.config
    found = shared_page_of(served)
    if config is None or config.false_positive_page or found is None:
        return None
    shared = found[0]
    if served.name not in shared.index_urls or served.applied.page != shared.central_label:
        return None
    return shared_report_url(_index(served.settings.wiki(shared.central_wiki).api), shared.title, rev_id=rev_id,
                             title=title, wiki=served.name, wiki_index=shared.index_urls[served.name])


def queue_implicit_report(served: ServedWiki, store: Store, *, reverted_rev: int, revert_rev: int,
                          restorer: str) -> bool:
    """A trusted human undid the bot's revert on this wiki, which has no report page of its
    own: if the revert was made under the central page, the report goes to the shared page.
    Stored here (this wiki's thread); the central wiki's thread writes it. False: not queued
    (no shared page, not a central-page revert, or reported before)."""
    config, found = served.applied.config, shared_page_of(served)
    decision = store.decision(served.name, reverted_rev)
    if config is None or config.false_positive_page or found is None or decision is None:
        return False
    shared = found[0]
    if served.name not in shared.index_urls or decision.config_page != shared.central_label:
        return False
    return store.upsert_report(wiki=served.name, rev_id=reverted_rev, kind="implicit", page=shared.label,
                               status="open", revert_rev_id=revert_rev, reporter=restorer)


def run_shared_tasks(served: ServedWiki, store: Store, on_label: LabelHook | None) -> None:
    """This wiki's inbox (requests to restore an edit here; on the central wiki, outcomes to
    write), and on the central wiki: the shared preload page and the start pass (once a run),
    and the implicit reports waiting in the store. Only ever this wiki's gateway."""
    if served.central is None or not served.login:
        return
    hub = shared_hub(served.settings)
    gateway = served.gateway
    for item in hub.take(served.name):
        try:
            if isinstance(item, ReinstateRequest):
                outcome = reinstate_shared(gateway, store, item, disabled=served.disabled_reason(), on_label=on_label)
                if outcome is not None:
                    hub.post(item.shared.central_wiki, outcome)
            elif gateway is None:
                hub.post(served.name, item)  # written once the central wiki answers again
            else:
                post_outcome(gateway, store, item)
        except StoreError:
            raise
        except (AutomodError, KeyError, ValueError, TypeError) as exc:  # costs only this item
            log.error("%s: shared report task on %s r%d failed: %s", served.name, item.wiki, item.rev_id, exc)
    if served.central.central.wiki != served.name or gateway is None:
        return
    found = shared_page_of(served)
    if found is None or served.shared_page_move() is not None:
        return  # (moved: the page is out of the bot's reach until the central page is saved again)
    shared, config = found
    _chore(served, shared.title, "preload", lambda: ensure_shared_preload(gateway, shared.title, config))
    _chore(served, shared.title, "start pass", lambda: start_pass(gateway, store, hub, shared, config=config,
                                                                  on_label=on_label))
    _chore(served, shared.title, "waiting lines", lambda: (post_lost_outcomes(gateway, store, shared),
                                                           write_implicit_reports(gateway, store, shared)), once=False)
    key = (id(served), shared.title)
    if time.monotonic() >= _WAITING_AT.get(key, float("-inf")):  # a store read: not at every pass
        _WAITING_AT[key] = time.monotonic() + WAITING_REPORTS_INTERVAL
        _chore(served, shared.title, "waiting reports", lambda: answer_waiting_shared(
            gateway, store, hub, shared, config=config, on_label=on_label), once=False)


def _chore(served: ServedWiki, title: str, what: str, action: Callable[[], object], *, once: bool = True) -> None:
    """Run a central-wiki chore: ``once`` a run (per thread and shared page), or each time;
    after a failure, not again for a minute (the log says why, once per try)."""
    key = (id(served), title, what)
    if key in _DONE or time.monotonic() < _RETRY_AT.get(key, float("-inf")):
        return
    try:
        action()
    except StoreError:
        raise  # the store is the bot's memory: a fault there stops the bot (workers.py)
    except AutomodError as exc:
        log.error("%s: shared report page, %s: %s", served.name, what, exc)
        _RETRY_AT[key] = time.monotonic() + RETRY_SECONDS
        return
    if once:
        with _LOCK:
            _DONE.add(key)
