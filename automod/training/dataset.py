"""A labelled dataset: one record per eligible edit, independent of where it was read.

Both sources (the API, an XML dump) turn each page's history into :class:`PageRevision`
values and call :func:`page_records`, which applies the same eligibility rules (article
namespace, not a page creation, not a bot, inside the data window) and the same label
(:mod:`automod.training.labels`). Texts are reduced to :class:`TextCounts` as soon as they
are read, so a large dump never sits in memory; for the multilingual model a source also
keeps each page's texts until :func:`page_records` has turned every eligible edit into its
:class:`~automod.scoring.multilingual.edit_texts.EditTexts` (the fragments only).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from automod.scoring import (
    CONTENT_FEATURE_NAMES,
    MISSING,
    EditData,
    QualityMaxima,
    RevisionInfo,
    TextCounts,
    UserInfo,
    content_features,
    edit_diff,
    edit_features,
    feature_vector,
    word_lists,
)
from automod.scoring.multilingual import EditTexts
from automod.training.labels import HistoryRevision, reverted_by_others

__all__ = ["BOT_NAME", "Dataset", "EditRecord", "PageRevision", "TextExtractor", "label_summary", "page_records"]

#: ``(parent wikitext, wikitext, title) -> EditTexts``: what multilingual training reads of an edit.
TextExtractor = Callable[[str, str, str], EditTexts]

#: Dumps carry no user groups: names ending in "bot" are taken as bots there (the naming
#: rule most Wikipedias' bot policies set). API histories use the real ``bot`` group.
BOT_NAME = re.compile(r"bot$", re.IGNORECASE)
#: A record read without its texts: its content features are missing, not zero.
UNKNOWN_CONTENT: Mapping[str, float] = {name: MISSING for name in CONTENT_FEATURE_NAMES}


@dataclass(frozen=True)
class PageRevision:
    """One revision of a page's history, its text already reduced to counts."""

    rev_id: int
    parent_id: int
    timestamp: datetime
    user: str
    anonymous: bool
    sha1: str | None
    bytes: int
    comment: str
    counts: TextCounts | None
    tags: frozenset[str] = frozenset()
    #: The wikitext itself, kept only when the source was given a TextExtractor.
    text: str | None = None

    def history(self) -> HistoryRevision:
        return HistoryRevision(self.rev_id, self.timestamp, self.user, self.sha1, self.tags)

    def info(self) -> RevisionInfo:
        return RevisionInfo(rev_id=self.rev_id, timestamp=self.timestamp, bytes=self.bytes, comment=self.comment,
                            tags=self.tags)


@dataclass(frozen=True)
class EditRecord:
    """An eligible edit with its label; user facts are resolved later, for the whole set."""

    page_id: int
    title: str
    revision: RevisionInfo
    parent: RevisionInfo
    counts: TextCounts
    parent_counts: TextCounts
    user: str
    anonymous: bool
    page_created: datetime
    label: bool
    #: The edit's text fragments, when the source was given a TextExtractor.
    texts: EditTexts | None = None
    #: The content features (what was inserted and removed), computed while the texts were read.
    content: Mapping[str, float] | None = None


def page_records(page_id: int, title: str, history: Sequence[PageRevision], *,
                 start: datetime, end: datetime, is_bot: Callable[[str], bool],
                 extract: TextExtractor | None = None, lang: str = "en") -> list[EditRecord]:
    """Return the eligible, labelled edits of one page.

    ``history`` is oldest first and starts at the page's first revision or far enough
    before ``start`` to see the reverts of edits inside [``start``, ``end``]; it runs
    past ``end`` by 48 hours where possible, so late-window edits get their labels.
    """
    if not history:
        return []
    reverted = reverted_by_others([r.history() for r in history])
    by_id = {r.rev_id: r for r in history}
    created = history[0].timestamp
    out = []
    for rev in history:
        if not (start <= rev.timestamp <= end) or not rev.parent_id or is_bot(rev.user):
            continue
        parent = by_id.get(rev.parent_id)
        if parent is None or rev.counts is None or parent.counts is None:
            continue
        texts = None
        if extract is not None:
            if rev.text is None or parent.text is None:
                continue
            texts = extract(parent.text, rev.text, title)
        content = None
        if rev.text is not None and parent.text is not None:
            content = content_features(edit_diff(parent.text, rev.text), word_lists(lang), rev.comment)
        out.append(EditRecord(page_id=page_id, title=title, revision=rev.info(), parent=parent.info(),
                              counts=rev.counts, parent_counts=parent.counts, user=rev.user,
                              anonymous=rev.anonymous, page_created=created, label=rev.rev_id in reverted,
                              texts=texts, content=content))
    return out


@dataclass
class Dataset:
    """Records from one source, with what the model card says about them."""

    wiki: str
    source: str
    start: datetime
    end: datetime
    records: list[EditRecord]
    #: Resolves the editor of a record to a UserInfo as of the edit.
    user_info: Callable[[EditRecord], UserInfo]
    notes: tuple[str, ...] = ()

    def labels(self) -> dict[int, bool]:
        return {r.revision.rev_id: r.label for r in self.records}

    def sorted_records(self) -> list[EditRecord]:
        return sorted(self.records, key=lambda r: (r.revision.timestamp, r.revision.rev_id))

    def quality_maxima(self) -> QualityMaxima:
        return QualityMaxima.from_counts([r.counts for r in self.records])

    def matrix(self, records: Sequence[EditRecord], maxima: QualityMaxima) -> list[list[float]]:
        rows = []
        for r in records:
            edit = EditData(revision=r.revision, parent=r.parent, user=self.user_info(r), page_created=r.page_created)
            content = r.content if r.content is not None else UNKNOWN_CONTENT
            rows.append(feature_vector(edit_features(edit, r.counts, r.parent_counts, maxima, content)))
        return rows


def label_summary(records: Sequence[EditRecord]) -> Mapping[str, int]:
    positives = sum(r.label for r in records)
    return {"edits": len(records), "reverted": positives, "not_reverted": len(records) - positives}
