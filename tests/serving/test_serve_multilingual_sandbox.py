"""`automod serve` with a multilingual model whose card allows serving without torch: a real
server on 127.0.0.1 reading a real sandbox revision. The server runs in a wrapper that, when
the server has stopped, exits non-zero if torch was ever imported (``sys.modules``, as
tests/scoring/test_multilingual_no_torch.py checks `automod score`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.serve_helpers import NAME

pytest.importorskip("kserve")
pytest.importorskip("torch")  # to train the tiny model here; the server itself never imports it
pytest.importorskip("onnxruntime")
pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning:transformers.*"),
]
EXAMPLES = json.loads((Path(__file__).parents[1] / "data/liftwing/revert-risk-examples.json").read_text())


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
