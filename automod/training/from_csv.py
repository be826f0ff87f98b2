"""Labelled edits from a file: the contract used to compare models, and a community's own sets.

A UTF-8 CSV with a header. Columns (extra ones ignored): ``rev_id, wiki, title, timestamp``
(ISO 8601), ``user, user_is_anon`` (0/1), ``user_edit_count, user_registration`` (ISO),
``user_groups`` (comma-separated), ``user_warnings`` (count), ``page_created`` (ISO),
``comment, minor`` (0/1), ``old_text, new_text, text_kind`` (``full``: whole page texts;
``diff``: only the removed and the added text), ``label`` (1 = should be reverted).

Only ``old_text``, ``new_text`` (and, for training, ``label``) must be there; any other value
may be empty and is then *missing* to the model (NaN), not zero — e.g. a ``diff`` row has no
page sizes or wikitext counts. The features are those of the live bot
(:func:`automod.scoring.features.edit_features` and its parts), one definition. A malformed
value stops the run with an error naming the line and the column; nothing is written then.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from automod.errors import AutomodError
from automod.scoring import (
    CARD_FILE,
    FEATURE_NAMES,
    MISSING,
    EditDiff,
    UserInfo,
    content_features,
    edit_diff,
    feature_vector,
    text_counts,
    text_features,
    user_features,
    word_lists,
)
from automod.training.train import TrainingTable

__all__ = ["COLUMNS", "LabelledEdit", "LabelledEditsError", "csv_features", "read_labelled_edits", "score_csv",
           "table_from_csv"]

COLUMNS = ("rev_id", "wiki", "title", "timestamp", "user", "user_is_anon", "user_edit_count", "user_registration",
           "user_groups", "user_warnings", "page_created", "comment", "minor", "old_text", "new_text", "text_kind",
           "label")
TEXT_KINDS = ("full", "diff")


class LabelledEditsError(AutomodError):
    """The labelled-edits file cannot be read; the message names the line and the column."""


@dataclass(frozen=True)
class LabelledEdit:
    """One row, parsed; None where the file left the value empty."""

    line: int
    rev_id: int | None
    wiki: str
    title: str
    timestamp: datetime | None
    user: str
    anonymous: bool | None
    edit_count: int | None
    registration: datetime | None
    groups: frozenset[str] | None
    warnings: int | None
    page_created: datetime | None
    comment: str
    old_text: str
    new_text: str
    text_kind: str
    label: bool | None

    @property
    def lang(self) -> str:
        """The content language from the wiki's database name (``frwiki`` → ``fr``)."""
        code = self.wiki[:-4] if self.wiki.endswith("wiki") else self.wiki
        return {"simple": "en", "": "en"}.get(code, code.replace("_", "-"))


def _fail(path: Path, line: int, column: str, problem: str) -> LabelledEditsError:
    return LabelledEditsError(f"{path}, line {line}, column {column!r}: {problem}")


class _Row:
    def __init__(self, path: Path, line: int, raw: dict[str, str | None]) -> None:
        self.path, self.line, self.raw = path, line, raw

    def text(self, column: str) -> str:
        return (self.raw.get(column) or "").strip()

    def integer(self, column: str) -> int | None:
        value = self.text(column)
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
        if not number.is_integer():
            raise _fail(self.path, self.line, column, f"{value!r} is not a whole number")
        return int(number)

    def flag(self, column: str) -> bool | None:
        value = self.text(column)
        if value in ("", "0", "1"):
            return None if not value else value == "1"
        raise _fail(self.path, self.line, column, f"{value!r} should be 0 or 1")

    def moment(self, column: str) -> datetime | None:
        value = self.text(column)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _fail(self.path, self.line, column, f"{value!r} is not an ISO 8601 date and time") from None
        if moment.tzinfo is None:
            raise _fail(self.path, self.line, column, f"{value!r} has no time zone (add Z for UTC)")
        return moment


