"""`automod serve`: a local model behind Lift Wing's contract, as a real server on 127.0.0.1,
reading revisions from the real sandbox wiki; the bot scores through it and reverts.

The recorded Lift Wing bodies the answers are checked against are in
tests/data/liftwing/revert-risk-examples.json (their source is named there).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from automod.sandbox.mediawiki import MW_DIR
from automod.scoring import LiftWingScorer, Score, Unscorable
from automod.store import Store
from automod.training import train_model
from support.datasets import synthetic_dataset
from support.moderation_helpers import REVERTING, set_config
from support.serve_helpers import ServeProcess

pytest.importorskip("kserve")
pytestmark = pytest.mark.sandbox

EXAMPLES = json.loads((Path(__file__).parents[1] / "data/liftwing/revert-risk-examples.json").read_text())
NAME = "revertrisk-language-agnostic"
MODEL = "served-la"


def hide_revision_text(sandbox, rev_id: int) -> None:
    """What revision deletion stores (``rev_deleted`` = DELETED_TEXT), written with MediaWiki's
    own sql.php: the bot's BotPassword cannot delete revisions, and that is as it should be."""
    subprocess.run(["php", str(MW_DIR / "maintenance/sql.php"), "--query",
                    f"UPDATE revision SET rev_deleted = 1 WHERE rev_id = {int(rev_id)}"],
                   env=sandbox.php_env(), capture_output=True, text=True, timeout=60, check=True)


def _shape(value: object) -> object:
    """The JSON shape of a body: keys and value types, not the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A language-agnostic model trained as `automod train` does (on synthetic edits: IP
    edits that blank most of a page are reverted)."""
    return train_model(synthetic_dataset(), MODEL, tmp_path_factory.mktemp("models")).model_dir


@pytest.fixture(scope="module")
def server(sandbox, model_dir):
    with ServeProcess(sandbox.settings, model_dir) as served:
        yield served


def _article(n: int) -> str:
    body = " ".join(f"Sentence {i} about the town's history, its river and its [[market]]." for i in range(40))
    return f"'''Town {n}''' is a town.<ref>Atlas, 1990.</ref>\n\n== History ==\n{body}\n\n[[Category:Towns]]"


