"""Multilingual training from the same labelled sources as the language-agnostic model.

:func:`multilingual_dataset` reads the API window or the dump with an extractor, so every
record carries its text fragments; :func:`train_multilingual_model` turns the records into
:class:`~automod.training.multilingual_fit.LabelledEdit` values (metadata as serving sees
it: byte diff, anonymity, the editor's groups, change tags) and trains. Needs the
``multilingual`` extra (torch, transformers); the ``local`` one for xgboost.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automod.scoring.features import EditData
from automod.scoring.multilingual.edit_texts import edit_meta, extract_edit_texts
from automod.training.dataset import Dataset, TextExtractor
from automod.training.labels import LABEL_DEFINITION
from automod.training.train import MIN_EDITS, TrainingError, check_model_name

if TYPE_CHECKING:
    from automod.training.multilingual_fit import (
        LabelledEdit,
        TrainConfig,
        TrainResult,
    )

__all__ = ["labelled_edits", "text_extractor", "train_multilingual_model"]

log = logging.getLogger("automod.training.multilingual")


def text_extractor(lang: str) -> TextExtractor:
    """The extractor serving uses, for a wiki in ``lang`` (the differ's language rules)."""

    def extract(parent: str, text: str, title: str) -> Any:
        return extract_edit_texts(parent, text, title, lang)

    return extract


def labelled_edits(dataset: Dataset) -> list[LabelledEdit]:
    """The dataset's records as multilingual training examples, oldest first."""
    from automod.training.multilingual_fit import LabelledEdit

    out = []
    for record in dataset.sorted_records():
        if record.texts is None:
            raise TrainingError(f"{dataset.source} was read without text fragments; read it with an extractor")
        edit = EditData(revision=record.revision, parent=record.parent,
                        user=dataset.user_info(record), page_created=record.page_created, title=record.title)
        out.append(LabelledEdit(record.texts, edit_meta(edit), record.label))
    return out


def train_multilingual_model(dataset: Dataset, name: str, models_dir: Path, base: Path,
                             config: TrainConfig | None = None) -> TrainResult:
    """Train ``models_dir/name`` from ``dataset`` on the encoder checkpoint ``base``.

    Raises :class:`TrainingError` when the data cannot support a model or ``base`` is not a
    usable checkpoint directory.
    """
    from automod.training.multilingual_fit import TrainConfig, train_multilingual

    check_model_name(name)
    if not (Path(base) / "config.json").is_file():
        raise TrainingError(f"--base {base} is not a Hugging Face checkpoint directory (no config.json); "
                            "download one first, e.g. bert-base-multilingual-cased")
    edits = labelled_edits(dataset)
    if len(edits) < MIN_EDITS:
        raise TrainingError(f"only {len(edits)} labelled edits in {dataset.source}; need at least {MIN_EDITS}")
    data = {"source": dataset.source, "label": LABEL_DEFINITION, "notes": list(dataset.notes),
            "window": {"start": dataset.start.isoformat(), "end": dataset.end.isoformat()}}
    try:
        return train_multilingual(base, edits, Path(models_dir) / name, config=config or TrainConfig(),
                                  wiki=dataset.wiki, overwrite=True, data=data)
    except ValueError as exc:
        raise TrainingError(str(exc)) from exc
