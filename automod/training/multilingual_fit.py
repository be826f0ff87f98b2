"""Train a multilingual revert-risk model: fine-tune the heads (and optionally the encoder),
then fit the booster, then write ``models/<name>/`` (layout in :mod:`.model`).

As in the reference (§3.2), the heads and the booster learn from disjoint, title-disjoint
parts of the data (``head_fraction`` of the titles for the heads), so the booster sees head
outputs on pages the heads never saw. Each fragment inherits its edit's label; the title
head regresses each title's revert rate (titles with ``title_min_revisions`` edits or more).

Head training is resumable: after every epoch a checkpoint (tensors and plain numbers only,
read back with ``weights_only=True``) is written next to the output directory; a rerun with
the same data and settings continues after the last finished epoch. Progress goes to stderr.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automod.scoring import CARD_FILE, sha256_path
from automod.scoring.multilingual import (
    BOOSTER_FILE,
    ENCODER_DIR,
    FEATURE_NAMES,
    FEATURE_SET,
    HEADS_FILE,
    HEADS_NPZ,
    EditMeta,
    EditTexts,
    MultilingualCard,
    MultilingualModel,
    RevertRiskHeads,
    encode_texts,
    feature_row,
    load_encoder,
    pad_batch,
    quantize_linear,
    run_heads,
    save_heads_npz,
    save_model_files,
)
from automod.training.metrics import auc
from automod.training.progress import Progress

__all__ = [
    "LabelledEdit",
    "TrainConfig",
    "TrainResult",
    "train_heads",
    "train_multilingual",
]

log = logging.getLogger("automod.training.multilingual_fit")

#: What the card says about serving: the heads as plain arrays let an ONNX encoder serve without torch.
SERVING_NOTE = {"heads_npz": HEADS_NPZ, "torch_free": "when the int8 ONNX encoder is within tolerance: "
                "onnxruntime + numpy heads + xgboost, no torch"}


@dataclass(frozen=True)
class LabelledEdit:
    """One edit with its label (True: reverted)."""

    texts: EditTexts
    meta: EditMeta
    label: bool


@dataclass(frozen=True)
class TrainConfig:
    """Settings; the defaults follow the reference where it has them (lr 2e-5, batch 8)."""

    epochs: int = 3
    batch_size: int = 8
    encoder_lr: float = 2e-5
    head_lr: float = 1e-3
    train_encoder: bool = True
    head_fraction: float = 0.6
    eval_fraction: float = 0.2
    title_min_revisions: int = 5
    max_length: int = 64
    title_max_length: int = 32
    max_texts: int = 16
    booster_rounds: int = 200
    seed: int = 42
    #: "auto": the first CUDA GPU when torch sees one, else the CPU; or "cpu", "cuda:1"...
    device: str = "auto"
    #: Also export the encoder as an int8 ONNX Runtime graph (served when measured within tolerance).
    onnx: bool = True

    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


@dataclass(frozen=True)
class TrainResult:
    """Where the model went, its card, the held-out evaluation, and the model in memory."""

    model_dir: Path
    card: dict[str, Any]
    eval_auc: float | None
    quantized_max_abs_diff: float | None
    model: MultilingualModel


def _bucket(title: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{title}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _split(edits: Sequence[LabelledEdit], config: TrainConfig) -> tuple[list[LabelledEdit], ...]:
    """Title-disjoint parts: titles in a seeded pseudo-random order, the first
    ``head_fraction`` of them for the heads, the last ``eval_fraction`` of the rest held out.
    By rank, not by threshold, so even a dozen titles split in the stated proportions."""
    titles = sorted({e.texts.title for e in edits}, key=lambda t: _bucket(t, config.seed))
    n_heads = round(len(titles) * config.head_fraction)
    n_held = round((len(titles) - n_heads) * config.eval_fraction)
    part = {t: 0 if i < n_heads else (2 if i >= len(titles) - n_held else 1) for i, t in enumerate(titles)}
    parts: tuple[list[LabelledEdit], ...] = ([], [], [])
    for e in edits:
        parts[part[e.texts.title]].append(e)
    return parts


def _fingerprint(base: Path, edits: Sequence[LabelledEdit], config: TrainConfig) -> str:
    settings = {k: v for k, v in asdict(config).items() if k != "device"}  # a GPU may resume a CPU run
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode() + str(base.resolve()).encode())
    for e in edits:
        digest.update(repr((e.texts.title, e.texts.inserted, e.texts.removed, e.texts.changed, e.label)).encode())
    return digest.hexdigest()


def _head_samples(tokenizer: Any, edits: Sequence[LabelledEdit], config: TrainConfig) -> list[tuple[Any, float]]:
    """Encoder inputs with targets: the edit label for text heads, the title revert rate."""
    fragments = encode_texts(tokenizer, [e.texts for e in edits], config.max_length, config.title_max_length,
                             config.max_texts)
    by_title: dict[str, list[bool]] = {}
    for e in edits:
        by_title.setdefault(e.texts.title, []).append(e.label)
    samples, seen = [], set()
    for f in fragments:
        if f.kind < 3:
            samples.append((f, float(edits[f.revision].label)))
            continue
        title = edits[f.revision].texts.title
        if title not in seen and len(by_title[title]) >= config.title_min_revisions:
            seen.add(title)
            samples.append((f, sum(by_title[title]) / len(by_title[title])))
    return samples


def train_heads(net: RevertRiskHeads, tokenizer: Any, edits: Sequence[LabelledEdit], config: TrainConfig,
                 checkpoint: Path, fingerprint: str) -> None:
    samples = _head_samples(tokenizer, edits, config)
    if not samples:
        log.warning("no text fragments to fine-tune the heads on; the heads stay as initialised")
        return
    positives = sum(1 for f, y in samples if f.kind < 3 and y > 0.5)
    negatives = sum(1 for f, _ in samples if f.kind < 3) - positives
    device = next(net.parameters()).device
    weight = torch.tensor([1.0, negatives / positives if positives and negatives else 1.0], device=device)
    groups = [{"params": [p for n, p in net.named_parameters() if not n.startswith("encoder.")], "lr": config.head_lr}]
    if config.train_encoder:
        groups.append({"params": list(net.encoder.parameters()), "lr": config.encoder_lr})
    else:
        net.encoder.requires_grad_(False)
    optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
    first_epoch = 0
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        if state.get("fingerprint") == fingerprint:
            net.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            first_epoch = int(state["epoch"]) + 1
            log.info("resuming head training after epoch %d from %s", first_epoch, checkpoint)
        else:
            log.warning("checkpoint %s is for other data or settings; starting over", checkpoint)
    classify = nn.CrossEntropyLoss(weight=weight)
    for epoch in range(first_epoch, config.epochs):
        net.train()
        order = list(range(len(samples)))
        random.Random(config.seed + epoch).shuffle(order)
        total = 0.0
        with Progress(f"epoch {epoch + 1}/{config.epochs}", len(order)) as bar:
            for start in range(0, len(order), config.batch_size):
                batch = [samples[i] for i in order[start:start + config.batch_size]]
                inputs = {k: v.to(device) for k, v in
                          pad_batch([f for f, _ in batch], int(tokenizer.pad_token_id or 0)).items()}
                targets = torch.tensor([y for _, y in batch], device=device)
                logits = net(**inputs)
                kinds = inputs["kinds"]
                text, title = kinds < 3, kinds == 3
                loss = torch.zeros((), device=device)
                if bool(text.any()):
                    loss = loss + classify(logits[text], (targets[text] > 0.5).long())
                if bool(title.any()):
                    loss = loss + nn.functional.mse_loss(logits[title, 0], targets[title])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
                bar.update(len(batch))
        log.info("epoch %d/%d: mean loss %.4f", epoch + 1, config.epochs, total / len(samples))
        torch.save({"epoch": epoch, "fingerprint": fingerprint, "model": net.state_dict(),
                    "optimizer": optimizer.state_dict()}, checkpoint)
    net.eval()


def _rows(net: nn.Module, tokenizer: Any, edits: Sequence[LabelledEdit], config: TrainConfig) -> list[list[float]]:
    rows: list[list[float]] = []
    with Progress("head features", len(edits)) as bar:
        for start in range(0, len(edits), 16):
            chunk = edits[start:start + 16]
            fragments = encode_texts(tokenizer, [e.texts for e in chunk], config.max_length,
                                     config.title_max_length, config.max_texts)
            logits = run_heads(net, tokenizer, fragments, len(chunk), device=next(net.parameters()).device)
            rows += [feature_row(e.texts, e.meta, lg) for e, lg in zip(chunk, logits)]
            bar.update(len(chunk))
    return rows


def _fit_booster(rows: list[list[float]], labels: list[bool], config: TrainConfig) -> Any:
    import numpy as np
    import xgboost

    positives = sum(labels)
    # Half the features per tree: with few edits, one text aggregate that happens to separate
    # the booster's part perfectly would otherwise be the only feature it ever uses.
    params = {"objective": "binary:logistic", "eval_metric": "auc", "max_depth": 4, "eta": 0.1, "nthread": 2,
              "colsample_bytree": 0.5, "seed": config.seed,
              "scale_pos_weight": (len(labels) - positives) / max(1, positives)}
    # No feature names in the booster: serving passes plain arrays in FEATURE_NAMES order.
    matrix = xgboost.DMatrix(np.asarray(rows, dtype=np.float32), label=np.asarray(labels, dtype=np.float32))
    return xgboost.train(params, matrix, num_boost_round=config.booster_rounds)


def _predict(booster: Any, rows: list[list[float]]) -> list[float]:
    import numpy as np
    import xgboost

    return [float(p) for p in booster.predict(xgboost.DMatrix(np.asarray(rows, dtype=np.float32)))]


def train_multilingual(base: Path, edits: Sequence[LabelledEdit], out_dir: Path, *,
                       config: TrainConfig = TrainConfig(), wiki: str = "", overwrite: bool = False,
                       data: dict[str, Any] | None = None) -> TrainResult:
    """Train on ``edits`` starting from the checkpoint directory ``base`` and write ``out_dir``
    (swapped in whole when everything is written). ``data`` describes the source for the card.

    Raises ValueError when a part of the split has only one label, FileExistsError when
    ``out_dir`` exists (unless ``overwrite``).
    """
    from automod.training.train import staged_model_dir

    out_dir, base = Path(out_dir), Path(base)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"{out_dir} exists; choose another name or overwrite")
    torch.manual_seed(config.seed)
    heads_part, fit_part, held_part = _split(edits, config)
    if len({e.label for e in fit_part}) < 2:
        raise ValueError(f"the booster part ({len(fit_part)} edits, titles not used for the heads) needs both "
                         "reverted and kept edits")
    device = config.torch_device()
    log.info("training on %d edits (%s): %d for the heads, %d for the booster, %d held out",
             len(edits), device, len(heads_part), len(fit_part), len(held_part))
    tokenizer, encoder = load_encoder(base)
    net = RevertRiskHeads(encoder).to(device)
    checkpoint = out_dir.parent / f".{out_dir.name}.checkpoint.pt"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    train_heads(net, tokenizer, heads_part, config, checkpoint, _fingerprint(base, edits, config))
    fit_rows = _rows(net, tokenizer, fit_part, config)
    booster = _fit_booster(fit_rows, [e.label for e in fit_part], config)
    net.to("cpu")  # served on the CPU; int8 quantization is CPU-only
    # int8 is measured on every edit the heads never saw (booster part and held out): the
    # booster is a step function, so the more edits, the likelier a borderline one is seen.
    measured = [*fit_part, *held_part]
    held_fp32 = _predict(booster, _rows(net, tokenizer, held_part, config)) if held_part else []
    fp32 = _predict(booster, fit_rows) + held_fp32
    int8 = _predict(booster, _rows(quantize_linear(net), tokenizer, measured, config))
    diff = max(abs(a - b) for a, b in zip(fp32, int8))
    eval_auc = auc(held_fp32, [e.label for e in held_part]) if held_part else None
    created = datetime.now(UTC)
    with staged_model_dir(out_dir.parent, out_dir.name) as staging:
        save_model_files(staging, tokenizer, net, booster)
        save_heads_npz(staging / HEADS_NPZ, {k: v.numpy() for k, v in net.heads_state().items()})
        onnx = _export_onnx(net, tokenizer, booster, measured, fp32, staging, config)
        files = (ENCODER_DIR, HEADS_FILE, HEADS_NPZ, BOOSTER_FILE,
                 *((onnx["file"], f"{onnx['file']}.data") if onnx.get("file") else ()))
        sha = {name: sha256_path(staging / name) for name in files}
        card = MultilingualCard(
            id=f"{out_dir.name}-{created:%Y%m%dT%H%M%SZ}-{sha[HEADS_FILE][:8]}", name=out_dir.name,
            feature_names=FEATURE_NAMES, sha256=sha, max_length=config.max_length,
            title_max_length=config.title_max_length, max_texts=config.max_texts,
            quantization={"max_abs_diff": diff, "measured_on": len(measured),
                          "method": "torch quantize_dynamic qint8 Linear"}, onnx=onnx,
            extra={"wiki": wiki, "created": created.isoformat(), "base": str(base), "mwedittypes": "3.1.0",
                   "serving": SERVING_NOTE,
                   "torch": torch.__version__, "device": str(device),
                   "training": {k: v for k, v in asdict(config).items() if k != "device"},
                   "data": {**(data or {}), "edits": len(edits), "heads": len(heads_part), "booster": len(fit_part),
                            "held_out": len(held_part), "reverted": sum(e.label for e in edits),
                            "split": f"by title: {config.head_fraction:.0%} of titles for the heads, the rest "
                                     f"for the booster with {config.eval_fraction:.0%} of them held out"},
                   "evaluation": {"auc_held_out": eval_auc}}).to_json()
        (staging / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        (staging / "MODEL_CARD.md").write_text(_markdown(card), encoding="utf-8")
    checkpoint.unlink(missing_ok=True)
    log.info("wrote %s (held-out AUC %s, int8 max |Δp|: torch %s, onnx %s)", out_dir, eval_auc, diff,
             onnx.get("max_abs_diff"))
    model = MultilingualModel(MultilingualCard.from_json(card), tokenizer, net.eval(), booster)
    return TrainResult(model_dir=out_dir, card=card, eval_auc=eval_auc, quantized_max_abs_diff=diff, model=model)


def _export_onnx(net: RevertRiskHeads, tokenizer: Any, booster: Any, measured: Sequence[LabelledEdit],
                 fp32: list[float], staging: Path, config: TrainConfig) -> dict[str, Any]:
    """Export the int8 ONNX encoder into ``staging`` and measure it against ``fp32``, the
    probabilities of ``measured`` (the edits the heads never saw)."""
    from automod.scoring.multilingual import ONNX_FILE, OnnxRevertRisk, export_int8, onnx_available

    if not config.onnx:
        return {}
    if not onnx_available():
        log.warning("onnxruntime is not installed: no ONNX encoder (served with torch)")
        return {"skipped": "onnxruntime not installed"}
    try:
        export_int8(net, staging / ONNX_FILE)
        served = OnnxRevertRisk(staging / ONNX_FILE, int(net.encoder.config.hidden_size))
        served.load_state_dict(net.heads_state(), strict=True)
        served.eval()
        diff = None
        if measured:
            int8 = _predict(booster, _rows(served, tokenizer, measured, config))
            diff = max(abs(a - b) for a, b in zip(fp32, int8))
    except Exception as exc:  # noqa: BLE001 - an encoder that will not export must not cost the training
        log.warning("cannot export the encoder to ONNX (%s: %s); the model is served with torch",
                    type(exc).__name__, exc)
        (staging / ONNX_FILE).unlink(missing_ok=True)
        (staging / f"{ONNX_FILE}.data").unlink(missing_ok=True)
        return {"skipped": f"export failed: {type(exc).__name__}: {exc}"[:300]}
    return {"file": ONNX_FILE, "max_abs_diff": diff, "measured_on": len(measured),
            "method": "onnxruntime quantize_dynamic QInt8 (encoder to the pooled output)"}


def _markdown(card: dict[str, Any]) -> str:
    data, q, o = card["data"], card["quantization"], card.get("onnx") or {}
    return "\n".join([
        f"# Model card: {card['name']} (multilingual revert risk)", "",
        f"- **Model version (id):** `{card['id']}`", f"- **Wiki:** {card['wiki'] or '(any)'}",
        f"- **Created:** {card['created']}", f"- **Base encoder:** `{card['base']}`",
        f"- **Design:** shared encoder with insert/remove/change(pair)/title heads, per-revision max/mean "
        f"aggregates, xgboost booster; feature set `{FEATURE_SET}` ({len(card['feature_names'])} features)",
        f"- **Truncation:** {card['max_length']} tokens per fragment, {card['title_max_length']} per title, "
        f"first {card['max_texts']} fragments of each kind",
        f"- **Source:** {data.get('source', '(edits given by the caller)')}",
        f"- **Label:** {data.get('label', 'given by the caller')}",
        f"- **Data:** {data['edits']} edits ({data['reverted']} reverted); heads {data['heads']}, booster "
        f"{data['booster']}, held out {data['held_out']}",
        f"- **Held-out AUC:** {card['evaluation']['auc_held_out']}",
        f"- **int8, torch dynamic quantization:** max |Δp| vs fp32 = {q.get('max_abs_diff')} on "
        f"{q.get('measured_on')} edits the heads never saw",
        f"- **int8, ONNX Runtime encoder:** max |Δp| vs fp32 = {o.get('max_abs_diff')} on {o.get('measured_on')} "
        f"edits the heads never saw{'' if o.get('file') else ' (not exported)'}",
        "- **Served:** the ONNX Runtime encoder when its |Δp| ≤ 0.01 (then without torch: heads from "
        "`heads.npz`), else torch (int8 when its |Δp| ≤ 0.01, else fp32)", ""])
