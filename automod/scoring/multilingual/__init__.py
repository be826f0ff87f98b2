"""A locally hosted multilingual revert-risk model (transformer encoder + xgboost).

``edit_texts`` extracts what the model reads (no torch needed); ``card`` is the model card
and the directory's file names; ``model`` holds the network and loading; ``inference`` the
fast CPU path; ``onnx_encoder`` the int8 ONNX export; ``torch_free`` and ``serving`` the
path without torch; ``scorer`` the :class:`~automod.scoring.base.Scorer`. Fine-tuning and
booster fitting live in :mod:`automod.training` (``TrainConfig``, ``train_multilingual``).

Everything that needs torch or numpy is imported lazily (PEP 562 ``__getattr__`` below), so
``import automod.scoring.multilingual`` stays cheap and works without the ``multilingual``
extra. Other packages import these names from here, not from the modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from automod.scoring.multilingual.card import (
    BOOSTER_FILE,
    ENCODER_DIR,
    FEATURE_NAMES,
    FEATURE_SET,
    HEADS_FILE,
    HEADS_NPZ,
    KINDS,
    ONNX_DATA,
    ONNX_FILE,
    MultilingualCard,
)
from automod.scoring.multilingual.edit_texts import (
    EditMeta,
    EditTexts,
    edit_meta,
    extract_edit_texts,
)
from automod.scoring.multilingual.edit_texts_cache import ExtractionCache
from automod.scoring.multilingual.fragments import encode_texts

if TYPE_CHECKING:
    from automod.scoring.multilingual.heads import RevertRiskHeads
    from automod.scoring.multilingual.inference import (
        InferenceConfig,
        Predictor,
        feature_row,
        pad_batch,
        quantize_linear,
        run_heads,
    )
    from automod.scoring.multilingual.model import MultilingualModel, load_encoder, save_model_files
    from automod.scoring.multilingual.onnx_encoder import (
        OnnxRevertRisk,
        export_int8,
        onnx_available,
        with_external_data,
    )
    from automod.scoring.multilingual.scorer import MultilingualScorer
    from automod.scoring.multilingual.serving import load_served, score_edit_rows
    from automod.scoring.multilingual.torch_free import TorchFreeModel, save_heads_npz

__all__ = [
    "BOOSTER_FILE",
    "ENCODER_DIR",
    "FEATURE_NAMES",
    "FEATURE_SET",
    "HEADS_FILE",
    "HEADS_NPZ",
    "KINDS",
    "ONNX_DATA",
    "ONNX_FILE",
    "EditMeta",
    "EditTexts",
    "ExtractionCache",
    "InferenceConfig",
    "MultilingualCard",
    "MultilingualModel",
    "MultilingualScorer",
    "OnnxRevertRisk",
    "Predictor",
    "RevertRiskHeads",
    "TorchFreeModel",
    "edit_meta",
    "encode_texts",
    "export_int8",
    "extract_edit_texts",
    "feature_row",
    "is_multilingual_model",
    "load_encoder",
    "load_served",
    "onnx_available",
    "pad_batch",
    "quantize_linear",
    "run_heads",
    "save_heads_npz",
    "save_model_files",
    "score_edit_rows",
    "with_external_data",
]

#: Names whose module needs torch (heads, inference, model, onnx_encoder) or numpy
#: (torch_free, serving, scorer): imported on first use, by the module named here.
_LAZY = {
    "RevertRiskHeads": "heads",
    "InferenceConfig": "inference", "Predictor": "inference", "feature_row": "inference", "pad_batch": "inference",
    "quantize_linear": "inference", "run_heads": "inference",
    "MultilingualModel": "model", "load_encoder": "model", "save_model_files": "model",
    "OnnxRevertRisk": "onnx_encoder", "export_int8": "onnx_encoder", "onnx_available": "onnx_encoder",
    "with_external_data": "onnx_encoder",
    "MultilingualScorer": "scorer",
    "load_served": "serving", "score_edit_rows": "serving",
    "TorchFreeModel": "torch_free", "save_heads_npz": "torch_free",
}


def is_multilingual_model(model_dir: Any) -> bool:
    """True when ``model_dir/model_card.json`` says ``"kind": "multilingual"`` (no torch import)."""
    import json
    from pathlib import Path

    try:
        card = json.loads((Path(model_dir) / "model_card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(card, dict) and card.get("kind") == "multilingual"


def __getattr__(name: str) -> Any:
    """PEP 562: a lazy name is imported from its module the first time it is asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"automod.scoring.multilingual.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
