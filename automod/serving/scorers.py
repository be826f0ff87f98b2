"""The scorers a server runs: the bot's own ``Scorer`` classes, one pool per wiki.

A served model is the same :class:`~automod.scoring.local.LocalScorer` or
:class:`~automod.scoring.multilingual.scorer.MultilingualScorer` the bot uses in-process,
reading revisions from the wiki's Action API anonymously (as Lift Wing's transformer does).
Those scorers keep per-wiki caches and are not thread-safe, so each request borrows one from
a bounded pool: at most ``threads`` scorers per wiki per worker process, built on first use.
A batch request is spread over up to ``threads`` of them at once (:meth:`ScorerPool.score_many`),
as Lift Wing fetches a batch's revisions concurrently.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import requests

from automod.errors import ScoringError, WikiError, WikiUnavailable
from automod.records import Score
from automod.scoring import Query, Scorer, wiki_lang
from automod.serving.contract import LIFTWING_NAMES, WikiRoute
from automod.settings import Settings

__all__ = ["ModelSpec", "ScorerPool", "api_query", "model_kind", "routes_from_settings"]

API_TIMEOUT = 10.0  # seconds per Action API call; Lift Wing's own is 5 s (AIOHTTP_CLIENT_TIMEOUT)


def model_kind(model_dir: Path) -> str:
    """``multilingual`` or ``language-agnostic``, from the model card (no torch import)."""
    try:
        from automod.scoring.multilingual import is_multilingual_model
    except ImportError:
        return "language-agnostic"
    return "multilingual" if is_multilingual_model(model_dir) else "language-agnostic"


@dataclass(frozen=True)
class ModelSpec:
    """What a server needs to build its scorers anywhere (it is pickled into each worker)."""

    model_dir: Path
    routes: Mapping[str, WikiRoute]  # Lift Wing lang → wiki
    content_langs: Mapping[str, str]  # Lift Wing lang → the wiki's content language
    user_agent: str
    threads: int = 2

    @property
    def kind(self) -> str:
        return model_kind(self.model_dir)

    @property
    def liftwing_name(self) -> str:
        return LIFTWING_NAMES[self.kind]

    @property
    def local_name(self) -> str:
        return self.model_dir.name


def routes_from_settings(settings: Settings) -> tuple[dict[str, WikiRoute], dict[str, str]]:
    """Each served wiki under its Lift Wing ``lang`` (``sandboxwiki`` → ``sandbox``), and its
    content language (the multilingual model's sentence rules)."""
    routes, langs = {}, {}
    for wiki in settings.wikis:
        try:
            code = wiki_lang(wiki.name)
        except ValueError:
            continue  # not a Wikipedia-style db name: Lift Wing's contract cannot name it
        routes[code] = WikiRoute(dbname=wiki.name, api=wiki.api)
        langs[code] = wiki.lang
    return routes, langs


def api_query(api_url: str, user_agent: str, timeout: float = API_TIMEOUT) -> Query:
    """``query(**params)`` → formatversion-2 JSON read anonymously over HTTP; a wiki that
    does not answer raises WikiUnavailable, an API error WikiError (what the scorers expect)."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent

    def query(**params: Any) -> dict[str, Any]:
        try:
            resp = session.post(api_url, data={"action": "query", "format": "json", "formatversion": 2, **params},
                                timeout=timeout)
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise WikiUnavailable(f"{api_url}: {exc}") from exc
        if "error" in data:
            raise WikiError(f"{data['error'].get('code')}: {data['error'].get('info')}")
        return data

    return query


def build_scorer(spec: ModelSpec, lang: str) -> Scorer:
    """One scorer of ``spec``'s model reading ``lang``'s wiki."""
    route = spec.routes[lang]
    query = api_query(route.api, spec.user_agent)
    if spec.kind == "multilingual":
        from automod.scoring.multilingual import MultilingualScorer

        return MultilingualScorer(spec.model_dir, query, lang=spec.content_langs.get(lang, "en"), threads=1)
    from automod.scoring import LocalScorer

    return LocalScorer(spec.model_dir, query)


class ScorerPool:
    """Up to ``spec.threads`` scorers per wiki, lent to one request at a time."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self._free: dict[str, queue.LifoQueue[Scorer]] = {}
        self._built: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self, lang: str) -> Iterator[Scorer]:
        """A scorer for ``lang`` (waiting for one when all are busy); returned afterwards."""
        with self._lock:
            free = self._free.setdefault(lang, queue.LifoQueue())
            build = free.empty() and self._built.get(lang, 0) < self.spec.threads
            if build:
                self._built[lang] = self._built.get(lang, 0) + 1
        if build:
            try:
                scorer = build_scorer(self.spec, lang)
            except BaseException:
                with self._lock:
                    self._built[lang] -= 1
                raise
        else:
            scorer = free.get()
        try:
            yield scorer
        finally:
            free.put(scorer)

    def score_many(self, lang: str, rev_ids: Sequence[int]) -> list[Score | ScoringError]:
        """Each revision's score, or the scoring error it raised, in order; the revisions are
        shared among up to ``threads`` of ``lang``'s scorers (this thread runs one of them).
        Anything but a ScoringError (a bug, no scorer could be built) is raised."""
        dbname = self.spec.routes[lang].dbname
        pending = iter(rev_ids)
        results: dict[int, Score | ScoringError] = {}
        faults: list[BaseException] = []
        lock = threading.Lock()

        def work() -> None:
            try:
                with self.borrow(lang) as scorer:
                    while True:
                        with lock:
                            rev_id = next(pending, None)
                        if rev_id is None:
                            return
                        try:
                            results[rev_id] = scorer.score(dbname, rev_id)
                        except ScoringError as exc:
                            results[rev_id] = exc
            except BaseException as exc:  # noqa: BLE001 - raised below, in the caller's thread
                faults.append(exc)

        helpers = [threading.Thread(target=work, name=f"batch-{lang}", daemon=True)
                   for _ in range(min(self.spec.threads, len(rev_ids)) - 1)]
        for helper in helpers:
            helper.start()
        work()
        for helper in helpers:
            helper.join()
        missing = [rev_id for rev_id in rev_ids if rev_id not in results]
        if missing:
            raise faults[0] if faults else RuntimeError(f"r{missing[0]} was never scored")
        return [results[rev_id] for rev_id in rev_ids]

    def close(self) -> None:
        with self._lock:
            for free in self._free.values():
                while not free.empty():
                    free.get_nowait().close()
            self._free.clear()
            self._built.clear()
