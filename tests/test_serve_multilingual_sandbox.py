"""`automod serve` with a multilingual model whose card allows serving without torch: a real
server on 127.0.0.1 reading a real sandbox revision. The server runs in a wrapper that, when
the server has stopped, exits non-zero if torch was ever imported (``sys.modules``, as
tests/test_multilingual_no_torch.py checks `automod score`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from serve_helpers import ServeProcess
from test_multilingual import _history, _make_encoder

pytest.importorskip("kserve")
pytest.importorskip("torch")  # to train the tiny model here; the server itself never imports it
pytest.importorskip("onnxruntime")
pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning:transformers.*"),
]
NAME = "revertrisk-multilingual"
MODEL = "served-ml"
EXAMPLES = json.loads((Path(__file__).parent / "data/liftwing/revert-risk-examples.json").read_text())
#: `automod ARGS` that fails at exit when torch was imported.
WITHOUT_TORCH = ("import sys, automod.cli\n"
                 "rc = automod.cli.main(sys.argv[1:])\n"
                 "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
                 "print(f'torch modules at exit: {loaded[:5]}', file=sys.stderr, flush=True)\n"
                 "sys.exit(rc if not loaded else 3)\n")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny multilingual model, trained as `automod train --kind multilingual` does; its card
    allows the torch-free path (as in test_multilingual_no_torch.py, the toy's int8 fidelity is
    not under test)."""
    from automod.training.multilingual_fit import TrainConfig, train_multilingual

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


def test_scores_a_sandbox_revision_in_lift_wings_shape(server, sandbox, wiki, unique_title):
    writer, anon = wiki(sandbox.vandals[0]), wiki()
    writer.edit(unique_title, "'''Place''' is a town by the river.\n\n== History ==\nThe mill opened in 1850.")
    rev = anon.edit(unique_title, "'''Place''' is a town by the river.\n\n== History ==\nThe mill opened in 1850. lol")
    resp = server.predict({"rev_id": rev, "lang": "sandbox"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == set(EXAMPLES["response"]) and set(body["output"]) == {"prediction", "probabilities"}
    assert (body["model_name"], body["wiki_db"], body["revision_id"]) == (NAME, "sandboxwiki", rev)
    assert body["model_version"]  # the model card's id
    p = body["output"]["probabilities"]
    assert 0.0 <= p["true"] <= 1.0 and p["true"] + p["false"] == pytest.approx(1)
    assert body["output"]["prediction"] == (p["true"] > 0.5)


def test_page_creation_gets_422_in_the_multilingual_wording(server, sandbox, wiki, unique_title):
    created = wiki(sandbox.vandals[0]).edit(unique_title, "'''Place''' is a town.")
    resp = server.predict({"rev_id": created, "lang": "sandbox"})
    assert (resp.status_code, resp.json()) == (422, {"detail": (
        f"Could not make prediction for revision {created} (sandbox). Reason: parent_revision_missing")})


def test_the_server_never_imported_torch(server):
    """Last: stops the server, whose wrapper checks sys.modules after every request above."""
    assert server.stop() == 0, server.log.read_text()[-3000:]
    log = server.log.read_text()
    assert "served without torch" in log and "torch modules at exit: []" in log, log[-3000:]