def read_labelled_edits(path: Path, *, require_label: bool) -> list[LabelledEdit]:
    """Every row of ``path``; raises LabelledEditsError naming the line and column of a bad value."""
    path = Path(path)
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(_parse(path, csv.DictReader(fh), require_label))
    except OSError as exc:
        raise LabelledEditsError(f"cannot read {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise LabelledEditsError(f"{path} is not UTF-8: {exc}") from exc
    except csv.Error as exc:
        raise LabelledEditsError(f"{path} is not a readable CSV file: {exc}") from exc


def _parse(path: Path, reader: csv.DictReader[str], require_label: bool) -> Iterator[LabelledEdit]:
    required = ["old_text", "new_text"] + (["label"] if require_label else [])
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise LabelledEditsError(f"{path}: the header lacks the column(s) {', '.join(missing)} "
                                 f"(expected columns: {', '.join(COLUMNS)})")
    for raw in reader:
        row = _Row(path, reader.line_num, raw)
        if None in raw.values() or None in raw:
            raise _fail(path, row.line, "(row)", "the row does not have as many fields as the header")
        kind = row.text("text_kind") or "full"
        if kind not in TEXT_KINDS:
            raise _fail(path, row.line, "text_kind", f"{kind!r} should be full or diff")
        label = row.flag("label")
        if require_label and label is None:
            raise _fail(path, row.line, "label", "empty; should be 0 or 1")
        groups = row.text("user_groups")
        yield LabelledEdit(
            line=row.line, rev_id=row.integer("rev_id"), wiki=row.text("wiki"), title=row.text("title"),
            timestamp=row.moment("timestamp"), user=row.text("user"), anonymous=row.flag("user_is_anon"),
            edit_count=row.integer("user_edit_count"), registration=row.moment("user_registration"),
            groups=frozenset(g.strip() for g in groups.split(",") if g.strip()) if groups else None,
            warnings=row.integer("user_warnings"), page_created=row.moment("page_created"),
            comment=raw.get("comment") or "", old_text=raw.get("old_text") or "", new_text=raw.get("new_text") or "",
            text_kind=kind, label=label)


def csv_features(edit: LabelledEdit) -> dict[str, float]:
    """The model's features of one row, NaN for what the row does not tell."""
    merged: dict[str, float] = dict.fromkeys(FEATURE_NAMES, MISSING)
    if edit.anonymous is not None and edit.timestamp is not None:
        user = UserInfo(edit.user, edit.anonymous, edit.edit_count, edit.registration, edit.groups,
                        warnings=edit.warnings)
        merged.update(user_features(user, edit.timestamp))
        if not edit.anonymous and edit.registration is None:
            merged["user_age"] = MISSING  # unknown here, not "an account without a registration date"
    merged["user_warnings"] = MISSING if edit.warnings is None else float(edit.warnings)
    if edit.timestamp is not None and edit.page_created is not None:
        merged["page_age"] = (edit.timestamp - edit.page_created).total_seconds() / 86400.0
    merged["has_comment"] = 1.0 if edit.comment else 0.0
    found = edit_diff(edit.old_text, edit.new_text)
    if edit.text_kind == "full":
        merged.update(text_features(text_counts(edit.new_text), text_counts(edit.old_text)))
        new_bytes, old_bytes = len(edit.new_text.encode()), len(edit.old_text.encode())
        merged["revision_text_bytes"] = float(new_bytes)
        merged["revision_text_bytes_diff"] = float(new_bytes - old_bytes)
        diff = found
    else:  # only the changed passages: where they sat in the page and its size are unknown
        diff = EditDiff(found.inserted, found.removed, markup_unbalanced_change=found.markup_unbalanced_change)
    merged.update(content_features(diff, word_lists(edit.lang), edit.comment))
    return merged


def table_from_csv(path: Path) -> TrainingTable:
    """A training table from a labelled-edits file (every row needs its label)."""
    edits = read_labelled_edits(path, require_label=True)
    wikis = sorted({e.wiki for e in edits if e.wiki})
    return TrainingTable(
        wiki=",".join(wikis) or "unknown", source=f"labelled edits: {Path(path).name}",
        label="the file's label column (1 = should be reverted)", exclusions="none (every row of the file)",
        rows=[feature_vector(csv_features(e)) for e in edits],
        labels=[bool(e.label) for e in edits],
        groups=[e.title or f"row {e.line}" for e in edits], timestamps=[e.timestamp for e in edits],
        notes=(f"{sum(e.text_kind == 'diff' for e in edits)} of {len(edits)} rows give only the changed text "
               "(text_kind=diff): their page sizes and wikitext counts are missing to the model",))


def score_csv(model_dir: Path, input_path: Path, output_path: Path) -> int:
    """Write ``rev_id,probability`` for every row of ``input_path``; return the row count.

    A language-agnostic model scores the features above; a multilingual model directory is
    scored from the texts by :func:`automod.scoring.multilingual.serving.score_edit_rows`.
    Nothing is written unless every row was read and scored.
    """
    edits = read_labelled_edits(input_path, require_label=False)
    if _is_multilingual(Path(model_dir)):
        from automod.scoring.multilingual import score_edit_rows

        scores = [MISSING] * len(edits)
        for lang in sorted({e.lang for e in edits}):  # one call per content language
            picked = [i for i, e in enumerate(edits) if e.lang == lang]
            rows = [{"old_text": edits[i].old_text, "new_text": edits[i].new_text, "title": edits[i].title,
                     "anonymous": bool(edits[i].anonymous), "groups": sorted(edits[i].groups or ())} for i in picked]
            try:
                for i, score in zip(picked, score_edit_rows(Path(model_dir), rows, lang=lang)):
                    scores[i] = score
            except ValueError as exc:
                raise LabelledEditsError(f"{input_path}: {exc}") from exc
    else:
        from automod.scoring import LocalModel

        model = LocalModel.load(Path(model_dir))
        scores = model.predict([feature_vector(csv_features(e)) for e in edits]) if edits else []
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output_path.name}.", dir=output_path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["rev_id", "probability"])
            for edit, score in zip(edits, scores):
                writer.writerow(["" if edit.rev_id is None else edit.rev_id,
                                 f"{min(1.0, max(0.0, score)):.6f}" if math.isfinite(score) else ""])
        os.replace(temporary, output_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(edits)


def _is_multilingual(model_dir: Path) -> bool:
    import json

    try:
        card = json.loads((model_dir / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # LocalModel.load says what is wrong
    return isinstance(card, dict) and card.get("kind") == "multilingual"

