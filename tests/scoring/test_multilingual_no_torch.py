"""`automod score` with a multilingual model that its card lets serve without torch (issue 20):
offline over a labelled-edits CSV of the real edit pairs in the fixtures, and live on the
sandbox. Each command runs in its own process, which asserts at exit that torch was never
imported (``sys.modules``): importing it alone costs about 214 MiB of the job's 512."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.moderation_helpers import set_config
from support.multilingual_helpers import history as _history
from support.multilingual_helpers import make_encoder as _make_encoder
from support.settings_files import write_settings

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning:transformers.*"),
]
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_multilingual import fixture_edits  # noqa: E402 (benchmarks/ is on sys.path only from the line above)

NAME = "tiny-ml"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models directory holding one tiny multilingual model whose card allows torch-free serving."""
    from automod.training import TrainConfig, train_multilingual

    root = tmp_path_factory.mktemp("no-torch")
    config = TrainConfig(epochs=2, batch_size=16, encoder_lr=2e-3, head_lr=5e-3, booster_rounds=30,
                         title_min_revisions=3)
    result = train_multilingual(_make_encoder(root / "tiny-bert"), _history(30, 4, seed=1), root / "models" / NAME,
                                config=config)
    card_path = result.model_dir / "model_card.json"
    card = json.loads(card_path.read_text())
    # Under test is the path such a card selects, not the 2-epoch toy's int8 fidelity
    # (as in test_multilingual_serving.py); the exported heads are real.
    card["onnx"]["max_abs_diff"] = min(0.01, card["onnx"]["max_abs_diff"])
    card_path.write_text(json.dumps(card))
    assert "heads.npz" in card["sha256"]
    return result.model_dir.parent


def automod_without_torch(*args: str) -> subprocess.CompletedProcess[str]:
    """`automod ARGS` in a fresh interpreter that fails if torch was imported by the end."""
    wrapper = ("import sys, automod.cli\n"
               f"rc = automod.cli.main({list(args)!r})\n"
               "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
               "assert not loaded, f'torch imported: {loaded[:5]}'\n"
               "sys.exit(rc)\n")
    res = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def test_score_input_over_real_edit_pairs_answers_every_row_without_torch(models_dir: Path, tmp_path: Path) -> None:
    edits = fixture_edits()
    source = tmp_path / "edits.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["rev_id", "wiki", "title", "user_is_anon", "old_text", "new_text", "text_kind"])
        for rev_id, title, old, new in edits:
            writer.writerow([rev_id, "enwiki", title, "1", old, new, "full"])
    out = tmp_path / "scores.csv"
    res = automod_without_torch("score", "--model", f"local:{NAME}", "--models-dir", str(models_dir),
                                "--input", str(source), "--output", str(out))
    assert json.loads(res.stdout.strip().splitlines()[-1])["scored"] == len(edits)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["rev_id"] for row in rows] == [rev_id for rev_id, *_ in edits]
    assert all(0.0 <= float(row["probability"]) <= 1.0 for row in rows), rows


@pytest.mark.sandbox
def test_live_score_on_the_sandbox_imports_no_torch(sandbox: Any, wiki: Any, models_dir: Path, unique_title: str,
                                                   tmp_path: Path) -> None:
    """The path `automod run` takes too (ServedWiki → MultilingualScorer → load_served), on a
    real edit pair replayed on the sandbox: the Chinatown vandalism of PAN-WVC-10."""
    prev, cur = next((p, c) for rev_id, _, p, c in fixture_edits() if rev_id == "328774110")
    admin, writer, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    writer.edit(unique_title, prev)
    bad = anon.edit(unique_title, cur)
    settings = yaml.safe_load(sandbox.settings.read_text())
    settings["models_dir"] = str(models_dir)
    settings["store"] = str(tmp_path / "automod.sqlite")
    path = tmp_path / "settings.yaml"
    write_settings(path, settings)
    set_config(admin, {"enabled": True, "mode": "log-only", "model": f"local:{NAME}", "threshold": 0.9})
    try:
        res = automod_without_torch("score", "--settings", str(path), "--wiki", sandbox.wiki, str(bad))
    finally:
        set_config(admin, {"enabled": False})
    result = json.loads(res.stdout)
    assert result["model"] == f"local:{NAME}" and result["rev_id"] == bad, result
    assert 0.0 <= result["probability"] <= 1.0, result
    assert "without torch" in res.stderr or "no torch" in res.stderr, res.stderr[-2000:]