def test_answers_a_revision_in_the_recorded_lift_wing_shape(server, sandbox, wiki, unique_title):
    writer = wiki(sandbox.vandals[0])
    writer.edit(unique_title, _article(1))
    rev = writer.edit(unique_title, _article(1) + "\nMore on the river.")
    resp = server.predict({"rev_id": rev, "lang": "sandbox"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert _shape(body) == _shape(EXAMPLES["response"])
    assert body["model_name"] == NAME and body["wiki_db"] == "sandboxwiki" and body["revision_id"] == rev
    assert body["model_version"].startswith(MODEL + "-")  # the model card's id
    p = body["output"]["probabilities"]
    assert p["true"] + p["false"] == pytest.approx(1) and body["output"]["prediction"] == (p["true"] > 0.5)
    # The `wiki` form and the local name answer the same.
    assert server.predict({"rev_id": rev, "wiki": "sandboxwiki"}).json() == body
    assert server.predict({"rev_id": rev, "lang": "sandbox"}, name=MODEL).json() == body


@pytest.mark.parametrize("case", [e for e in EXAMPLES["errors"] if e["status"] == 400], ids=lambda e: e["situation"])
def test_bad_requests_get_lift_wing_400_bodies(server, case):
    request = case.get("request", [1, 2])
    if "lang" in request and request["lang"] == "en":
        request = {**request, "lang": "sandbox"}  # the served wiki instead of enwiki
    body = dict(case["body"])
    resp = server.predict(request)
    assert (resp.status_code, resp.json()) == (400, body)


def test_malformed_bodies_get_400_and_never_disturb_the_server(server, sandbox, wiki, unique_title):
    for raw, ctype in ((b"{not json", "application/json"), (b"\xff\xfe", "application/json"),
                       (b"rev_id=1", "text/plain"), (b"", "application/json"), (b"null", "application/json")):
        resp = server.predict(raw, content_type=ctype)
        assert resp.status_code == 400 and set(resp.json()) == {"error"}, (raw, resp.text)
    assert server.predict({"rev_id": 1, "lang": "sandbox"}, name="no-such-model").status_code == 404
    writer = wiki(sandbox.vandals[0])
    writer.edit(unique_title, _article(2))
    rev = writer.edit(unique_title, _article(2) + " Again.")
    assert server.predict({"rev_id": rev, "lang": "sandbox"}).status_code == 200
    assert server.proc.poll() is None


def test_page_creation_and_deleted_parent_get_422_with_lift_wing_detail(server, sandbox, wiki, unique_title):
    writer = wiki(sandbox.vandals[0])
    created = writer.edit(unique_title, _article(3))
    resp = server.predict({"rev_id": created, "lang": "sandbox"})
    # Lift Wing's shape and wording (its multilingual 422, its batch `errors` entries), no Python reprs.
    assert (resp.status_code, resp.json()) == (422, {"detail": (
        f"Could not make prediction for revision {created} (sandbox). Reason: parent_revision_missing")})
    recorded = next(e for e in EXAMPLES["errors"] if e["situation"] == "page creation, multilingual")
    assert resp.json()["detail"] == recorded["body"]["detail"].replace("123 (en)", f"{created} (sandbox)")
    child = writer.edit(unique_title, _article(3) + " More.")
    hide_revision_text(sandbox, created)
    resp = server.predict({"rev_id": child, "lang": "sandbox"})
    assert resp.status_code == 422 and resp.json()["detail"].endswith("Reason: parent_revision_missing")
    assert "dict_keys" not in resp.text and "['" not in resp.text and "dict_keys" not in server.log.read_text()
    # KServe's use of a response class FastAPI deprecates is not the operator's business.
    assert "DeprecationWarning" not in server.log.read_text(), server.log.read_text()[-3000:]
    # Neither disturbed the server: it is live, ready and still scores.
    assert server.session.get(server.base, timeout=5).status_code == 200
    assert server.session.get(f"{server.models_url}{NAME}", timeout=5).json() == {"name": NAME, "ready": True}


def test_kserve_health_and_prometheus_metrics_are_kept(server):
    assert server.session.get(server.base, timeout=5).json() == {"status": "alive"}
    assert server.session.get(f"{server.base}/v1/models", timeout=5).json()["models"]
    metrics = server.session.get(f"{server.base}/metrics", timeout=5).text
    assert "request_predict_seconds" in metrics


def test_refuses_a_non_loopback_host_unless_allowed(sandbox, model_dir):
    res = subprocess.run([sys.executable, "-m", "automod", "serve", "--settings", str(sandbox.settings),
                          "--model", f"local:{MODEL}", "--models-dir", str(model_dir.parent), "--host", "0.0.0.0"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "refusing to serve on 0.0.0.0" in res.stderr


def test_the_bot_reverts_through_automod_serve_and_records_the_served_model(
        server, sandbox, wiki, bot_factory, unique_title, model_dir, tmp_path):
    admin, writer, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    set_config(admin, {**REVERTING, "model": NAME, "threshold": 0.9})
    writer.edit(unique_title, _article(4))
    good = writer.edit(unique_title, _article(4) + "\nThe bridge was rebuilt in 1998.")
    bot = bot_factory(standin=server)
    bad = anon.edit(unique_title, "lol this town is rubbish")
    line = bot.decision(bad, timeout=60)
    assert line["decision"] == "reverted", line
    assert line["model"] == NAME and line["probability"] > 0.9
    card = json.loads((model_dir / "model_card.json").read_text())
    with Store(tmp_path / "automod.sqlite") as store:
        row = store.decision(sandbox.wiki, bad)
        assert (row.model, row.model_version) == (NAME, card["id"])
    top = admin.revisions(unique_title, limit=1)[0]
    assert top["user"] == sandbox.bot.name and top["parentid"] == bad and top["revid"] > good


# -- Lift Wing's batch form (LW batch_model.py), language-agnostic model only ---------------


def _batch(*rev_ids: int, lang: str = "sandbox") -> dict[str, object]:
    return {"instances": [{"lang": lang, "rev_id": rev_id} for rev_id in rev_ids]}


def test_a_batch_scores_what_it_can_and_lists_page_creations_in_errors(server, sandbox, wiki, unique_title):
    writer = wiki(sandbox.vandals[0])
    created = writer.edit(unique_title, _article(5))
    edited = writer.edit(unique_title, _article(5) + " The ferry stopped in 1960.")
    resp = server.predict(_batch(edited, created))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"predictions", "errors"}
    assert body["predictions"] == [server.predict({"rev_id": edited, "lang": "sandbox"}).json()]  # as if alone
    assert body["errors"] == [f"Could not make prediction for revision {created} (sandbox)."
                              " Reason: parent_revision_missing"]


def test_a_batch_of_page_creations_only_gets_422_naming_each(server, sandbox, wiki, unique_title):
    writer = wiki(sandbox.vandals[0])
    first = writer.edit(unique_title, _article(6))
    second = writer.edit(unique_title + " bis", _article(7))
    resp = server.predict(_batch(first, second))
    assert (resp.status_code, resp.json()) == (422, {"detail": (
        f"Could not make prediction for revision {first} (sandbox). Reason: parent_revision_missing; "
        f"Could not make prediction for revision {second} (sandbox). Reason: parent_revision_missing")})
    # A Lift Wing client (the bot's own) reads each revision's reason from it.
    from automod.scoring.liftwing_batch import failed_codes

    assert failed_codes(resp.json()["detail"]) == {first: "parent_revision_missing", second: "parent_revision_missing"}


@pytest.mark.parametrize(("body", "error"), [
    (_batch(*range(1, 22)), "Only accept a maximum of 20 rev_ids in the request."),
    ({"instances": [{"lang": "sandbox", "rev_id": 1}, {"lang": "en", "rev_id": 2}]},
     "Requesting multiple revisions should have the same language."),
    ({"instances": [{"lang": "sandbox", "rev_id": 1}, {"lang": "sandbox"}]}, "The parameter rev_id is required."),
    (_batch(1, 2, lang="sandboxwiki"), "Language field should not have a 'wiki' suffix, i.e. use 'en', not 'enwiki'"),
], ids=["21 revisions", "two langs", "no rev_id", "wiki suffix"])
def test_batches_lift_wing_refuses_get_its_400(server, body, error):
    resp = server.predict(body)
    assert (resp.status_code, resp.json()) == (400, {"error": error})


def test_the_bots_lift_wing_client_scores_a_batch_in_one_request(server, sandbox, wiki, unique_title):
    writer = wiki(sandbox.vandals[0])
    created = writer.edit(unique_title, _article(8))
    edits = [writer.edit(unique_title, _article(8) + " More." * n) for n in range(1, 4)]
    with LiftWingScorer(server.models_url, NAME, user_agent="automod-tests/0.1 (test@example.org)",
                        session=server.session) as client:
        outcomes = client.score_many(sandbox.wiki, [*edits, created])
        assert client.stats.requests == 1
        with pytest.raises(Unscorable) as alone:
            client.score(sandbox.wiki, created)
    *scores, unscorable = outcomes
    assert all(isinstance(s, Score) and s.model == NAME and s.version.startswith(MODEL + "-") for s in scores)
    assert [s.probability for s in scores] == [server.predict({"rev_id": r, "lang": "sandbox"}).json()["output"][
        "probabilities"]["true"] for r in edits]
    assert isinstance(unscorable, Unscorable) and str(unscorable) == str(alone.value)
