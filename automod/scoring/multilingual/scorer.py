"""The :class:`~automod.scoring.base.Scorer` for a local multilingual model (``local:<name>``
whose card says ``"kind": "multilingual"``).

Each revision is read with the same :class:`~automod.scoring.revision_data.RevisionFetcher`
as the language-agnostic model (two Action API round trips: the revision, then its parent
with the editor's groups). The model is loaded once, at construction; a missing directory
raises :class:`~automod.scoring.base.UnknownModel`, an unreadable or tampered one
:class:`~automod.scoring.model_files.CorruptModel`, so the caller fails closed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from automod.errors import ScoringError, WikiError, WikiUnavailable
from automod.scoring.base import Score, ScorerUnavailable
from automod.scoring.features import EditData
from automod.scoring.multilingual.edit_texts import EditMeta, EditTexts, edit_meta
from automod.scoring.multilingual.edit_texts_cache import ExtractionCache
from automod.scoring.multilingual.serving import load_served
from automod.scoring.revision_data import Query, RevisionFetcher

__all__ = ["MultilingualScorer"]

log = logging.getLogger("automod.scoring.multilingual.scorer")
PREFIX = "local:"
PREFETCHED_MAX = 256


class MultilingualScorer:
    """Scores revisions of one wiki with a local multilingual model; load once, reuse."""

    def __init__(self, model_dir: Path, query: Query, *, lang: str = "en", threads: int = 2) -> None:
        self.lang = lang  # the differ's sentence and word rules; as in training (settings' wiki lang)
        self.model_dir = Path(model_dir)
        # Without torch when the card allows it (else torch, with a warning naming the cost).
        self.model = load_served(self.model_dir, threads=threads)
        self.extraction = ExtractionCache()  # the parent is often the revision scored a moment ago
        self.model_name = PREFIX + self.model_dir.name
        self.fetcher = RevisionFetcher(query)
        self._ready: dict[int, Score] = {}  # prefetched scores, oldest first
        self.closed = False

    @property
    def version(self) -> str:
        return self.model.card.id

    def _fetch(self, wiki: str, rev_id: int) -> EditData:
        try:
            return self.fetcher.fetch(rev_id)
        except WikiUnavailable as exc:
            raise ScorerUnavailable(f"{self.model_name}: cannot read r{rev_id} from {wiki}: {exc}") from exc
        except WikiError as exc:
            raise ScoringError(f"{self.model_name}: cannot read r{rev_id} from {wiki}: {exc}") from exc

    def _edit(self, wiki: str, rev_id: int) -> tuple[EditTexts, EditMeta]:
        edit = self._fetch(wiki, rev_id)
        return self.extraction.extract(edit.parent.text, edit.revision.text, edit.title, self.lang), edit_meta(edit)

    def _scores(self, edits: Sequence[tuple[EditTexts, EditMeta]]) -> list[Score]:
        probabilities = self.model.predict(edits)
        return [Score(probability=min(1.0, max(0.0, p)), model=self.model_name, version=self.version)
                for p in probabilities]

    def score_many(self, wiki: str, rev_ids: Sequence[int]) -> list[Score]:
        """Scores of revisions arriving together, run through the encoder as one micro-batch.

        Raises the first fetch error (callers wanting per-revision errors use :meth:`prefetch`
        and :meth:`score`).
        """
        if self.closed:
            raise ScoringError(f"{self.model_name} is closed")
        return self._scores([self._edit(wiki, rev_id) for rev_id in rev_ids])

    def prefetch(self, wiki: str, rev_ids: Sequence[int]) -> int:
        """Score, in one encoder batch, revisions waiting to be decided; their :meth:`score`
        then answers from memory. A revision that cannot be read is left for :meth:`score`
        to report. Returns how many were scored."""
        if self.closed:
            return 0
        ready: list[int] = []
        edits: list[tuple[EditTexts, EditMeta]] = []
        for rev_id in rev_ids:
            if rev_id in self._ready:
                continue
            try:
                edits.append(self._edit(wiki, rev_id))
            except ScoringError:
                continue
            ready.append(rev_id)
        if edits:
            self._ready.update(zip(ready, self._scores(edits)))
        while len(self._ready) > PREFETCHED_MAX:  # scored but never asked for (skipped later)
            self._ready.pop(next(iter(self._ready)))
        return len(ready)

    def score(self, wiki: str, rev_id: int) -> Score:
        ready = self._ready.pop(rev_id, None)
        return ready if ready is not None else self.score_many(wiki, [rev_id])[0]

    def close(self) -> None:
        self.closed = True
