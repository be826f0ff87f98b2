"""What the encoder reads of a micro-batch of edits, without torch: the tokenized fragments,
their length-sorted batches and the booster row they end in.

Shared by the torch path (:mod:`.inference`, also used by training) and the torch-free
serving path (:mod:`.torch_free`), so that both read an edit the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from automod.scoring.multilingual.edit_texts import (
    EditMeta,
    EditTexts,
    metadata_features,
)

__all__ = ["Fragment", "booster_row", "encode_texts", "length_batches"]


@dataclass(frozen=True)
class Fragment:
    """One encoder input: which revision, which head, and its token ids."""

    revision: int
    kind: int
    input_ids: list[int]
    token_type_ids: list[int]


def encode_texts(tokenizer: Any, texts: Sequence[EditTexts], max_length: int, title_max_length: int,
                 max_texts: int) -> list[Fragment]:
    """Tokenize every fragment of ``texts`` (pairs for changes), truncated, unpadded.

    ``tokenizer`` is called as a Hugging Face tokenizer is (``tokenizer(texts, pairs,
    truncation=…, max_length=…)`` → ``{"input_ids": …, "token_type_ids": …}``).
    """
    singles: list[tuple[int, int, str]] = []
    pairs: list[tuple[int, str, str]] = []
    for r, edit in enumerate(texts):
        singles += [(r, 0, t) for t in edit.inserted[:max_texts]]
        singles += [(r, 1, t) for t in edit.removed[:max_texts]]
        pairs += [(r, old, new) for old, new in edit.changed[:max_texts]]
    out: list[Fragment] = []
    if singles:
        enc = tokenizer([t for _, _, t in singles], truncation=True, max_length=max_length)
        out += [Fragment(r, k, ids, [0] * len(ids)) for (r, k, _), ids in zip(singles, enc["input_ids"])]
    if pairs:
        enc = tokenizer([o for _, o, _ in pairs], [n for _, _, n in pairs], truncation="longest_first",
                        max_length=max_length, return_token_type_ids=True)
        out += [Fragment(r, 2, ids, tt) for (r, _, _), ids, tt in zip(pairs, enc["input_ids"], enc["token_type_ids"])]
    enc = tokenizer([edit.title for edit in texts], truncation=True, max_length=title_max_length)
    out += [Fragment(r, 3, ids, [0] * len(ids)) for r, ids in enumerate(enc["input_ids"])]
    return out


def length_batches(fragments: Sequence[Fragment], batch_rows: int, batch_tokens: int) -> list[list[Fragment]]:
    """Fragments sorted by length, cut so no batch exceeds ``batch_rows`` rows or
    ``batch_tokens`` padded tokens (a fragment longer than the budget goes alone)."""
    batches: list[list[Fragment]] = []
    current: list[Fragment] = []
    for f in sorted(fragments, key=lambda f: len(f.input_ids)):
        if current and (len(current) >= batch_rows or (len(current) + 1) * len(f.input_ids) > batch_tokens):
            batches.append(current)
            current = []
        current.append(f)
    if current:
        batches.append(current)
    return batches


def booster_row(texts: EditTexts, meta: EditMeta, aggregates: Sequence[Sequence[float]],
                title_score: float) -> list[float]:
    """One booster row, in FEATURE_NAMES order: metadata, counts, the insert/remove/change
    aggregates (8 each) and the title score (−1 without one)."""
    return [*metadata_features(meta).values(), *texts.action_vector(), *(v for agg in aggregates for v in agg),
            title_score]
