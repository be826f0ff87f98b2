"""The multilingual model and its torch-free server, shared by the multilingual serve tests.

test_serve_sandbox.py serves a language-agnostic model instead: it defines its own
``model_dir`` and ``server``, which win over these in that module.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.multilingual_helpers import history as _history
from support.multilingual_helpers import make_encoder as _make_encoder
from support.serve_helpers import MODEL, NAME, WITHOUT_TORCH, ServeProcess


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny multilingual model, trained as `automod train --kind multilingual` does; its card
    allows the torch-free path (as in test_multilingual_no_torch.py, the toy's int8 fidelity is
    not under test)."""
    from automod.training import TrainConfig, train_multilingual

    root = tmp_path_factory.mktemp("serve-ml")
    config = TrainConfig(epochs=2, batch_size=16, encoder_lr=2e-3, head_lr=5e-3, booster_rounds=30,
                         title_min_revisions=3)
    result = train_multilingual(_make_encoder(root / "tiny-bert"), _history(30, 4, seed=1), root / "models" / MODEL,
                                config=config)
    card_path = result.model_dir / "model_card.json"
    card = json.loads(card_path.read_text())
    card["onnx"]["max_abs_diff"] = min(0.01, card["onnx"]["max_abs_diff"])
    card_path.write_text(json.dumps(card))
    return result.model_dir


@pytest.fixture(scope="module")
def server(sandbox, model_dir):
    with ServeProcess(sandbox.settings, model_dir, name=NAME, timeout=120, python_args=("-c", WITHOUT_TORCH)) as served:
        yield served

