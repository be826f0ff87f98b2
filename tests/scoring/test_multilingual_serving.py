"""Serving the multilingual model lightly: extraction reusing parsed revisions (identical
texts), no torch when the card allows it, the warning and the upgrade for older directories,
and scoring edits given as texts (the public entry for ``automod score --input``)."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from automod.scoring.multilingual import ExtractionCache, extract_edit_texts
from support.multilingual_helpers import history as _history
from support.multilingual_helpers import make_encoder as _make_encoder

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning:transformers.*"),
]
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_multilingual import fixture_edits  # noqa: E402 (benchmarks/ is on sys.path only from the line above)


def test_extraction_reusing_parsed_revisions_gives_identical_texts_on_real_edit_pairs() -> None:
    edits = fixture_edits()
    plain = [extract_edit_texts(prev, cur, title) for _, title, prev, cur in edits]
    cache = ExtractionCache()
    assert [cache.extract(prev, cur, title) for _, title, prev, cur in edits] == plain
    assert cache.hits == 0
    # Each edit again, its parent now parsed: the texts do not change.
    assert [cache.extract(prev, cur, title) for _, title, prev, cur in edits] == plain
    assert cache.hits == 2 * len(edits)
    small = ExtractionCache(max_revisions=2)
    for _, title, prev, cur in edits:
        small.extract(prev, cur, title)
    assert len(small) == 2  # bounded


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from automod.training import TrainConfig, train_multilingual

    root = tmp_path_factory.mktemp("serving")
    config = TrainConfig(epochs=2, batch_size=16, encoder_lr=2e-3, head_lr=5e-3, booster_rounds=30,
                         title_min_revisions=3)
    result = train_multilingual(_make_encoder(root / "tiny-bert"), _history(30, 4, seed=1), root / "m" / "tiny",
                                config=config)
    # Under test is the serving path a measured card selects, not the tiny model's int8
    # fidelity (a borderline edit of a 2-epoch toy can move the booster by more than 0.01).
    card = _card(result.model_dir)
    card["onnx"]["max_abs_diff"] = min(0.01, card["onnx"]["max_abs_diff"])
    (result.model_dir / "model_card.json").write_text(json.dumps(card))
    return result


def test_torch_free_path_gives_the_probabilities_of_the_torch_onnx_path(trained: Any) -> None:
    from automod.scoring.multilingual import MultilingualModel, Predictor, TorchFreeModel

    edits = [(e.texts, e.meta) for e in _history(6, 3, seed=2)]
    light = TorchFreeModel.load(trained.model_dir)
    with_torch = Predictor(MultilingualModel.load(trained.model_dir, runtime="onnx")).predict(edits)
    assert max(abs(a - b) for a, b in zip(light.predict(edits), with_torch)) < 1e-5


def test_scoring_edit_rows_imports_no_torch(trained: Any) -> None:
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
        "from bench_multilingual import fixture_edits\n"
        "from automod.scoring.multilingual.serving import score_edit_rows\n"
        "rows = [{'old_text': p, 'new_text': c, 'title': t} for _, t, p, c in fixture_edits()]\n"
        f"p = score_edit_rows({str(trained.model_dir)!r}, rows)\n"
        "print(json.dumps({'p': p, 'torch': 'torch' in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(result["p"]) == len(fixture_edits()) and all(0.0 <= p <= 1.0 for p in result["p"])
    assert result["torch"] is False


def test_a_row_without_its_new_text_is_refused_before_scoring(trained: Any) -> None:
    from automod.scoring.multilingual import score_edit_rows

    rows = [{"old_text": "a", "new_text": "b", "title": "T"}, {"old_text": "a", "title": "T"}]
    with pytest.raises(ValueError, match="row 2: new_text missing"):
        score_edit_rows(trained.model_dir, rows)


def _card(model_dir: Path) -> dict[str, Any]:
    return json.loads((model_dir / "model_card.json").read_text())


def test_older_directory_is_served_with_torch_and_a_warning_until_upgraded(
        trained: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from automod.scoring.multilingual import TorchFreeModel, load_served
    from automod.training import upgrade_model_dir

    old = tmp_path / "tiny"
    shutil.copytree(trained.model_dir, old)
    card = _card(old)
    del card["sha256"]["heads.npz"]
    (old / "heads.npz").unlink()
    (old / "model_card.json").write_text(json.dumps(card))
    edits = [(e.texts, e.meta) for e in _history(3, 2, seed=4)]
    with caplog.at_level(logging.WARNING, logger="automod.scoring.multilingual.serving"):
        served = load_served(old)
    assert "torch" in served.runtime
    assert "214 MiB" in caplog.text and "automod upgrade-model" in caplog.text
    upgraded = upgrade_model_dir(old)
    assert "heads.npz" in upgraded["sha256"]
    light = load_served(old)
    assert isinstance(light, TorchFreeModel)
    assert max(abs(a - b) for a, b in zip(light.predict(edits), served.predict(edits))) < 1e-5


def test_directory_without_a_measured_onnx_export_names_the_cost_and_the_command(
        trained: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from automod.scoring.multilingual import load_served

    copy = tmp_path / "tiny"
    shutil.copytree(trained.model_dir, copy)
    card = _card(copy)
    card["onnx"] = {"skipped": "onnxruntime not installed"}
    (copy / "model_card.json").write_text(json.dumps(card))
    with caplog.at_level(logging.WARNING, logger="automod.scoring.multilingual.serving"):
        served = load_served(copy)
    assert "torch" in served.runtime and "no int8 ONNX export" in caplog.text
    assert "ms per revision" in caplog.text and "automod train --kind multilingual" in caplog.text
