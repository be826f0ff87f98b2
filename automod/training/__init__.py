"""Training local revert-risk models from a wiki's own history (``automod train``).

``from_api`` and ``from_dump`` read labelled edits (``labels`` says what "reverted" means,
``dataset`` what an eligible edit is); ``train`` fits and evaluates an xgboost model and
writes it with its model card (``model_card``, ``metrics``). Needs the ``local`` extra.
"""

from automod.training.dataset import Dataset, EditRecord, PageRevision
from automod.training.from_api import dataset_from_api
from automod.training.from_dump import DumpError, dataset_from_dump
from automod.training.labels import (
    LABEL_DEFINITION,
    HistoryRevision,
    reverted_by_others,
)
from automod.training.train import TrainingError, TrainingResult, train_model

__all__ = [
    "LABEL_DEFINITION",
    "Dataset",
    "DumpError",
    "EditRecord",
    "HistoryRevision",
    "PageRevision",
    "TrainingError",
    "TrainingResult",
    "dataset_from_api",
    "dataset_from_dump",
    "reverted_by_others",
    "train_model",
]
