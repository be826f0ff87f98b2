"""Training a local model from the sandbox wiki's own history, and serving it.

A scripted history (tests/training_helpers.py) is written once for the module; the
recent-changes window also holds other tests' edits, so assertions about labels are made on
this module's own revisions.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from automod.scoring import CARD_FILE, MODEL_FILE, LocalScorer
from automod.store import Store
from automod.training import dataset_from_api, dataset_from_dump
from support.moderation_helpers import (
    REVERTING,
    Bot,
    bot_settings,
    launch_bot,
    set_config,
    start_at_stream_end,
    top_revision,
)
from support.multilingual_helpers import make_tiny_encoder
from support.settings_files import write_settings
from support.training_helpers import (
    article,
    constructive,
    dump_wiki,
    query_function,
    script_history,
    vandalism,
)
from support.wiki import run_jobs

pytestmark = pytest.mark.sandbox

PAGES = 12
MODEL = "sandbox-rr"


@pytest.fixture(scope="module")
def history(sandbox, wiki):
    # Fixed titles (one sandbox per test run): a title is one of the multilingual model's
    # inputs and decides the held-out split, so a random one made the model vary run to run.
    scripted = script_history(sandbox, wiki, "Automod training history", pages=PAGES)
    run_jobs(sandbox)  # MediaWiki tags reverted edits (mw-reverted) in a deferred job
    return scripted


def automod(*args: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "automod", *args], capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def api_model(sandbox, history, tmp_path_factory) -> Path:
    """`automod train --from-api` on the sandbox, as an operator would run it."""
    models = tmp_path_factory.mktemp("models")
    automod("train", "--settings", str(sandbox.settings), "--wiki", sandbox.wiki, "--name", MODEL,
            "--from-api", "--days", f"{history.days():.8f}", "--models-dir", str(models), "--quiet")
    return models / MODEL


def test_api_labels_mark_exactly_the_scripted_vandalism(sandbox, history):
    dataset = dataset_from_api(query_function(sandbox.api_url), sandbox.wiki, days=history.days(), show_progress=False)
    labels = dataset.labels()
    assert {rev: labels.get(rev) for rev in history.labels} == history.labels
    assert sum(history.labels.values()) == PAGES * 3 and len(history.labels) > 8 * PAGES


def test_trained_model_separates_held_out_edits(api_model, history):
    card = json.loads((api_model / CARD_FILE).read_text())
    assert card["evaluation"]["auc"] > 0.9, card["evaluation"]
    assert card["data"]["evaluation"]["reverted"] > 5 and card["data"]["evaluation"]["not_reverted"] > 5
    assert "grouped by page" in card["evaluation"]["method"]  # out-of-fold: no page in both parts
    assert card["wiki"] == "sandboxwiki" and "api" in card["data"]["source"]
    assert (api_model / MODEL_FILE).is_file() and (api_model / "MODEL_CARD.md").is_file()


def test_dump_gives_the_same_labels_as_the_api(sandbox, history, tmp_path):
    dump = dump_wiki(sandbox, tmp_path / "sandbox-history.xml")
    from_dump = dataset_from_dump(dump, sandbox.wiki, show_progress=False).labels()
    from_api = dataset_from_api(query_function(sandbox.api_url), sandbox.wiki, days=history.days(),
                                show_progress=False).labels()
    mine = sorted(history.labels)
    # Only this module's edits: other tests' histories hold undos that only the API's tags reveal.
    assert [from_dump.get(r) for r in mine] == [from_api.get(r) for r in mine] == [history.labels[r] for r in mine]

    summary = automod("train", "--settings", str(sandbox.settings), "--wiki", sandbox.wiki, "--name", "from-dump",
                      "--from-dump", str(dump), "--days", f"{history.days():.8f}",
                      "--models-dir", str(tmp_path / "models"), "--quiet")
    assert summary["auc"] > 0.8 and summary["model"] == "local:from-dump"


# --- the multilingual model, trained on the same history ---------------------------------

ML_MODEL = "sandbox-ml"
#: Pages the multilingual model never saw, fixed for the reason the history's titles are.
HELD_OUT_PAGE, LIVE_PAGE = "Automod multilingual held-out page", "Automod multilingual live page"


@pytest.fixture(scope="module")
def multilingual_model(sandbox, history, tmp_path_factory) -> Path:
    """`automod train --kind multilingual --from-api` on a tiny encoder built from the sandbox's words.

    Its tests come before the ones that edit the wiki, so the window holds the scripted
    history only (every title with both labels: the held-out part has an AUC)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("multilingual")
    page = article("Town", 1)
    corpus = [article(f"Town{p}", p) for p in range(4)] + [constructive(page, 1, s) for s in range(8)]
    corpus += [vandalism(page, kind, kind) for kind in range(3)] + history.titles
    base = make_tiny_encoder(root / "tiny-bert", corpus * 2, vocab_size=600)
    summary = automod("train", "--kind", "multilingual", "--base", str(base), "--settings", str(sandbox.settings),
                      "--wiki", sandbox.wiki, "--name", ML_MODEL, "--from-api", "--days", f"{history.days():.8f}",
                      "--models-dir", str(root / "models"), "--epochs", "4", "--encoder-lr", "2e-3",
                      "--head-lr", "5e-3", "--quiet")
    assert summary["model"] == f"local:{ML_MODEL}" and summary["kind"] == "multilingual"
    return Path(summary["model_dir"])


