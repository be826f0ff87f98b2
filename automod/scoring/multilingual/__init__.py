"""A locally hosted multilingual revert-risk model (transformer encoder + xgboost).

``edit_texts`` extracts what the model reads (no torch needed); ``model`` holds the network,
card and loading; ``inference`` the fast CPU path; ``train`` fine-tuning and booster
fitting; ``scorer`` the :class:`~automod.scoring.base.Scorer`. Everything that needs torch
is imported lazily, so ``import automod.scoring.multilingual`` stays cheap and works
without the ``multilingual`` extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from automod.scoring.multilingual.edit_texts import (
    EditMeta,
    EditTexts,
    extract_edit_texts,
)

__all__ = ["EditMeta", "EditTexts", "InferenceConfig", "LabelledEdit", "MultilingualModel", "MultilingualScorer",
           "Predictor", "TrainConfig", "extract_edit_texts", "is_multilingual_model", "train_multilingual"]

_LAZY = {"InferenceConfig": "inference", "Predictor": "inference", "MultilingualModel": "model",
         "LabelledEdit": "train", "TrainConfig": "train", "train_multilingual": "train",
         "MultilingualScorer": "scorer"}


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
    if name in _LAZY:
        return getattr(importlib.import_module(f"automod.scoring.multilingual.{_LAZY[name]}"), name)
    raise AttributeError(name)
