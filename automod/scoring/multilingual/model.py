"""The multilingual revert-risk model: one transformer encoder, four heads, one booster.

Layout of ``models/<name>/`` (written by :mod:`.train`, read by :meth:`MultilingualModel.load`)::

    encoder/          the (fine-tuned) encoder and its tokenizer, ``save_pretrained`` format
    heads.pt          the head weights: a dict of tensors only, loaded with weights_only=True
    booster.ubj       xgboost's own binary format (never pickle: loading must not run code)
    model_card.json   ``"kind": "multilingual"``, the feature names, file SHA-256s, settings
    MODEL_CARD.md     the same for people

Where the published design (reference §3.1) runs four separate fine-tuned
``bert-base-multilingual-cased`` classifiers, this one shares a single encoder between the
insert, remove, change (text pairs) and title heads. That is what makes it fast: every
fragment of a revision goes through the encoder in one batch, and the process holds one
encoder in memory instead of four. Head outputs are aggregated per revision (max and mean
of logits and probabilities, −1 when there is no text of that kind) and, with the edit-type
counts and metadata, fed to an xgboost booster (instead of CatBoost: one dependency for
both local models).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from automod.scoring.base import UnknownModel
from automod.scoring.model_files import (
    CARD_FILE,
    CorruptModel,
    read_card,
    sha256_path,
    verify_sha256,
)
from automod.scoring.multilingual.card import (
    AGGREGATES,
    BOOSTER_FILE,
    ENCODER_DIR,
    FEATURE_NAMES,
    FEATURE_SET,
    HEADS_FILE,
    HEADS_NPZ,
    KIND,
    KINDS,
    ONNX_FILE,
    QUANTIZATION_TOLERANCE,
    TEXT_FEATURES,
    MultilingualCard,
    check_booster,
    load_failure,
)
from automod.scoring.multilingual.heads import RevertRiskHeads, TextHeads, aggregate

__all__ = ["AGGREGATES", "BOOSTER_FILE", "CARD_FILE", "ENCODER_DIR", "FEATURE_NAMES", "FEATURE_SET", "HEADS_FILE",
           "HEADS_NPZ", "KIND", "KINDS", "ONNX_FILE", "QUANTIZATION_TOLERANCE", "TEXT_FEATURES", "CorruptModel",
           "MultilingualCard", "MultilingualModel",
           "RevertRiskHeads", "TextHeads", "aggregate", "load_encoder", "load_tokenizer", "save_model_files",
           "sha256_path"]

log = logging.getLogger("automod.scoring.multilingual.model")

def save_model_files(model_dir: Path, tokenizer: Any, net: RevertRiskHeads, booster: Any) -> None:
    """Write the encoder (with its tokenizer), the head weights and the booster."""
    tokenizer.save_pretrained(str(model_dir / ENCODER_DIR))
    net.encoder.save_pretrained(str(model_dir / ENCODER_DIR))
    torch.save(net.heads_state(), model_dir / HEADS_FILE)
    booster.save_model(str(model_dir / BOOSTER_FILE))


def load_tokenizer(path: Path) -> Any:
    """The tokenizer of a local Hugging Face checkpoint directory; never downloads."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def load_encoder(path: Path) -> tuple[Any, nn.Module]:
    """Tokenizer and encoder from a local Hugging Face checkpoint directory; never downloads."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a bot's log is no place for "Loading weights" bars
    return load_tokenizer(path), AutoModel.from_pretrained(str(path), local_files_only=True)


class MultilingualModel:
    """A loaded tokenizer, heads network, booster and card; CPU, eval mode.

    ``runtime`` says what computes the encoding: ``"onnxruntime-int8"`` (the exported
    graph, when the card measured it within tolerance and onnxruntime is installed) or
    ``"torch"`` (the fine-tuned checkpoint, fp32; :class:`~.inference.Predictor` may
    still quantize it).
    """

    def __init__(self, card: MultilingualCard, tokenizer: Any, net: TextHeads, booster: Any,
                 runtime: str = "torch") -> None:
        self.card = card
        self.tokenizer = tokenizer
        self.net = net
        self.booster = booster
        self.runtime = runtime

    @classmethod
    def load(cls, model_dir: Path, *, runtime: Literal["auto", "torch", "onnx"] = "auto",
             threads: int = 2) -> MultilingualModel:
        """Load and verify ``model_dir``; raises UnknownModel (missing) or CorruptModel.

        ``runtime``: "auto" follows the card's measurement; "torch" and "onnx" force one
        (benchmarks, an operator's check; "onnx" needs the exported graph).
        """
        from automod.scoring.multilingual.onnx_encoder import (
            ONNX_FILE,
            OnnxRevertRisk,
            onnx_available,
        )

        model_dir = Path(model_dir)
        card = read_card(model_dir, MultilingualCard.from_json, "multilingual model")
        use_onnx = runtime == "onnx" or (runtime == "auto" and card.onnx_within_tolerance() and onnx_available())
        onnx_files = tuple(name for name in (ONNX_FILE, f"{ONNX_FILE}.data") if name in card.sha256)
        for name in (ENCODER_DIR, HEADS_FILE, BOOSTER_FILE, *onnx_files):
            verify_sha256(model_dir / name, card.sha256.get(name), card.id)
        try:
            import xgboost
            from transformers import AutoConfig

            heads = torch.load(model_dir / HEADS_FILE, map_location="cpu", weights_only=True)
            if use_onnx:
                tokenizer = load_tokenizer(model_dir / ENCODER_DIR)
                encoder_config = AutoConfig.from_pretrained(str(model_dir / ENCODER_DIR), local_files_only=True)
                hidden = int(encoder_config.hidden_size)
                net: TextHeads = OnnxRevertRisk(model_dir / ONNX_FILE, hidden, threads)
                net.load_state_dict(heads, strict=True)
            else:
                tokenizer, encoder = load_encoder(model_dir / ENCODER_DIR)
                net = RevertRiskHeads(encoder)
                missing, unexpected = net.load_state_dict(heads, strict=False)
                if unexpected or any(not k.startswith("encoder.") for k in missing):
                    raise ValueError(f"head weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
            booster = xgboost.Booster(model_file=str(model_dir / BOOSTER_FILE))
        except ImportError as exc:
            raise UnknownModel(f"multilingual models need: pip install -e '.[multilingual]' in the checkout"
                               f" ({exc})") from exc
        except Exception as exc:
            raise load_failure(card.id, model_dir, exc) from exc
        check_booster(booster, card.id)
        net.eval()
        runtime_used = "onnxruntime-int8" if use_onnx else "torch"
        log.info("loaded multilingual model %s (%s) from %s, encoder on %s", card.name, card.id, model_dir,
                 runtime_used)
        return cls(card, tokenizer, net, booster, runtime_used)

    def predict_rows(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Booster probabilities for rows in :data:`FEATURE_NAMES` order."""
        import numpy as np
        import xgboost

        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES))
        return [float(p) for p in self.booster.predict(xgboost.DMatrix(matrix, missing=np.nan))]
