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

from automod.scoring import EditData
from automod.scoring.multilingual import edit_meta, extract_edit_texts
from automod.training.dataset import Dataset, TextExtractor
from automod.training.labels import LABEL_DEFINITION
from automod.training.train import MIN_EDITS, TrainingError, check_model_name

if TYPE_CHECKING:
    from automod.training.multilingual_fit import (
        LabelledEdit,
        TrainConfig,
        TrainResult,
    )

__all__ = ["labelled_edits", "text_extractor", "train_multilingual_model", "upgrade_model_dir"]

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


def upgrade_model_dir(model_dir: Path) -> dict[str, Any]:
    """Add the torch-free heads (``heads.npz``, the same weights as ``heads.pt``) to an older
    multilingual model directory and list them in its card; returns the new card.

    Raises TrainingError for a directory that is not a readable multilingual model. The
    int8 ONNX export and its measurement need the training data: retrain for those.
    """
    import json
    import os

    import torch

    from automod.scoring import CARD_FILE, sha256_path, verify_sha256
    from automod.scoring.multilingual import (
        HEADS_FILE,
        HEADS_NPZ,
        ONNX_DATA,
        ONNX_FILE,
        MultilingualCard,
        save_heads_npz,
        with_external_data,
    )
    from automod.training.multilingual_fit import SERVING_NOTE

    model_dir = Path(model_dir)
    try:
        data = json.loads((model_dir / CARD_FILE).read_text(encoding="utf-8"))
        card = MultilingualCard.from_json(data)
        verify_sha256(model_dir / HEADS_FILE, card.sha256.get(HEADS_FILE), card.id)
        state = torch.load(model_dir / HEADS_FILE, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainingError(f"{model_dir} is not a readable multilingual model: {type(exc).__name__}: {exc}") from exc
    save_heads_npz(model_dir / HEADS_NPZ, {k: v.numpy() for k, v in state.items()})
    data["sha256"] = {**data["sha256"], HEADS_NPZ: sha256_path(model_dir / HEADS_NPZ)}
    onnx_file, onnx_data = model_dir / ONNX_FILE, model_dir / ONNX_DATA
    if ONNX_FILE in card.sha256 and ONNX_DATA not in card.sha256:  # weights apart: memory-mapped
        verify_sha256(onnx_file, card.sha256[ONNX_FILE], card.id)
        staged_graph = model_dir / f".{ONNX_FILE}.single"
        os.replace(onnx_file, staged_graph)
        with_external_data(staged_graph, onnx_file)
        staged_graph.unlink()
        data["sha256"].update({ONNX_FILE: sha256_path(onnx_file), ONNX_DATA: sha256_path(onnx_data)})
    data["serving"] = SERVING_NOTE
    staged = model_dir / f".{CARD_FILE}.new"
    staged.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(staged, model_dir / CARD_FILE)
    log.info("added %s to %s", HEADS_NPZ, model_dir)
    return data
