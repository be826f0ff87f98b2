"""Local language-agnostic model: features + prediction per revision pair, and memory.

Builds ~100 KB and ~1 MB wikitext pairs from a real article (PAN-WVC-10's "Invention of the
telephone", tests/data/fixtures; CC BY-SA, Wikipedia contributors) repeated, with a small edit
between old and new; trains a small model on synthetic edits (or loads --model-dir); then
times, per pair, what LocalScorer does after the API answers: both texts' counts, the diff and
content features of what was inserted and removed, every feature and one prediction. Also the
resident memory of the process before and after loading the model. Target: p50 <= 5 ms at 100 KB.

Run: python benchmarks/bench_local_model.py [--model-dir DIR] [--runs 300]
"cold" computes both texts' counts; "parent cached" reuses the parent's, as LocalScorer does
when it scored the parent before (the usual case on a live wiki).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

FIXTURE = HERE.parents[0] / "tests/data/fixtures/edits/panwvc10_mini/training/revisions/part-1/326471754.txt"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def pair(size: int) -> tuple[str, str]:
    base = FIXTURE.read_text(encoding="utf-8")
    old = (base * (size // len(base) + 1))[:size]
    cut = len(old) // 2
    new = old[:cut] + " The [[telephone]] was patented.<ref>Patent record.</ref>" + old[cut:]
    return old, new


def train_into(directory: Path) -> None:
    """Train the benchmark's model (run in a child process, so its memory is not counted)."""
    from automod.training import train_model
    from support.datasets import synthetic_dataset

    print(train_model(synthetic_dataset(2000), "bench", directory).model_dir)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", type=Path, default=None, help="a trained models/<name>/ (default: train one)")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--train-into", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_into:
        train_into(args.train_into)
        return
    model_dir = args.model_dir
    if model_dir is None:
        out = subprocess.run([sys.executable, __file__, "--train-into", tempfile.mkdtemp(prefix="automod-bench-")],
                             check=True, capture_output=True, text=True).stdout
        model_dir = Path(out.strip().splitlines()[-1])

    before = rss_mib()
    import xgboost  # noqa: F401  (counted apart from the model itself)

    from automod.scoring import EditData, LocalModel, NamespaceNames, RevisionInfo, UserInfo
    from automod.scoring.local import CountsCache

    imported = rss_mib()
    model = LocalModel.load(model_dir)
    loaded = rss_mib()
    names = NamespaceNames()
    now = datetime.now(UTC)
    print(f"model {model.card.id}: {model.booster.num_boosted_rounds()} trees, "
          f"{model_dir.joinpath(model.card.model_file).stat().st_size / 1024:.0f} KiB on disk")
    print(f"resident memory: {before:.0f} MiB at start, {imported:.0f} MiB with automod.scoring and xgboost "
          f"imported, {loaded:.0f} MiB with the model loaded (+{loaded - imported:.1f} MiB for the model)")
    for label, size, runs in (("100 KB", 100_000, args.runs), ("1 MB", 1_000_000, max(20, args.runs // 10))):
        old, new = pair(size)
        for mode in ("cold", "parent cached"):
            timings = []
            for i in range(runs + 1):
                # A new revision id every run; in "parent cached" the parent's counts were kept
                # from scoring it earlier (LocalScorer's CountsCache), as on a live wiki.
                cache = CountsCache()
                parent = RevisionInfo(1, now - timedelta(minutes=3), len(old.encode()), old)
                if mode != "cold":
                    cache.counts(parent, names)
                edit = EditData(revision=RevisionInfo(2 + i, now, len(new.encode()), new, "expand"), parent=parent,
                                user=UserInfo("Ann", False, 120, now - timedelta(days=90)),
                                page_created=now - timedelta(days=900))
                started = time.perf_counter()
                model.score_edit(edit, names, cache)
                if i:  # the first run warms up
                    timings.append((time.perf_counter() - started) * 1000)
            print(f"{label} pair, {mode:13s} ({len(old) / 1000:.0f} KB + {len(new) / 1000:.0f} KB), {runs} runs: "
                  f"p50 {percentile(timings, 0.5):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms, "
                  f"max {max(timings):.2f} ms")
    print(f"resident memory after scoring: {rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
