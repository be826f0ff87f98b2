"""`automod serve` with a multilingual model and Lift Wing's batch form: Lift Wing's multilingual
server has no batch path, so an ``instances`` body fails its single-request checks (400, no
``lang``); a client that tries the batch form first must see that, and fall back to singles."""

from __future__ import annotations

import pytest

from automod.scoring import LiftWingScorer, Score
from support.serve_helpers import NAME

pytest.importorskip("kserve")
pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning:transformers.*"),
]


def test_the_batch_form_gets_lift_wings_400_and_singles_still_score(server, sandbox, wiki, unique_title):
    writer = wiki(sandbox.vandals[0])
    writer.edit(unique_title, "'''Place''' is a town by the river.\n\n== History ==\nThe mill opened in 1850.")
    revs = [writer.edit(unique_title, "'''Place''' is a town by the river." + " Again." * n) for n in (1, 2)]
    resp = server.predict({"instances": [{"lang": "sandbox", "rev_id": rev} for rev in revs]})
    assert (resp.status_code, resp.json()) == (400, {"error": "The parameter lang is required."})
    assert "has no batch form" in server.log.read_text()
    with LiftWingScorer(server.models_url, NAME, user_agent="automod-tests/0.1 (test@example.org)",
                        session=server.session) as client:
        outcomes = client.score_many(sandbox.wiki, revs)
        assert client.stats.requests == 2  # one per revision: no batch form tried for this model
    assert all(isinstance(o, Score) and o.model == NAME for o in outcomes)
