"""Model quality on labelled edits: 5-fold cross-validation grouped by title, through the CLI.

For each fold, the other folds are written to a CSV, ``automod train --kind language-agnostic
--from-csv`` trains on it, and ``automod score --model local:NAME --input`` scores the held-out
fold: exactly the two commands a community (or a comparison of models) uses. Prints ROC AUC,
PR AUC and recall at 0.1 %, 0.5 % and 1 % false-positive rate over the pooled out-of-fold
scores, each with a 95 % bootstrap interval. Targets on PAN-WVC-10: ROC AUC >= 0.92 and recall
>= 35 % at 1 % FPR.

Data: benchmarks/data/labelled-edits/pan_wvc10.csv (PAN-WVC-10, CC BY 4.0; Wikipedia text
CC BY-SA; see the README beside it). Run: python benchmarks/bench_model_quality.py [--input FILE]
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data/labelled-edits/pan_wvc10.csv"
sys.path.insert(0, str(HERE.parent))


def automod(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).with_name("automod")), *args], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    from automod.training.metrics import ranking_summary

    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=Path, default=DATA, help="a labelled-edits CSV (default: PAN-WVC-10)")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    csv.field_size_limit(sys.maxsize)
    with args.input.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    titles = sorted({r["title"] for r in rows})
    random.Random(0).shuffle(titles)
    fold_of = {t: i % args.folds for i, t in enumerate(titles)}
    scores: list[float] = []
    labels: list[bool] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="automod-quality-") as tmp:
        work = Path(tmp)
        for fold in range(args.folds):
            parts = {"train": [r for r in rows if fold_of[r["title"]] != fold],
                     "test": [r for r in rows if fold_of[r["title"]] == fold]}
            for part, chosen in parts.items():
                with (work / f"{part}{fold}.csv").open("w", encoding="utf-8", newline="") as fh:
                    writer = csv.DictWriter(fh, header)
                    writer.writeheader()
                    writer.writerows(chosen)
            automod("train", "--kind", "language-agnostic", "--name", f"fold{fold}", "--from-csv",
                    str(work / f"train{fold}.csv"), "--models-dir", str(work / "models"))
            automod("score", "--model", f"local:fold{fold}", "--models-dir", str(work / "models"),
                    "--input", str(work / f"test{fold}.csv"), "--output", str(work / f"scores{fold}.csv"))
            with (work / f"scores{fold}.csv").open(encoding="utf-8") as fh:
                scored = list(csv.DictReader(fh))
            assert len(scored) == len(parts["test"]), "score --input must write one line per input row"
            scores += [float(s["probability"]) for s in scored]
            labels += [r["label"] == "1" for r in parts["test"]]
            print(f"fold {fold}: trained on {len(parts['train'])}, scored {len(scored)} "
                  f"({time.perf_counter() - started:.0f} s so far)", flush=True)
    summary = ranking_summary(scores, labels, rounds=1000)
    print(f"\n{args.input.name}: {len(scores)} edits ({sum(labels)} positive), {args.folds}-fold CV grouped by "
          "title, through `automod train --from-csv` and `automod score --input`")
    for key in ("roc_auc", "pr_auc", "recall_at_0.1pct_fpr", "recall_at_0.5pct_fpr", "recall_at_1pct_fpr"):
        entry = summary[key]
        low, high = entry["interval"]
        print(f"  {key:22s} {entry['value']:.3f}  (95% bootstrap interval {low:.3f}-{high:.3f})")
    print(f"  targets: roc_auc >= 0.92, recall_at_1pct_fpr >= 0.35; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
