"""The encoder as an int8 ONNX Runtime graph: the served path when training measured it
within tolerance of fp32.

Measured on the benchmark's bert-base-multilingual-cased-shaped encoder, 2 threads, the
fixture fragments (``benchmarks/bench_multilingual.py``; helper notes in the closing note
of issue 8): against PyTorch's dynamic int8 quantization, ONNX Runtime's is about 1.2×
faster, keeps head probabilities about twice as close to fp32 (6.2e-3 against 1.1e-2),
and serves from ~350 MB of resident memory instead of ~1.7 GB, because the fp32 weights
are never loaded. Only the encoder (to the pooled output) is exported; the heads stay in
torch, loaded from ``heads.pt``.

Exporting uses torch's TorchScript-based exporter (``dynamo=False``: the dynamo one needs
onnxscript, another dependency), which torch 2.13 marks deprecated; its warnings are
silenced here and nowhere else.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automod.scoring.multilingual.card import ONNX_FILE
from automod.scoring.multilingual.heads import TextHeads
from automod.scoring.multilingual.torch_free import onnx_session

__all__ = ["ONNX_FILE", "OnnxRevertRisk", "export_int8", "onnx_available", "with_external_data"]

log = logging.getLogger("automod.scoring.multilingual.onnx_encoder")

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class _Pooled(nn.Module):
    def __init__(self, heads: Any) -> None:
        super().__init__()
        self.heads = heads

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.heads.pooled(input_ids, attention_mask, token_type_ids)


def export_int8(net: Any, out: Path) -> Path:
    """Write ``net``'s encoder (to the pooled output), int8-quantized, to ``out``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    net = net.to("cpu").eval()
    sample = {"input_ids": torch.tensor([[2, 7, 3], [2, 8, 3]]), "attention_mask": torch.ones(2, 3, dtype=torch.long),
              "token_type_ids": torch.zeros(2, 3, dtype=torch.long)}
    with tempfile.TemporaryDirectory(prefix="automod-onnx-") as tmp:
        fp32 = Path(tmp) / "encoder.onnx"
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # deprecation of this exporter; tracer notes from transformers
            torch.onnx.export(_Pooled(net).eval(), tuple(sample[k] for k in _INPUTS), str(fp32), dynamo=False,
                              opset_version=17, input_names=list(_INPUTS), output_names=["pooled"],
                              dynamic_axes={**{k: {0: "batch", 1: "seq"} for k in _INPUTS}, "pooled": {0: "batch"}})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)  # its root-logger advice to pre-process models for static quantization
            try:
                quantize_dynamic(str(fp32), str(Path(tmp) / "int8.onnx"), weight_type=QuantType.QInt8)
            finally:
                logging.disable(logging.NOTSET)
        with_external_data(Path(tmp) / "int8.onnx", out)
    log.info("exported the encoder to %s (int8, %.0f MB)", out, out.stat().st_size / 1e6)
    return out


def with_external_data(graph: Path, out: Path) -> Path:
    """Save ``graph`` to ``out`` with its weights in ``out.name + ".data"`` beside it, which
    ONNX Runtime memory-maps rather than copies (the same weights, bit for bit)."""
    import onnx

    model = onnx.load(str(graph))
    data = out.with_name(f"{out.name}.data")
    data.unlink(missing_ok=True)  # onnx appends to an existing data file
    onnx.save_model(model, str(out), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data.name, size_threshold=1024)
    return out


class OnnxRevertRisk(TextHeads):
    """The heads on an ONNX Runtime int8 encoder session (CPU, ``threads`` intra-op threads)."""

    def __init__(self, onnx_path: Path, hidden: int, threads: int = 2) -> None:
        super().__init__(hidden)
        self.session = onnx_session(onnx_path, threads)

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor) -> torch.Tensor:
        feeds = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy(),
                 "token_type_ids": token_type_ids.numpy()}
        return torch.from_numpy(self.session.run(None, feeds)[0])
