"""Serving a multilingual model without torch: ONNX Runtime encoder, numpy heads, xgboost.

Importing torch costs about 214 MiB of resident memory and a second or two of start-up, for
four small linear heads once the encoder runs in ONNX Runtime. When training exported the
heads as plain arrays (``heads.npz``) and measured the int8 ONNX encoder within tolerance
(the card lists both), this module serves the model with ``tokenizers`` (the checkpoint's
``tokenizer.json``), ``onnxruntime``, ``numpy`` and ``xgboost`` only. It computes what the
torch path computes (:class:`~.inference.Predictor` on an :class:`~.onnx_encoder.OnnxRevertRisk`),
to float32 rounding: heads in eval mode are ``pooled @ Wᵀ + b`` (dropout is the identity).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automod.scoring.base import UnknownModel
from automod.scoring.model_files import CorruptModel, read_card, verify_sha256
from automod.scoring.multilingual.card import (
    AGGREGATES,
    BOOSTER_FILE,
    ENCODER_DIR,
    FEATURE_NAMES,
    HEADS_NPZ,
    KINDS,
    ONNX_DATA,
    ONNX_FILE,
    MultilingualCard,
    check_booster,
    load_failure,
)
from automod.scoring.multilingual.edit_texts import EditMeta, EditTexts
from automod.scoring.multilingual.fragments import (
    Fragment,
    booster_row,
    encode_texts,
    length_batches,
)

__all__ = ["HEAD_ARRAYS", "FastTokenizer", "NumpyHeads", "TorchFreeModel", "aggregate_np", "onnx_session",
           "save_heads_npz"]

log = logging.getLogger("automod.scoring.multilingual.torch_free")

#: The arrays of ``heads.npz``: the state-dict names of the torch heads (``nn.Linear``).
HEAD_ARRAYS = tuple(f"{head}.{part}" for head in ("insert", "remove", "change", "title") for part in ("weight", "bias"))


def save_heads_npz(path: Path, state: Mapping[str, Any]) -> Path:
    """Write the head weights (a state dict's :data:`HEAD_ARRAYS`, as float32 arrays) to ``path``."""
    arrays: dict[str, Any] = {name.replace(".", "_"): np.asarray(state[name], dtype=np.float32) for name in HEAD_ARRAYS}
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    return path


@dataclass(frozen=True)
class NumpyHeads:
    """The four heads as arrays: 2-way insert/remove/change classifiers and a title regressor."""

    weights: tuple[np.ndarray, ...]  # insert, remove, change ([2, hidden]), title ([1, hidden])
    biases: tuple[np.ndarray, ...]

    @classmethod
    def load(cls, path: Path) -> NumpyHeads:
        with np.load(path, allow_pickle=False) as data:
            weights = tuple(np.asarray(data[f"{h}_weight"], dtype=np.float32) for h in KINDS)
            biases = tuple(np.asarray(data[f"{h}_bias"], dtype=np.float32) for h in KINDS)
        return cls(weights, biases)

    def logits(self, pooled: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """``[n, 2]`` logits, row ``i`` from the head of ``kinds[i]`` (titles: score, 0)."""
        out = np.zeros((pooled.shape[0], 2), dtype=np.float32)
        for index in range(3):
            mask = kinds == index
            if mask.any():
                out[mask] = pooled[mask] @ self.weights[index].T + self.biases[index]
        mask = kinds == 3
        if mask.any():
            out[mask, 0] = (pooled[mask] @ self.weights[3].T + self.biases[3])[:, 0]
        return out


def aggregate_np(logits: np.ndarray) -> list[float]:
    """:func:`~.heads.aggregate` in numpy: max and mean of logits and softmax probabilities."""
    if logits.shape[0] == 0:
        return [-1.0] * len(AGGREGATES)
    logits = logits.astype(np.float32)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    both = np.concatenate([logits, shifted / shifted.sum(axis=1, keepdims=True)], axis=1)
    return [float(v) for v in np.concatenate([both.max(axis=0), both.mean(axis=0)])]


class FastTokenizer:
    """The checkpoint's ``tokenizer.json`` through ``tokenizers``, called as
    :func:`~.fragments.encode_texts` calls a Hugging Face tokenizer (truncation longest-first
    at ``max_length``, special tokens added, no padding): the same ids without transformers."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(path))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.pad_token_id = self.tokenizer.token_to_id("[PAD]") or 0

    def __call__(self, texts: Sequence[str], pairs: Sequence[str] | None = None, *, truncation: Any = True,
                 max_length: int = 512, return_token_type_ids: bool = True) -> dict[str, list[list[int]]]:
        self.tokenizer.enable_truncation(max_length, strategy="longest_first")
        inputs: Sequence[Any] = list(zip(texts, pairs)) if pairs is not None else list(texts)
        encodings = self.tokenizer.encode_batch(inputs, add_special_tokens=True)
        return {"input_ids": [e.ids for e in encodings], "token_type_ids": [e.type_ids for e in encodings]}


def onnx_session(path: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (capped by the cores).

    No memory arena and no spinning: the arena keeps the largest batch's activations
    resident for the process's life, and a spinning thread competes with the bot's others.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, min(threads, os.cpu_count() or 1))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class TorchFreeModel:
    """A model directory served by ONNX Runtime + numpy heads + xgboost; load once, reuse."""

    runtime = "onnxruntime-int8 (no torch)"

    def __init__(self, card: MultilingualCard, tokenizer: FastTokenizer, session: Any, heads: NumpyHeads,
                 booster: Any, batch_rows: int = 64, batch_tokens: int = 384) -> None:
        self.card = card
        self.tokenizer = tokenizer
        self.session = session
        self.heads = heads
        self.booster = booster
        self.batch_rows = batch_rows
        self.batch_tokens = batch_tokens

    @classmethod
    def load(cls, model_dir: Path, card: MultilingualCard | None = None, threads: int = 2) -> TorchFreeModel:
        """Load and verify ``model_dir``, whose card must be :meth:`~.card.MultilingualCard.torch_free`;
        raises UnknownModel (missing, or a missing extra) or CorruptModel."""
        model_dir = Path(model_dir)
        card = card or read_card(model_dir, MultilingualCard.from_json, "multilingual model")
        if not card.torch_free():
            raise CorruptModel(f"model {card.id} in {model_dir} lists no {HEADS_NPZ} or no measured {ONNX_FILE}")
        for name in (HEADS_NPZ, ONNX_FILE, *((ONNX_DATA,) if ONNX_DATA in card.sha256 else ()), BOOSTER_FILE):
            verify_sha256(model_dir / name, card.sha256.get(name), card.id)
        try:
            import xgboost

            tokenizer = FastTokenizer(model_dir / ENCODER_DIR / "tokenizer.json")
            heads = NumpyHeads.load(model_dir / HEADS_NPZ)
            session = onnx_session(model_dir / ONNX_FILE, threads)
            booster = xgboost.Booster(model_file=str(model_dir / BOOSTER_FILE))
        except ImportError as exc:
            raise UnknownModel(f"multilingual models need: pip install -e '.[local,multilingual]' in the checkout"
                               f" ({exc})") from exc
        except Exception as exc:
            raise load_failure(card.id, model_dir, exc) from exc
        check_booster(booster, card.id)
        log.info("loaded multilingual model %s (%s) from %s, encoder on onnxruntime-int8, served without torch",
                 card.name, card.id, model_dir)
        return cls(card, tokenizer, session, heads, booster)

    def _run(self, batch: Sequence[Fragment]) -> np.ndarray:
        width = max(len(f.input_ids) for f in batch)
        ids = np.full((len(batch), width), self.tokenizer.pad_token_id, dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for i, f in enumerate(batch):
            n = len(f.input_ids)
            ids[i, :n], types[i, :n], mask[i, :n] = f.input_ids, f.token_type_ids, 1
        pooled = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        return self.heads.logits(np.asarray(pooled, dtype=np.float32), np.array([f.kind for f in batch]))

    def feature_rows(self, edits: Sequence[tuple[EditTexts, EditMeta]]) -> list[list[float]]:
        """Booster rows of a micro-batch of edits: every fragment through the encoder in
        length-sorted batches (as :func:`~.inference.run_heads`)."""
        card = self.card
        texts = [t for t, _ in edits]
        fragments = encode_texts(self.tokenizer, texts, card.max_length, card.title_max_length, card.max_texts)
        rows: list[list[list[np.ndarray]]] = [[[] for _ in KINDS] for _ in edits]
        for batch in length_batches(fragments, self.batch_rows, self.batch_tokens):
            for f, row in zip(batch, self._run(batch)):
                rows[f.revision][f.kind].append(row)
        out = []
        for (t, meta), per_kind in zip(edits, rows):
            logits = [np.stack(k) if k else np.zeros((0, 2), dtype=np.float32) for k in per_kind]
            title = float(logits[3][0, 0]) if logits[3].shape[0] else -1.0
            out.append(booster_row(t, meta, [aggregate_np(logits[k]) for k in range(3)], title))
        return out

    def predict_rows(self, rows: Sequence[Sequence[float]]) -> list[float]:
        import xgboost

        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES))
        return [float(p) for p in self.booster.predict(xgboost.DMatrix(matrix, missing=np.nan))]

    def predict(self, edits: Sequence[tuple[EditTexts, EditMeta]]) -> list[float]:
        """Revert probabilities of a micro-batch of edits, in order."""
        return self.predict_rows(self.feature_rows(edits)) if edits else []
