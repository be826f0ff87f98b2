"""Multilingual revert-risk inference: the reference's naive path against automod's, side by side.

Usage: python benchmarks/bench_multilingual.py [--repeat N] [--micro-batch N] [--json] [--keep-model DIR]

One model directory is written first, as ``automod train`` writes it: a
bert-base-multilingual-cased-SHAPED encoder (12 layers, hidden 768, vocabulary 119,547,
random weights from a fixed seed; nothing is downloaded) with a WordPiece tokenizer trained
on the fixture texts, the heads, a booster, and the int8 ONNX Runtime export. Both paths
load it, each in its own process (so peak RSS is its own), and score the real edit pairs
in tests/data/fixtures/edits/:

(a) naive, as the reference server: one text at a time, fp32 torch, truncated at 512 tokens;
(b) automod, as ``automod run`` serves it: ``TorchFreeModel`` (no torch imported) — the
    int8 ONNX Runtime encoder with memory-mapped weights, numpy heads, every fragment of a
    micro-batch of revisions in length-sorted batches of at most 384 padded tokens, 64-token
    fragments (32 for titles), the first 16 fragments of each kind, 2 threads.

Reported: ms per revision (p50/p99 one revision at a time; amortized: the median over the
repetitions of a whole pass over the revisions divided by their number (micro-batches for
(b)), as shared VMs have bursts of steal time),
revisions per second, peak RSS, and the max |Δ| between (a) and (b) of the head
probabilities (the encoder path's fidelity; the per-revision max/mean of softmax
probabilities the booster reads) and of the final probability. With random weights the
final probability comes from a booster fitted on random rows, so its |Δ| says little; a
trained model's is measured by ``automod train`` on held-out edits and kept in its card.
Text extraction (mwedittypes) is timed in each process and added to both totals: (a) plain,
(b) through the extraction cache, cold (nothing parsed before: the headline figure) and,
apart, with each parent parsed a moment earlier (as when the bot handled it as the new edit).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests/data/fixtures/edits"


def fixture_edits() -> list[tuple[str, str, str, str]]:
    """(id, title, parent text, current text) of every real edit pair in the fixtures."""
    out: dict[str, tuple[str, str, str, str]] = {}
    for path in sorted((FIXTURES / "cluebot").glob("*.xml")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for e in root.iter("WPEdit"):
            prev, cur = e.findtext("previous/text"), e.findtext("current/text")
            if prev and cur and len(prev) > 200:  # skip placeholders and incomplete records
                key = e.findtext("EditID") or path.name
                out.setdefault(key, (key, e.findtext("common/title") or "", prev, cur))
    pan = FIXTURES / "panwvc10_mini/test"
    files = {p.stem: p for p in pan.glob("revisions/*/*.txt")}
    for line in (pan / "ground-truth.txt").read_text().splitlines():
        old, new, _ = line.split()
        out.setdefault(new, (new, f"page {new}", files[old].read_text(), files[new].read_text()))
    return list(out.values())


def build_model_dir(model_dir: Path) -> Path:
    """Write a model directory with an mBERT-shaped random encoder and its int8 ONNX export."""
    import json

    import numpy as np
    import torch
    import xgboost
    from tokenizers import (
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from automod.scoring import CARD_FILE, sha256_path
    from automod.scoring.multilingual import (
        BOOSTER_FILE,
        ENCODER_DIR,
        FEATURE_NAMES,
        HEADS_FILE,
        HEADS_NPZ,
        ONNX_DATA,
        ONNX_FILE,
        EditMeta,
        InferenceConfig,
        MultilingualCard,
        MultilingualModel,
        OnnxRevertRisk,
        Predictor,
        RevertRiskHeads,
        export_int8,
        extract_edit_texts,
        save_heads_npz,
        save_model_files,
    )

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    texts = [t for e in fixture_edits() for t in e[2:]]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=8000, special_tokens=specials,
                                                             show_progress=False))
    learned = sorted(t for t in tok.get_vocab() if t not in specials)  # same ids on every run
    tok.model = models.WordPiece({t: i for i, t in enumerate(specials + learned)}, unk_token="[UNK]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                  sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(0)
    encoder = BertModel(BertConfig(vocab_size=119_547, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                   intermediate_size=3072, max_position_embeddings=512))
    net = RevertRiskHeads(encoder).eval()
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(200, len(FEATURE_NAMES))).astype(np.float32)
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 2, "seed": 0},
                            xgboost.DMatrix(rows, label=(rows[:, -1] + rows[:, -10] > 0).astype(np.float32)), 30)
    model_dir.mkdir(parents=True, exist_ok=True)
    save_model_files(model_dir, tokenizer, net, booster)
    export_int8(net, model_dir / ONNX_FILE)
    save_heads_npz(model_dir / HEADS_NPZ, {k: v.numpy() for k, v in net.heads_state().items()})
    # As training does: the int8 encoder's final probabilities against fp32 (here on the fixtures).
    card = MultilingualCard(id="bench", name="bench", feature_names=FEATURE_NAMES, sha256={}, max_length=64,
                            title_max_length=32, max_texts=16)
    edits = [(extract_edit_texts(p, c, t), EditMeta(bytes_diff=len(c) - len(p), anonymous=False))
             for _, t, p, c in fixture_edits()]
    fp32 = Predictor(MultilingualModel(card, tokenizer, net, booster), InferenceConfig(quantize="off"))
    served = OnnxRevertRisk(model_dir / ONNX_FILE, 768)
    served.load_state_dict(net.heads_state(), strict=True)
    int8 = Predictor(MultilingualModel(card, tokenizer, served.eval(), booster, "onnxruntime-int8"))
    # Random weights: the booster is fitted on random rows, so its output jumps on any change
    # and says nothing of fidelity; the card records the head probabilities' |Δ| instead.
    heads = [i for i, name in enumerate(FEATURE_NAMES) if name.startswith("bert_") and "_p" in name]
    diff = max(abs(ra[i] - rb[i]) for ra, rb in zip(fp32.feature_rows(edits), int8.feature_rows(edits))
               for i in heads)
    onnx = {"file": ONNX_FILE, "max_abs_diff": diff, "measured_on": len(edits),
            "method": "onnxruntime quantize_dynamic QInt8; random weights: head probabilities on the fixture edits"}
    files = (ENCODER_DIR, HEADS_FILE, HEADS_NPZ, BOOSTER_FILE, ONNX_FILE, ONNX_DATA)
    sha = {name: sha256_path(model_dir / name) for name in files}
    card = MultilingualCard(id="bench", name="bench", feature_names=FEATURE_NAMES, sha256=sha, max_length=64,
                            title_max_length=32, max_texts=16, onnx=onnx)
    (model_dir / CARD_FILE).write_text(json.dumps(card.to_json()), encoding="utf-8")
    return model_dir


def naive_logits(model, texts):  # type: ignore[no-untyped-def]
    """The reference's way: every text alone, fp32, 512 tokens."""
    import torch

    from automod.scoring.multilingual import KINDS

    items = ([(0, t, None) for t in texts.inserted] + [(1, t, None) for t in texts.removed]
             + [(2, o, n) for o, n in texts.changed] + [(3, texts.title, None)])
    per_kind: list[list[torch.Tensor]] = [[] for _ in KINDS]
    with torch.inference_mode():
        for kind, text, pair in items:
            enc = model.tokenizer(text, pair, truncation=True, max_length=512, return_tensors="pt",
                                  return_token_type_ids=True)
            logits = model.net(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"],
                               torch.tensor([kind]))
            per_kind[kind].append(logits[0])
    return [torch.stack(k) if k else torch.zeros(0, 2) for k in per_kind]


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _extraction(edits: list[tuple[str, str, str, str]], cached: bool) -> tuple[list, float, float]:
    """Texts of the edits and ms/revision: cold (nothing parsed before) and, with the
    cache, with each parent parsed a moment earlier (as when the bot handled it as the new edit)."""
    from automod.scoring.multilingual import ExtractionCache, extract_edit_texts

    started = time.perf_counter()
    if not cached:
        texts = [extract_edit_texts(prev, cur, title) for _, title, prev, cur in edits]
        return texts, (time.perf_counter() - started) * 1000 / len(edits), float("nan")
    cache = ExtractionCache()
    texts = [cache.extract(prev, cur, title) for _, title, prev, cur in edits]
    cold = (time.perf_counter() - started) * 1000 / len(edits)
    warm_cache = ExtractionCache()
    for _, _, prev, _ in edits:
        warm_cache.parsed(prev, "en")
    started = time.perf_counter()
    for _, title, prev, cur in edits:
        warm_cache.extract(prev, cur, title)
    return texts, cold, (time.perf_counter() - started) * 1000 / len(edits)