def test_multilingual_training_separates_vandal_from_constructive_edits(sandbox, wiki, history, multilingual_model):
    from automod.scoring.multilingual import MultilingualScorer

    card = json.loads((multilingual_model / CARD_FILE).read_text())
    assert card["kind"] == "multilingual" and card["wiki"] == sandbox.wiki and "api" in card["data"]["source"]
    assert card["data"]["edits"] >= len(history.labels) and card["data"]["reverted"] >= PAGES * 3
    assert card["data"]["held_out"] > 0 and card["evaluation"]["auc_held_out"] > 0.8, card["evaluation"]
    # New edits on a page the model never saw: each kind of scripted vandalism, undone in between.
    writer, anon = wiki(sandbox.vandals[0]), wiki()
    text = article("Newville", 55)
    writer.edit(HELD_OUT_PAGE, text)
    text = constructive(text, 55, 2)
    good = writer.edit(HELD_OUT_PAGE, text)
    bad = []
    for kind in range(3):
        bad.append(anon.edit(HELD_OUT_PAGE, vandalism(text, kind, 555)))
        writer.edit(HELD_OUT_PAGE, text)
    scorer = MultilingualScorer(multilingual_model, query_function(sandbox.api_url))
    p_good, *p_bad = (s.probability for s in scorer.score_many(sandbox.wiki, [good, *bad]))
    assert min(p_bad) > 0.5 > p_good, (p_bad, p_good)


def test_automod_run_with_multilingual_model_reverts_a_new_bad_edit(sandbox, wiki, multilingual_model,
                                                                     local_bot, tmp_path):
    admin, writer, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    set_config(admin, {**REVERTING, "model": f"local:{ML_MODEL}", "threshold": 0.85})
    text = article("Multitown", 66)
    writer.edit(LIVE_PAGE, text)
    text = constructive(text, 66, 4)
    good = writer.edit(LIVE_PAGE, text)
    bot = local_bot(multilingual_model.parent)
    bad = anon.edit(LIVE_PAGE, vandalism(text, 2, 66))  # link spam
    line = bot.decision(bad, timeout=60)
    card = json.loads((multilingual_model / CARD_FILE).read_text())
    assert line["decision"] == "reverted", line
    assert line["model"] == f"local:{ML_MODEL}" and line["probability"] > 0.85
    onnx_served = "encoder on onnxruntime-int8" in bot.log.read_text()
    assert onnx_served == (card["onnx"]["max_abs_diff"] <= 0.01)  # the int8 ONNX encoder where measured good
    with Store(tmp_path / "automod.sqlite") as store:
        assert store.decision(sandbox.wiki, bad).model_version == card["id"]
    top = top_revision(admin, LIVE_PAGE)
    assert top["user"] == sandbox.bot.name and "mw-rollback" in top["tags"] and top["parentid"] == bad
    assert top["slots"]["main"]["content"] == text.rstrip() and good < bad


def test_edits_waiting_in_the_queue_are_scored_in_one_batch_and_all_reverted(sandbox, wiki, multilingual_model,
                                                                             local_bot, tmp_path):
    """Edits made while the bot was away arrive together on restart: their texts go
    through the encoder as one micro-batch, and each is still decided on its own."""
    admin, writer, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    set_config(admin, {**REVERTING, "model": f"local:{ML_MODEL}", "threshold": 0.85})
    titles = [f"Automod multilingual batch {n}" for n in range(4)]
    texts = {t: constructive(article(f"Batchtown{n}", n), n, 4) for n, t in enumerate(titles)}
    for title, text in texts.items():
        writer.edit(title, text)
    start_at_stream_end(sandbox, tmp_path)
    bad = [anon.edit(title, vandalism(text, 2, 70 + n)) for n, (title, text) in enumerate(texts.items())]
    bot = local_bot(multilingual_model.parent, fresh_position=False)
    lines = [bot.decision(rev, timeout=60) for rev in bad]
    assert [line["decision"] for line in lines] == ["reverted"] * 4, lines
    batches = [int(n) for n in re.findall(r"local:sandbox-ml scored (\d+) queued revisions in one batch",
                                          bot.log.read_text())]
    assert batches and max(batches) >= 2, bot.log.read_text()[-2000:]


