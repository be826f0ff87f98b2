"""Which path serves a multilingual model directory, and scoring edits given as texts.

:func:`load_served` picks the torch-free path (:mod:`.torch_free`) when the card allows it
and says, as a warning naming the cost and the command that fixes it, when it does not: an
older directory without ``heads.npz`` is served with torch (about 214 MiB more), one
without a measured int8 ONNX export in fp32 or torch int8 (several times slower, about
twice the memory). :func:`score_edit_rows` is the public entry for callers that hold the
texts already (``automod score --input``): no wiki, no torch when the card allows it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from automod.scoring.model_files import read_card
from automod.scoring.multilingual.card import HEADS_NPZ, MultilingualCard
from automod.scoring.multilingual.edit_texts import EditMeta, EditTexts
from automod.scoring.multilingual.edit_texts_cache import ExtractionCache
from automod.scoring.multilingual.torch_free import TorchFreeModel

__all__ = ["TORCH_COST", "EditRow", "ServedModel", "load_served", "score_edit_rows", "serving_warning"]

log = logging.getLogger("automod.scoring.multilingual.serving")

#: What serving with torch costs, measured with benchmarks/bench_multilingual.py on the
#: bert-base-multilingual-shaped model (2 cores): the import alone, and the naive fp32 path.
TORCH_COST = {"import_mib": 214, "fp32_ms_per_revision": 430, "fp32_peak_mib": 800}
UPGRADE_COMMAND = "automod upgrade-model --models-dir DIR --name NAME"
RETRAIN_COMMAND = "automod train --kind multilingual --base DIR ... (exports and measures the int8 ONNX encoder)"


class ServedModel(Protocol):
    """What the scorer needs of a loaded model, whichever path serves it."""

    card: MultilingualCard
    runtime: str

    def predict(self, edits: Sequence[tuple[EditTexts, EditMeta]]) -> list[float]: ...


class _TorchServed:
    """An older directory (or one without a measured ONNX export): the torch predictor."""

    def __init__(self, model_dir: Path, threads: int) -> None:
        from automod.scoring.multilingual.inference import InferenceConfig, Predictor
        from automod.scoring.multilingual.model import MultilingualModel

        model = MultilingualModel.load(model_dir, threads=threads)
        self.card = model.card
        self.predictor = Predictor(model, InferenceConfig(threads=threads, keep_fp32=False))
        self.runtime = f"{self.predictor.runtime} (torch)"

    def predict(self, edits: Sequence[tuple[EditTexts, EditMeta]]) -> list[float]:
        return self.predictor.predict(edits)


def serving_warning(card: MultilingualCard, model_dir: Path) -> str | None:
    """Why ``model_dir`` cannot be served without torch, its cost and the fix; None when it can."""
    if card.torch_free():
        return None
    if not card.onnx_within_tolerance():
        why = ("no int8 ONNX export" if not card.onnx.get("file") else
               "an int8 ONNX export not measured within 0.01 of fp32")
        return (f"multilingual model {card.name} in {model_dir} has {why}: served with torch "
                f"({'int8' if card.quantization.get('max_abs_diff') is not None else 'fp32'} as its card allows; "
                f"fp32 costs about {TORCH_COST['fp32_ms_per_revision']} ms per revision and "
                f"{TORCH_COST['fp32_peak_mib']} MiB on a bert-base-sized encoder). Add a measured export with: "
                f"{RETRAIN_COMMAND}")
    return (f"multilingual model {card.name} in {model_dir} has no {HEADS_NPZ} (an older directory): served "
            f"with torch for its heads, about {TORCH_COST['import_mib']} MiB more resident memory. "
            f"Add the torch-free heads with: {UPGRADE_COMMAND}")


def load_served(model_dir: Path, *, threads: int = 2) -> ServedModel:
    """Load ``model_dir`` on the lightest path its card allows (warning when that needs torch).

    Raises UnknownModel (missing directory or extra) or CorruptModel, as the loaders do.
    """
    model_dir = Path(model_dir)
    card = read_card(model_dir, MultilingualCard.from_json, "multilingual model")
    warning = serving_warning(card, model_dir)
    if warning is None:
        return TorchFreeModel.load(model_dir, card, threads)
    log.warning("%s", warning)
    return _TorchServed(model_dir, threads)


@dataclass(frozen=True)
class EditRow:
    """One edit given by its texts: what a labelled-edits CSV row holds."""

    old_text: str
    new_text: str
    title: str
    meta: EditMeta


def score_edit_rows(model_dir: Path, rows: Iterable[EditRow | Mapping[str, Any]], *, lang: str = "en",
                    batch: int = 8, threads: int = 2) -> list[float]:
    """Revert probabilities in [0, 1] of edits given as texts, in order, with the model in
    ``model_dir`` (served without torch when its card allows it; else as :func:`load_served`).

    A row is an :class:`EditRow` or a mapping with ``old_text``, ``new_text``, ``title`` and
    optionally ``bytes_diff`` (default: the UTF-8 size difference of the texts),
    ``anonymous``, ``groups`` and ``tags`` (iterables of names). A row missing a text or the
    title raises ValueError naming the row, before anything is scored.
    """
    edits = [_edit_row(i, row) for i, row in enumerate(rows)]
    model = load_served(model_dir, threads=threads)
    cache = ExtractionCache()
    out: list[float] = []
    for start in range(0, len(edits), batch):
        chunk = edits[start:start + batch]
        texts = [cache.extract(e.old_text, e.new_text, e.title, lang) for e in chunk]
        out += [min(1.0, max(0.0, p)) for p in model.predict([(t, e.meta) for t, e in zip(texts, chunk)])]
    return out


def _edit_row(index: int, row: EditRow | Mapping[str, Any]) -> EditRow:
    if isinstance(row, EditRow):
        return row
    missing = [key for key in ("old_text", "new_text", "title") if not isinstance(row.get(key), str)]
    if missing:
        raise ValueError(f"row {index + 1}: {', '.join(missing)} missing or not text")
    old, new = row["old_text"], row["new_text"]
    try:
        bytes_diff = int(row.get("bytes_diff", len(new.encode()) - len(old.encode())))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"row {index + 1}: bytes_diff {row.get('bytes_diff')!r} is not an integer") from exc
    meta = EditMeta(bytes_diff=bytes_diff, anonymous=bool(row.get("anonymous", False)),
                    groups=frozenset(row.get("groups") or ()), tags=frozenset(row.get("tags") or ()))
    return EditRow(old, new, str(row["title"]), meta)
