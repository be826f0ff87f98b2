"""The :class:`~automod.scoring.base.Scorer` for a local multilingual model (``local:<name>``
whose card says ``"kind": "multilingual"``).

Per revision, two Action API round trips through ``query(**params)`` (formatversion 2;
``WikiGateway.query`` in production): the revision with content, size, user and tags,
then its parent's content and size together with the editor's groups. The model is loaded
once, at construction; a missing directory raises
:class:`~automod.scoring.base.UnknownModel`, an unreadable or tampered one
:class:`~automod.scoring.multilingual.model.CorruptModel`, so the caller fails closed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automod.errors import ScoringError, WikiError, WikiUnavailable
from automod.scoring.base import Score, ScorerUnavailable, Unscorable, wiki_lang
from automod.scoring.multilingual.edit_texts import (
    EditMeta,
    EditTexts,
    extract_edit_texts,
)
from automod.scoring.multilingual.inference import InferenceConfig, Predictor
from automod.scoring.multilingual.model import MultilingualModel
from automod.scoring.revision_data import (
    REVISION_PROPS,
    Query,
    RevisionFetcher,
    _check_visible,
    _one_revision,
)

__all__ = ["FetchedEdit", "MultilingualScorer", "fetch_edit"]

log = logging.getLogger("automod.scoring.multilingual.scorer")
PREFIX = "local:"


@dataclass(frozen=True)
class FetchedEdit:
    """What the model reads of one revision, fetched from the wiki."""

    rev_id: int
    title: str
    parent_text: str
    text: str
    meta: EditMeta


def fetch_edit(query: Query, rev_id: int) -> FetchedEdit:
    """Fetch ``rev_id``, its parent and its editor; raises Unscorable for page creations
    (``parent_revision_missing``), hidden revisions and unknown ids."""
    first = query(revids=rev_id, prop="revisions", rvprop=REVISION_PROPS, rvslots="main")
    page, rev = _one_revision(first, rev_id)
    _check_visible(rev)
    parent_id = int(rev.get("parentid") or 0)
    if not parent_id:
        raise Unscorable(f"revision {rev_id} creates a page", code="parent_revision_missing")
    name = str(rev.get("user", ""))
    anonymous = bool(rev.get("anon")) or int(rev.get("userid", 0)) == 0
    params: dict[str, Any] = {"revids": parent_id, "prop": "revisions", "rvprop": "ids|size|content",
                              "rvslots": "main"}
    if not anonymous:
        params.update(list="users", ususers=name, usprop="groups")
    second = query(**params)
    try:
        _page, parent = _one_revision(second, parent_id)
        _check_visible(parent)
    except Unscorable as exc:
        raise Unscorable(f"parent {parent_id} of revision {rev_id} is missing or hidden",
                         code="parent_revision_missing") from exc
    user = RevisionFetcher._user(name, anonymous, second.get("query", {}).get("users", []))
    meta = EditMeta(bytes_diff=int(rev.get("size", 0)) - int(parent.get("size", 0)), anonymous=user.anonymous,
                    groups=user.groups, tags=frozenset(str(t) for t in rev.get("tags", [])))
    return FetchedEdit(rev_id=rev_id, title=str(page.get("title", "")),
                       parent_text=str(parent["slots"]["main"]["content"]), text=str(rev["slots"]["main"]["content"]),
                       meta=meta)


def _lang(wiki: str) -> str:
    try:
        return wiki_lang(wiki)
    except ValueError:  # not a Wikipedia (a sandbox wiki, say): the differ's defaults are English
        return "en"


class MultilingualScorer:
    """Scores revisions of one wiki with a local multilingual model; load once, reuse."""

    def __init__(self, model_dir: Path, query: Query, *,
                 config: InferenceConfig = InferenceConfig(keep_fp32=False)) -> None:
        self.model_dir = Path(model_dir)
        self.model = MultilingualModel.load(self.model_dir)
        self.predictor = Predictor(self.model, config)
        self.model_name = PREFIX + self.model_dir.name
        self.query = query
        self.closed = False

    @property
    def version(self) -> str:
        return self.model.card.id

    def _fetch(self, wiki: str, rev_id: int) -> FetchedEdit:
        try:
            return fetch_edit(self.query, rev_id)
        except WikiUnavailable as exc:
            raise ScorerUnavailable(f"{self.model_name}: cannot read r{rev_id} from {wiki}: {exc}") from exc
        except WikiError as exc:
            raise ScoringError(f"{self.model_name}: cannot read r{rev_id} from {wiki}: {exc}") from exc

    def score_many(self, wiki: str, rev_ids: Sequence[int]) -> list[Score]:
        """Scores of revisions arriving together, run through the encoder as one micro-batch.

        Raises the first fetch error (callers wanting per-revision errors use :meth:`score`).
        """
        if self.closed:
            raise ScoringError(f"{self.model_name} is closed")
        lang = _lang(wiki)
        edits: list[tuple[EditTexts, EditMeta]] = []
        for rev_id in rev_ids:
            fetched = self._fetch(wiki, rev_id)
            edits.append((extract_edit_texts(fetched.parent_text, fetched.text, fetched.title, lang), fetched.meta))
        probabilities = self.predictor.predict(edits)
        for rev_id, p in zip(rev_ids, probabilities):
            log.debug("%s: r%d scored %.4f by %s", wiki, rev_id, p, self.model_name)
        return [Score(probability=min(1.0, max(0.0, p)), model=self.model_name, version=self.version)
                for p in probabilities]

    def score(self, wiki: str, rev_id: int) -> Score:
        return self.score_many(wiki, [rev_id])[0]

    def close(self) -> None:
        self.closed = True