def test_local_scorer_rates_new_vandalism_above_new_good_edits(sandbox, wiki, api_model, unique_title):
    writer, anon = wiki(sandbox.vandals[0]), wiki()
    text = article("Newtown", 77)
    writer.edit(unique_title, text)
    text = constructive(text, 77, 1)
    good = writer.edit(unique_title, text)
    bad = anon.edit(unique_title, "lol rubbish page")
    scorer = LocalScorer(api_model, query_function(sandbox.api_url))
    p_good, p_bad = scorer.score(sandbox.wiki, good).probability, scorer.score(sandbox.wiki, bad).probability
    assert p_bad > 0.85 and p_good < 0.5
    assert scorer.fetcher.round_trips <= 6  # three per revision (the third: editor signals)


@pytest.fixture
def local_bot(sandbox, wiki, tmp_path):
    """`automod run` serving models from a given directory; the config page reset afterwards."""
    started: list[Bot] = []

    def start(models_dir: Path, *, fresh_position: bool = True) -> Bot:
        settings = bot_settings(sandbox, tmp_path, "http://127.0.0.1:1/")
        data = yaml.safe_load(settings.read_text())
        data["models_dir"] = str(models_dir)
        write_settings(settings, data)
        bot = launch_bot(sandbox, tmp_path, settings, fresh_position=fresh_position)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()
    set_config(wiki(sandbox.admin), {"enabled": False})


def test_automod_run_with_local_model_reverts_a_new_bad_edit(sandbox, wiki, api_model, unique_title, local_bot,
                                                              tmp_path):
    """The acceptance test: `automod run` with `model: "local:<name>"` (served_wiki wires it)."""
    admin, writer, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    set_config(admin, {**REVERTING, "model": f"local:{MODEL}", "threshold": 0.85})
    text = article("Oldtown", 88)
    writer.edit(unique_title, text)
    text = constructive(text, 88, 3)
    good = writer.edit(unique_title, text)
    bot = local_bot(api_model.parent)
    bad = anon.edit(unique_title, "this town sucks lol")
    line = bot.decision(bad, timeout=30)
    card = json.loads((api_model / CARD_FILE).read_text())
    assert line["decision"] == "reverted", line
    assert line["model"] == f"local:{MODEL}" and line["probability"] > 0.85
    with Store(tmp_path / "automod.sqlite") as store:
        assert store.decision(sandbox.wiki, bad).model_version == card["id"]  # the card id is the version
    top = top_revision(admin, unique_title)
    assert top["user"] == sandbox.bot.name and "mw-rollback" in top["tags"] and top["parentid"] == bad
    assert top["slots"]["main"]["content"] == text.rstrip() and good < bad  # MediaWiki trims the end


def test_corrupt_local_model_disables_scoring_without_a_crash(sandbox, wiki, api_model, unique_title, local_bot,
                                                               tmp_path):
    broken = tmp_path / "models" / "broken"
    broken.mkdir(parents=True)
    for f in api_model.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / MODEL_FILE).write_text((api_model / MODEL_FILE).read_text()[:300])  # truncated
    admin, writer, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    set_config(admin, {**REVERTING, "model": "local:broken", "threshold": 0.85})
    writer.edit(unique_title, article("Brokentown", 99))
    bot = local_bot(broken.parent)
    bad = anon.edit(unique_title, "lol")
    line = bot.decision(bad, timeout=30)
    assert line["decision"] in ("disabled", "error"), line
    assert "does not match its card" in line["reason"]
    assert top_revision(admin, unique_title)["revid"] == bad  # nothing reverted
    assert bot.proc.poll() is None  # still running


def test_live_bot_serves_a_model_trained_from_a_labelled_edits_file(sandbox, wiki, unique_title, local_bot,
                                                                     tmp_path_factory):
    """`train --from-csv` (real PAN-WVC-10 edits, diff-only) → `model: "local:<name>"` on a live wiki: the bot
    computes the same features from full texts and the editor's signals, and scores the insult above the fix."""
    models = tmp_path_factory.mktemp("csv-models")
    slice_csv = Path(__file__).resolve().parents[1] / "data/labelled-edits/pan_wvc10_slice.csv"
    automod("train", "--kind", "language-agnostic", "--name", "pan-slice", "--from-csv", str(slice_csv),
            "--models-dir", str(models))
    admin, writer, anon = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki()
    set_config(admin, {**REVERTING, "model": "local:pan-slice", "threshold": 0.999})
    text = article("Eastbrook", 41)
    writer.edit(unique_title, text)
    bot = local_bot(models)
    good = writer.edit(unique_title, constructive(text, 41, 2))
    good_line = bot.decision(good, timeout=30)
    bad = anon.edit(unique_title, "EASTBROOK IS STUPID AND BORING lol lol")
    bad_line = bot.decision(bad, timeout=30)
    assert good_line["model"] == bad_line["model"] == "local:pan-slice"
    assert bad_line["probability"] > good_line["probability"], (good_line, bad_line)
