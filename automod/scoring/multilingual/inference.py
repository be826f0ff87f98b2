"""Fast CPU inference for the multilingual model: what makes it affordable for every edit.

The reference server scores one text at a time, padded to the text, truncated at 512
tokens, with four encoders (reference §3.4). Here, per call:

- every fragment of every revision passed in (a micro-batch of revisions arriving
  together) is tokenized once and run through the single shared encoder in length-sorted
  batches of at most ``batch_tokens`` padded tokens, so padding is small and matrix
  products are large (one 128-token fragment padding 40 short ones to 128 costs more than
  the rest of the batch: measured 513 ms against 79 ms per revision on the fixtures);
- fragments are truncated at ``card.max_length`` tokens (64 by default: fragments are
  sentences, 44 of the fixtures' 47 are shorter; titles at 32) and at most
  ``card.max_texts`` fragments of each kind are read (the first 16; on the fixtures, capping
  at 8 instead saves a fifth of the time but moves head probabilities by 0.015);
- the encoder is the int8 ONNX Runtime graph when training measured it within
  :data:`QUANTIZATION_TOLERANCE` of fp32 (``card.onnx``, see :mod:`.onnx_encoder`); a torch
  encoder's Linear layers are quantized to int8 (``quantize_dynamic``) when training
  measured that within tolerance (``card.quantization``), or when asked explicitly;
- at most ``threads`` threads (2 here), never more than the machine's cores.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from automod.scoring.multilingual.edit_texts import EditMeta, EditTexts
from automod.scoring.multilingual.fragments import (
    Fragment,
    booster_row,
    encode_texts,
    length_batches,
)
from automod.scoring.multilingual.model import (
    KINDS,
    QUANTIZATION_TOLERANCE,
    MultilingualModel,
    aggregate,
)

__all__ = ["QUANTIZATION_TOLERANCE", "Fragment", "InferenceConfig", "Predictor", "encode_texts", "feature_row",
           "length_batches", "pad_batch", "quantize_linear", "run_heads"]

log = logging.getLogger("automod.scoring.multilingual.inference")


@dataclass(frozen=True)
class InferenceConfig:
    """``quantize``: "auto" follows the card's measurement; ``batch_rows`` and
    ``batch_tokens``: at most so many fragments, and padded tokens, per encoder call; ``threads``:
    torch intra-op threads (capped by the core count);
    ``keep_fp32``: quantize a copy (tests, benchmarks) rather than the model itself (serving:
    saves the fp32 copy's memory, ~700 MB for a bert-base-sized encoder)."""

    quantize: Literal["auto", "on", "off"] = "auto"
    batch_rows: int = 64
    batch_tokens: int = 384
    threads: int = 2
    keep_fp32: bool = True


def quantize_linear(net: nn.Module, *, inplace: bool = False) -> nn.Module:
    """``net`` (a copy unless ``inplace``) with its Linear layers dynamically quantized to int8."""
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # torch.ao.quantization is deprecated for torchao, still works in 2.13
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch.quantize_per_tensor", category=UserWarning)
        return quantize_dynamic(net, {nn.Linear}, dtype=torch.qint8, inplace=inplace)


def pad_batch(batch: Sequence[Fragment], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(f.input_ids) for f in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    types = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, f in enumerate(batch):
        n = len(f.input_ids)
        ids[i, :n] = torch.tensor(f.input_ids)
        types[i, :n] = torch.tensor(f.token_type_ids)
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types,
            "kinds": torch.tensor([f.kind for f in batch], dtype=torch.long)}


def run_heads(net: nn.Module, tokenizer: Any, fragments: Sequence[Fragment], n_revisions: int,
              batch_rows: int = 64, batch_tokens: int = 384,
              device: torch.device | None = None) -> list[list[torch.Tensor]]:
    """Head logits per revision and kind: ``out[r][k]`` is an ``[n, 2]`` CPU tensor."""
    rows: list[list[list[torch.Tensor]]] = [[[] for _ in KINDS] for _ in range(n_revisions)]
    pad_id = int(tokenizer.pad_token_id or 0)
    with torch.inference_mode():
        for batch in length_batches(fragments, batch_rows, batch_tokens):
            inputs = pad_batch(batch, pad_id)
            if device is not None and device.type != "cpu":
                inputs = {k: v.to(device) for k, v in inputs.items()}
            logits = net(**inputs).cpu()
            for f, row in zip(batch, logits):
                rows[f.revision][f.kind].append(row)
    return [[torch.stack(k) if k else torch.zeros(0, 2) for k in per_rev] for per_rev in rows]


def feature_row(texts: EditTexts, meta: EditMeta, logits: Sequence[torch.Tensor]) -> list[float]:
    """One booster row, in FEATURE_NAMES order (metadata, counts, text aggregates, title)."""
    title = logits[3]
    title_score = float(title[0, 0]) if title.shape[0] else -1.0
    return booster_row(texts, meta, [aggregate(logits[k]) for k in range(3)], title_score)


class Predictor:
    """Scores edits with a loaded model; build once per process and reuse (model loaded once)."""

    def __init__(self, model: MultilingualModel, config: InferenceConfig = InferenceConfig()) -> None:
        self.model = model
        self.config = config
        threads = max(1, min(config.threads, os.cpu_count() or 1))
        # With an ONNX Runtime encoder torch only runs the small heads: one thread, so it does
        # not compete with ORT's own (spinning) threads for the cores.
        wanted_torch = 1 if model.runtime != "torch" else threads
        if torch.get_num_threads() != wanted_torch:
            torch.set_num_threads(wanted_torch)
        measured = model.card.quantization.get("max_abs_diff")
        wanted = config.quantize == "on" or (
            config.quantize == "auto" and measured is not None and float(measured) <= QUANTIZATION_TOLERANCE)
        # An ONNX Runtime encoder is int8 already; torch quantization applies to a torch encoder.
        self.quantized = wanted and model.runtime == "torch"
        self.net = quantize_linear(model.net, inplace=not config.keep_fp32) if self.quantized else model.net
        self.net.eval()
        self.runtime = "torch int8" if self.quantized else ("torch fp32" if model.runtime == "torch" else model.runtime)
        log.info("multilingual predictor: %d threads, %s (card: torch int8 max |Δp| %s, onnx %s)", threads,
                 self.runtime, measured, model.card.onnx.get("max_abs_diff"))

    def head_logits(self, texts: Sequence[EditTexts]) -> list[list[torch.Tensor]]:
        card = self.model.card
        fragments = encode_texts(self.model.tokenizer, texts, card.max_length, card.title_max_length, card.max_texts)
        return run_heads(self.net, self.model.tokenizer, fragments, len(texts), self.config.batch_rows,
                         self.config.batch_tokens)

    def feature_rows(self, edits: Sequence[tuple[EditTexts, EditMeta]]) -> list[list[float]]:
        logits = self.head_logits([t for t, _ in edits])
        return [feature_row(t, m, lg) for (t, m), lg in zip(edits, logits)]

    def predict(self, edits: Sequence[tuple[EditTexts, EditMeta]]) -> list[float]:
        """Revert probabilities of a micro-batch of edits, in order."""
        if not edits:
            return []
        return self.model.predict_rows(self.feature_rows(edits))
