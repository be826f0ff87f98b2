"""Training local revert-risk models from a wiki's own history (``automod train``).

``from_api``, ``from_dump`` and ``from_csv`` read labelled edits (``labels`` says what
"reverted" means, ``dataset`` what an eligible edit is); ``train`` fits and evaluates an
xgboost model and writes it with its model card (``model_card``, ``metrics``). Needs the
``local`` extra. ``multilingual`` trains the multilingual model; what needs torch
(``multilingual_fit``: ``TrainConfig``, ``LabelledEdit``, ``train_multilingual``) is imported
lazily (PEP 562 ``__getattr__`` below), only with the ``multilingual`` extra.
Other packages import these names from here, not from the modules (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from automod.training.dataset import Dataset, EditRecord, PageRevision
from automod.training.from_api import dataset_from_api
from automod.training.from_csv import score_csv, table_from_csv
from automod.training.from_dump import DumpError, dataset_from_dump
from automod.training.labels import LABEL_DEFINITION, HistoryRevision, reverted_by_others
from automod.training.multilingual import text_extractor, train_multilingual_model, upgrade_model_dir
from automod.training.train import TrainingError, TrainingResult, train_model, train_table

if TYPE_CHECKING:
    from automod.training.multilingual_fit import LabelledEdit, TrainConfig, train_multilingual

__all__ = [
    "LABEL_DEFINITION",
    "Dataset",
    "DumpError",
    "EditRecord",
    "HistoryRevision",
    "LabelledEdit",
    "PageRevision",
    "TrainConfig",
    "TrainingError",
    "TrainingResult",
    "dataset_from_api",
    "dataset_from_dump",
    "reverted_by_others",
    "score_csv",
    "table_from_csv",
    "text_extractor",
    "train_model",
    "train_multilingual",
    "train_multilingual_model",
    "train_table",
    "upgrade_model_dir",
]

#: Names whose module needs an optional extra: imported on first use, from the module named here.
_LAZY = {
    "LabelledEdit": "multilingual_fit", "TrainConfig": "multilingual_fit", "train_multilingual": "multilingual_fit",
}


def __getattr__(name: str) -> Any:
    """PEP 562: a lazy name is imported from its module the first time it is asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"automod.training.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