def run_phase(phase: str, model_dir: Path, repeat: int, micro_batch: int) -> dict[str, object]:
    from automod.scoring.multilingual import EditMeta

    edits = fixture_edits()
    t0 = time.perf_counter()
    if phase == "a":
        import torch

        from automod.scoring.multilingual import MultilingualModel, feature_row

        torch.set_num_threads(2)
        model = MultilingualModel.load(model_dir, runtime="torch")
    else:
        from automod.scoring.multilingual import TorchFreeModel

        model = TorchFreeModel.load(model_dir, threads=2)
    load_s = time.perf_counter() - t0
    extraction = [_extraction(edits, cached=phase == "b") for _ in range(3)]
    texts = extraction[0][0]
    extract_ms = statistics.median(e[1] for e in extraction)
    extract_parent_cached_ms = statistics.median(e[2] for e in extraction)
    pairs = [(t, EditMeta(bytes_diff=len(c) - len(p), anonymous=False)) for t, (_, _, p, c) in zip(texts, edits)]
    times: list[float] = []
    rows: list[list[float]] = []
    if phase == "a":
        pass_times = []
        for _ in range(repeat):
            rows = []
            for t, meta in pairs:
                t0 = time.perf_counter()
                rows.append(feature_row(t, meta, naive_logits(model, t)))
                model.predict_rows(rows[-1:])
                times.append((time.perf_counter() - t0) * 1000)
            pass_times.append(sum(times[-len(pairs):]) / len(pairs))
        amortized = statistics.median(pass_times)
    else:
        model.predict(pairs[:2])  # warm-up
        batch_times = []
        for _ in range(repeat):
            for t, meta in pairs:  # one revision at a time: latency
                t0 = time.perf_counter()
                model.predict([(t, meta)])
                times.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            rows = []
            for i in range(0, len(pairs), micro_batch):
                chunk = pairs[i:i + micro_batch]
                rows += model.feature_rows(chunk)
                model.predict_rows(rows[-len(chunk):])
            batch_times.append((time.perf_counter() - t0) * 1000 / len(pairs))
        amortized = statistics.median(batch_times)
    times.sort()
    return {"phase": phase, "revisions": len(pairs), "repeat": repeat, "runtime": model.runtime, "load_s": load_s,
            "fragments": sum(len(t.inserted) + len(t.removed) + len(t.changed) + 1 for t in texts),
            "p50_ms": times[len(times) // 2], "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
            "amortized_ms": amortized, "revisions_per_s": 1000 / amortized, "extract_ms": extract_ms,
            "extract_parent_cached_ms": extract_parent_cached_ms,
            "peak_rss_mb": peak_rss_mb(), "torch_imported": "torch" in sys.modules, "rows": rows,
            "probabilities": model.predict_rows(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object, last line")
    parser.add_argument("--keep-model", type=Path, metavar="DIR",
                        help="write the model directory here and keep it (score with it: local:<name>)")
    parser.add_argument("--phase", choices=["a", "b"], help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.model_dir, args.repeat, args.micro_batch)))
        return
    from automod.scoring.multilingual import FEATURE_NAMES

    with tempfile.TemporaryDirectory(prefix="bench-multilingual-") as tmp:
        t0 = time.perf_counter()
        model_dir = build_model_dir(args.keep_model or Path(tmp) / "bench")
        print(f"model directory with ONNX export written in {time.perf_counter() - t0:.0f} s")
        results = {}
        for phase in ("a", "b"):
            out = subprocess.run([sys.executable, __file__, "--phase", phase, "--model-dir", str(model_dir),
                                  "--repeat", str(args.repeat), "--micro-batch", str(args.micro_batch)],
                                 capture_output=True, text=True, check=True)
            results[phase] = json.loads(out.stdout.strip().splitlines()[-1])
    a, b = results["a"], results["b"]
    heads = [i for i, name in enumerate(FEATURE_NAMES) if name.startswith("bert_") and "_p" in name]
    head_delta = max(abs(ra[i] - rb[i]) for ra, rb in zip(a["rows"], b["rows"]) for i in heads)
    delta = max(abs(x - y) for x, y in zip(a["probabilities"], b["probabilities"]))
    print(f"{a['revisions']} real edit pairs, {a['fragments']} text fragments (titles included), "
          f"{args.repeat} repetitions, micro-batch {args.micro_batch}")
    print(f"{'path':<40}{'p50 ms':>9}{'p99 ms':>9}{'amort. ms':>11}{'rev/s':>8}{'peak RSS MB':>13}{'load s':>8}")
    for name, r in (("(a) naive: 1 text, fp32 torch, 512 tok", a), ("(b) automod: int8 ONNX, batched, 64 tok", b)):
        print(f"{name:<40}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['amortized_ms']:>11.1f}"
              f"{r['revisions_per_s']:>8.2f}{r['peak_rss_mb']:>13.0f}{r['load_s']:>8.1f}")
    print(f"speed-up (amortized): {a['amortized_ms'] / b['amortized_ms']:.1f}x; "
          f"text extraction (both): {a['extract_ms']:.1f} ms/revision")
    print(f"max |Δ| (a) vs (b): head probabilities {head_delta:.4f}; final probability {delta:.4f} "
          "(random-row booster, see above)")
    naive_total, automod_total = a["amortized_ms"] + a["extract_ms"], b["amortized_ms"] + b["extract_ms"]
    warm_total = b["amortized_ms"] + b["extract_parent_cached_ms"]
    print(f"with extraction: naive {naive_total:.1f} ms/rev, automod {automod_total:.1f} ms/rev "
          f"({naive_total / automod_total:.1f}x); parents already parsed: {warm_total:.1f} ms/rev "
          f"({naive_total / warm_total:.1f}x); automod peak RSS {b['peak_rss_mb']:.0f} MiB, "
          f"torch imported: {b['torch_imported']}")
    if args.json:
        print(json.dumps({"naive_total_ms": round(naive_total, 1), "automod_total_ms": round(automod_total, 1),
                          "speedup": round(naive_total / automod_total, 2),
                          "automod_total_parent_cached_ms": round(warm_total, 1),
                          "extraction_ms": round(b["extract_ms"], 1),
                          "extraction_parent_cached_ms": round(b["extract_parent_cached_ms"], 1),
                          "naive_encoder_ms": round(a["amortized_ms"], 1), "encoder_ms": round(b["amortized_ms"], 1),
                          "peak_rss_mib": round(b["peak_rss_mb"]), "naive_peak_rss_mib": round(a["peak_rss_mb"]),
                          "torch_imported": b["torch_imported"], "head_max_abs_diff": round(head_delta, 4),
                          "revisions": a["revisions"]}))


if __name__ == "__main__":
    main()
