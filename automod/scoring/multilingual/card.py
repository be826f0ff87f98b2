"""The multilingual model's card and file names, without torch: what serving reads first.

Kept apart from :mod:`.model` (which holds the torch network) so that the torch-free serving
path (:mod:`.torch_free`) can read and verify a model directory without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from automod.scoring.model_files import CorruptModel
from automod.scoring.multilingual.edit_texts import ACTION_FEATURES, METADATA_FEATURES

__all__ = ["check_booster", "load_failure", "AGGREGATES", "BOOSTER_FILE", "ENCODER_DIR", "FEATURE_NAMES", "FEATURE_SET",
           "HEADS_FILE", "HEADS_NPZ", "KIND", "KINDS", "ONNX_DATA", "ONNX_FILE", "QUANTIZATION_TOLERANCE",
           "TEXT_FEATURES", "MultilingualCard"]

ENCODER_DIR = "encoder"
HEADS_FILE = "heads.pt"
#: The head weights as plain arrays (``numpy.savez``, read with ``allow_pickle=False``):
#: what lets an ONNX Runtime encoder be served without torch.
HEADS_NPZ = "heads.npz"
BOOSTER_FILE = "booster.ubj"
ONNX_FILE = "encoder.int8.onnx"
#: The ONNX encoder's weights, beside the graph: ONNX Runtime memory-maps external data
#: instead of copying it out of the graph (peak RSS 254 against 403 MiB, bert-base-sized).
ONNX_DATA = f"{ONNX_FILE}.data"
KIND = "multilingual"
FEATURE_SET = "rrml-local-1"
#: Largest |Δp| between a quantized path and fp32 (revert probabilities on held-out edits,
#: measured by training) at which the quantized path is served.
QUANTIZATION_TOLERANCE = 0.01

AGGREGATES = ("s0_max", "s1_max", "p0_max", "p1_max", "s0_mean", "s1_mean", "p0_mean", "p1_mean")
#: Head index of each text kind; ``title`` is a regressor (its score is column 0).
KINDS = ("insert", "remove", "change", "title")
TEXT_FEATURES = (*(f"bert_{k}_{a}" for k in KINDS[:3] for a in AGGREGATES), "bert_title_score")
FEATURE_NAMES = (*METADATA_FEATURES, *ACTION_FEATURES, *TEXT_FEATURES)


@dataclass(frozen=True)
class MultilingualCard:
    """The parts of ``model_card.json`` that serving depends on."""

    id: str
    name: str
    feature_names: tuple[str, ...]
    sha256: dict[str, str]
    max_length: int = 64
    title_max_length: int = 32
    max_texts: int = 16
    quantization: dict[str, Any] = field(default_factory=dict)
    #: The int8 ONNX Runtime encoder, when exported: ``file`` and the measured ``max_abs_diff``.
    onnx: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def onnx_within_tolerance(self) -> bool:
        measured = self.onnx.get("max_abs_diff")
        return bool(self.onnx.get("file")) and measured is not None and float(measured) <= QUANTIZATION_TOLERANCE

    def torch_free(self) -> bool:
        """True when the card lists the plain-array heads and a measured int8 ONNX encoder:
        then serving needs no torch."""
        return HEADS_NPZ in self.sha256 and self.onnx_within_tolerance() and ONNX_FILE in self.sha256

    @classmethod
    def from_json(cls, data: Any) -> MultilingualCard:
        if not isinstance(data, dict):
            raise ValueError("the card should be a JSON object")
        if data.get("kind") != KIND:
            raise ValueError(f"kind is {data.get('kind')!r}, not {KIND!r}")
        if data.get("feature_set") != FEATURE_SET or tuple(data["feature_names"]) != FEATURE_NAMES:
            raise ValueError(f"feature set {data.get('feature_set')!r} is not {FEATURE_SET!r}: retrain the model")
        return cls(id=str(data["id"]), name=str(data["name"]), feature_names=tuple(data["feature_names"]),
                   sha256={str(k): str(v) for k, v in data["sha256"].items()},
                   max_length=int(data.get("max_length", 64)), title_max_length=int(data.get("title_max_length", 32)),
                   max_texts=int(data.get("max_texts", 16)), quantization=dict(data.get("quantization") or {}),
                   onnx=dict(data.get("onnx") or {}),
                   extra={k: v for k, v in data.items() if k not in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        return {**self.extra, "id": self.id, "name": self.name, "kind": KIND, "feature_set": FEATURE_SET,
                "feature_names": list(self.feature_names), "sha256": self.sha256, "max_length": self.max_length,
                "title_max_length": self.title_max_length, "max_texts": self.max_texts,
                "quantization": self.quantization, "onnx": self.onnx}


def load_failure(card_id: str, model_dir: Any, exc: Exception) -> CorruptModel:
    """The error for a model directory whose files passed their checks but do not load."""
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return CorruptModel(f"model {card_id} in {model_dir} cannot be loaded: {type(exc).__name__}: {first_line}")


def check_booster(booster: Any, card_id: str) -> None:
    """Refuse a booster trained on other features; score on one thread (the bot batches)."""
    if booster.num_features() != len(FEATURE_NAMES):
        raise CorruptModel(f"model {card_id} expects {booster.num_features()} features, not {len(FEATURE_NAMES)}")
    booster.set_param({"nthread": 1})
