"""The local multilingual model: edit texts on real edits, training, round trip, int8, errors.

Every encoder here is a tiny BERT built in the test (2 layers, hidden 32) with a WordPiece
tokenizer trained on the test corpus: nothing is downloaded.
"""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from automod.scoring.multilingual import EditMeta, extract_edit_texts
from automod.scoring.multilingual.edit_texts import (
    ACTION_FEATURES,
    METADATA_FEATURES,
    diff_lines,
    metadata_features,
    split_sentences,
)
from support.multilingual_helpers import BAD, BASE, GOOD
from support.multilingual_helpers import history as _history
from support.multilingual_helpers import make_encoder as _make_encoder
from support.multilingual_helpers import random_sentence as _sentence

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("xgboost")

FIXTURES = Path(__file__).resolve().parents[1] / "data/fixtures/edits"
PAN = FIXTURES / "panwvc10_mini/test/revisions"

# torch.ao.quantization and transformers' BERT emit deprecation notices we cannot act on.
pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning:transformers.*"),
]


def _pan(old: str, new: str) -> tuple[str, str]:
    return ((PAN / old).read_text(encoding="utf-8"), (PAN / new).read_text(encoding="utf-8"))


def _cluebot(name: str) -> tuple[str, str, str]:
    edit = next(ET.parse(FIXTURES / "cluebot" / name).getroot().iter("WPEdit"))
    return (edit.findtext("previous/text") or "", edit.findtext("current/text") or "",
            edit.findtext("common/title") or "")


# --- edit texts on real edits -------------------------------------------------------------

def test_inserted_vandal_sentence_is_the_only_fragment_chinatown_328774110() -> None:
    old, new = _pan("part-1/328774035.txt", "part-2/328774110.txt")
    texts = extract_edit_texts(old, new, "Chinatown,_Manhattan")
    assert texts.title == "Chinatown, Manhattan"
    assert texts.inserted == ("okku is an ass hole",)
    assert texts.removed == () and texts.changed == ()
    assert texts.actions["insert_Word"] == 5 and texts.actions["insert_Sentence"] == 1
    assert texts.actions["change_Section"] == 1


def test_comma_space_edit_is_a_changed_sentence_pair_telephone_326978767() -> None:
    old, new = _pan("part-1/326471754.txt", "part-2/326978767.txt")
    texts = extract_edit_texts(old, new, "Invention of the telephone")
    assert texts.inserted == () and texts.removed == ()
    assert texts.changed == (("Comprising two diaphragms connected by a taut string or wire, sound waves are carried "
                              "as vibrations along the string or wire from one diaphragm to the other",
                              "Comprising two diaphragms connected by a taut string or wire,sound waves are carried "
                              "as vibrations along the string or wire from one diaphragm to the other"),)
    assert texts.actions["remove_Whitespace"] == 1


def test_link_only_edit_has_no_text_but_counts_the_wikilink_soundstage_326873205() -> None:
    old, new = _pan("part-2/307084144.txt", "part-1/326873205.txt")
    texts = extract_edit_texts(old, new, "The Soundstage Sessions")
    assert (texts.inserted, texts.removed, texts.changed) == ((), (), ())
    assert dict(texts.actions) == {"insert_Wikilink": 1, "change_Section": 1}


def test_category_rename_counts_one_category_change_cluebot_327799203() -> None:
    texts = extract_edit_texts(*_cluebot("core_good_edit.xml"))
    assert (texts.inserted, texts.removed, texts.changed) == ((), (), ())
    assert dict(texts.actions) == {"change_Category": 1, "change_Section": 1}
    assert texts.action_vector()[ACTION_FEATURES.index("change_Category")] == 1.0


def test_section_blanking_with_shouted_heading_cluebot_326777166() -> None:
    texts = extract_edit_texts(*_cluebot("core_bad_edit.xml"))
    assert texts.inserted == ("== GABE ALON HAS A HUGE HEAD",)  # the lone "==" fragment is dropped
    assert len(texts.removed) == 10 and texts.removed[0] == "==Anatomy generally=="
    assert texts.actions["remove_Reference"] == 2 and texts.actions["insert_Word"] == 6


def test_sentences_split_after_punctuation_keeping_the_last_mark() -> None:
    assert split_sentences("One. Two! Three?") == ["One", "Two", "Three?"]
    assert split_sentences("  ") == []


def test_dissimilar_sentences_are_not_paired() -> None:
    inserted, removed, changed = diff_lines("Paris is the capital of France.\nKeep.",
                                            "Paris is the capitol of France.\nKeep.\npoop poop poop")
    assert changed == [("Paris is the capital of France.", "Paris is the capitol of France.")]
    assert inserted == ["poop poop poop"] and removed == []


def test_metadata_features_for_an_ip_on_mobile() -> None:
    meta = EditMeta(bytes_diff=-120, anonymous=True, groups=frozenset({"sysop"}), tags=frozenset({"mobile edit"}))
    features = metadata_features(meta)
    assert tuple(features) == METADATA_FEATURES
    assert features["revision_text_bytes_diff"] == -120.0 and features["user_is_anonymous"] == 1.0
    assert features["is_mobile_edit"] == 1.0 and features["is_visualeditor"] == 0.0
    assert features["is_sysop"] == 0.0  # groups of anonymous editors are ignored


# --- a tiny encoder and a synthetic labelled history ---------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from automod.training import TrainConfig, train_multilingual

    root = tmp_path_factory.mktemp("multilingual")
    base = _make_encoder(root / "tiny-bert")
    config = TrainConfig(epochs=6, batch_size=16, encoder_lr=2e-3, head_lr=5e-3, booster_rounds=60,
                         title_min_revisions=3)
    return train_multilingual(base, _history(50, 6, seed=1), root / "models" / "tiny", config=config)


@pytest.fixture(scope="module")
def held_out() -> list[Any]:
    return _history(10, 6, seed=2)


def _predict(model: Any, edits: list[Any], quantize: str = "off") -> list[float]:
    from automod.scoring.multilingual import InferenceConfig, Predictor

    return Predictor(model, InferenceConfig(quantize=quantize)).predict([(e.texts, e.meta) for e in edits])


def test_training_separates_vandal_from_constructive_held_out_edits(trained: Any, held_out: list[Any]) -> None:
    from automod.training.metrics import auc

    scores = _predict(trained.model, held_out)
    assert auc(scores, [e.label for e in held_out]) > 0.9
    card = json.loads((trained.model_dir / "model_card.json").read_text())
    assert card["kind"] == "multilingual" and card["evaluation"]["auc_held_out"] > 0.8
    assert (trained.model_dir / "MODEL_CARD.md").read_text().startswith("# Model card: tiny")
    assert not (trained.model_dir.parent / ".tiny.checkpoint.pt").exists()


def test_saved_model_loads_back_with_identical_probabilities(trained: Any, held_out: list[Any]) -> None:
    from automod.scoring.multilingual import MultilingualModel

    loaded = MultilingualModel.load(trained.model_dir, runtime="torch")
    assert loaded.runtime == "torch"
    assert _predict(loaded, held_out) == _predict(trained.model, held_out)


def test_onnx_int8_encoder_is_served_where_training_measured_it_within_0_01(trained: Any, held_out: list[Any]) -> None:
    from automod.scoring.multilingual import MultilingualModel
    from automod.training.metrics import auc

    onnx = trained.card["onnx"]
    assert onnx["file"] == "encoder.int8.onnx" and onnx["measured_on"] > 0
    assert (trained.model_dir / onnx["file"]).stat().st_size > 0 and onnx["file"] in trained.card["sha256"]
    served = MultilingualModel.load(trained.model_dir)
    assert served.runtime == ("onnxruntime-int8" if onnx["max_abs_diff"] <= 0.01 else "torch")
    if served.runtime == "onnxruntime-int8":
        # The booster is a step function: the card's maximum holds for the edits it was
        # measured on; on other edits a borderline one may jump, the rest agree.
        fp32, int8 = _predict(trained.model, held_out), _predict(served, held_out)
        close = sum(abs(a - b) <= 0.01 for a, b in zip(fp32, int8))
        assert close >= 0.9 * len(held_out)
        assert auc(int8, [e.label for e in held_out]) > 0.9


def test_int8_is_served_only_where_it_was_measured_within_0_01_of_fp32(trained: Any, held_out: list[Any]) -> None:
    """The booster is a step function: on a tiny model one borderline edit can jump under
    int8, so training measures it and the served ("auto") path follows that measurement."""
    from automod.scoring.multilingual import Predictor

    measured = trained.card["quantization"]
    assert measured["measured_on"] > 0
    served = Predictor(trained.model)
    assert served.quantized == (measured["max_abs_diff"] <= 0.01)  # "auto" follows the card
    fp32, auto = _predict(trained.model, held_out), _predict(trained.model, held_out, quantize="auto")
    if served.quantized:  # the card's maximum holds where measured; elsewhere a borderline edit may jump
        assert sum(abs(a - b) <= 0.01 for a, b in zip(fp32, auto)) >= 0.9 * len(held_out)
    else:
        assert auto == fp32


def test_micro_batch_scores_equal_one_at_a_time(trained: Any, held_out: list[Any]) -> None:
    together = _predict(trained.model, held_out[:8])
    alone = [_predict(trained.model, [e])[0] for e in held_out[:8]]
    assert max(abs(a - b) for a, b in zip(together, alone)) < 1e-5


def test_training_resumes_after_the_last_finished_epoch(trained: Any, tmp_path: Path) -> None:
    from automod.scoring.multilingual import RevertRiskHeads, load_encoder
    from automod.training import TrainConfig
    from automod.training.multilingual_fit import train_heads

    base = Path(trained.card["base"])
    edits = _history(4, 3, seed=3)
    config = TrainConfig(epochs=1, batch_size=8)
    tokenizer, encoder = load_encoder(base)
    net = RevertRiskHeads(encoder)
    checkpoint = tmp_path / "ckpt.pt"
    train_heads(net, tokenizer, edits, config, checkpoint, "fp")
    after_one = {k: v.clone() for k, v in net.state_dict().items()}
    fresh = RevertRiskHeads(load_encoder(base)[1])
    train_heads(fresh, tokenizer, edits, config, checkpoint, "fp")  # epoch 0 done: loads, trains nothing
    assert all(torch.equal(after_one[k], v) for k, v in fresh.state_dict().items())


# --- the scorer and its failures -----------------------------------------------------------

def _fake_wiki(parent: str, current: str, *, parent_id: int = 10, parent_hidden: bool = False) -> Any:
    """Answers the two round trips of RevisionFetcher as MediaWiki does (formatversion 2)."""
    def query(**params: Any) -> dict[str, Any]:
        if "revids" not in params:  # the editor's talk page and contributions: none
            return {"query": {"pages": [{"title": "User talk:192.0.2.7", "missing": True}], "usercontribs": []}}
        if params["revids"] == 11:
            rev = {"revid": 11, "parentid": parent_id, "timestamp": "2024-01-01T00:00:00Z", "size": len(current),
                   "user": "192.0.2.7", "anon": True, "userid": 0, "tags": ["mobile edit"], "comment": "",
                   "slots": {"main": {"content": current}}}
            return {"query": {"pages": [{"pageid": 5, "title": "Place X", "revisions": [rev]}]}}
        main = {"texthidden": True} if parent_hidden else {"content": parent}
        rev = {"revid": 10, "timestamp": "2023-12-31T00:00:00Z", "size": len(parent), "slots": {"main": main}}
        created = {"logpage": 5, "timestamp": "2023-01-01T00:00:00Z"}
        return {"query": {"pages": [{"pageid": 5, "title": "Place X", "revisions": [rev]}], "logevents": [created]}}
    return query


def test_scorer_scores_a_vandal_edit_above_a_constructive_one(trained: Any) -> None:
    from automod.scoring import Scorer
    from automod.scoring.multilingual import MultilingualScorer

    parent = BASE.format(title="Place X")
    rng = random.Random(7)
    bad, good = (f"{parent}\n{_sentence(rng, words)}\n" for words in (BAD, GOOD))
    bad_scorer = MultilingualScorer(trained.model_dir, _fake_wiki(parent, bad))
    assert isinstance(bad_scorer, Scorer)
    bad_score = bad_scorer.score("enwiki", 11)
    good_score = MultilingualScorer(trained.model_dir, _fake_wiki(parent, good)).score("enwiki", 11)
    assert bad_score.model == "local:tiny" and bad_score.version == trained.card["id"]
    assert bad_score.probability > good_score.probability


@pytest.mark.parametrize("case", ["page creation", "hidden parent text"])
def test_page_creation_and_hidden_parent_are_unscorable(trained: Any, case: str) -> None:
    from automod.scoring import Unscorable
    from automod.scoring.multilingual import MultilingualScorer

    wiki = (_fake_wiki("", "new page", parent_id=0) if case == "page creation"
            else _fake_wiki("secret", "new text", parent_hidden=True))
    with pytest.raises(Unscorable) as info:
        MultilingualScorer(trained.model_dir, wiki).score("enwiki", 11)
    assert info.value.code == "parent_revision_missing"


def test_missing_model_dir_is_an_unknown_model(tmp_path: Path) -> None:
    from automod.scoring import UnknownModel
    from automod.scoring.multilingual import MultilingualScorer

    with pytest.raises(UnknownModel, match="missing model_card.json"):
        MultilingualScorer(tmp_path / "nope", _fake_wiki("", ""))


@pytest.mark.parametrize("damage", ["heads", "card", "kind", "booster", "onnx"])
def test_damaged_model_dir_is_a_corrupt_model(trained: Any, tmp_path: Path, damage: str) -> None:
    import shutil

    from automod.scoring.multilingual.model import (  # one class for both kinds
        CorruptModel,
        MultilingualModel,
    )

    copy = tmp_path / "tiny"
    shutil.copytree(trained.model_dir, copy)
    card_path = copy / "model_card.json"
    if damage == "heads":
        (copy / "heads.pt").write_bytes(b"not a tensor file")
        match = "does not match its card"
    elif damage == "card":
        card_path.write_text("{not json")
        match = "unreadable"
    elif damage == "kind":
        card_path.write_text(json.dumps({**json.loads(card_path.read_text()), "kind": "language-agnostic"}))
        match = "kind is 'language-agnostic'"
    elif damage == "booster":
        (copy / "booster.ubj").unlink()
        match = "booster.ubj is missing"
    else:
        with (copy / "encoder.int8.onnx").open("ab") as fh:
            fh.write(b"\0")
        match = "encoder.int8.onnx does not match its card"
    with pytest.raises(CorruptModel, match=match):
        MultilingualModel.load(copy)


def test_an_encoder_that_will_not_export_to_onnx_still_gives_a_model_served_with_torch(
        trained: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automod.scoring.multilingual import MultilingualModel, onnx_encoder
    from automod.training import TrainConfig, train_multilingual

    def unsupported(net: Any, out: Path) -> Path:
        out.write_bytes(b"half a graph")
        raise RuntimeError("operator not supported by the exporter")

    monkeypatch.setattr(onnx_encoder, "export_int8", unsupported)
    config = TrainConfig(epochs=1, batch_size=16, booster_rounds=10, title_min_revisions=3)
    result = train_multilingual(Path(trained.card["base"]), _history(20, 4, seed=5), tmp_path / "m", config=config)
    assert result.card["onnx"]["skipped"].startswith("export failed: RuntimeError")
    assert not (result.model_dir / "encoder.int8.onnx").exists()
    assert MultilingualModel.load(result.model_dir).runtime == "torch"


def test_prefetched_revisions_are_scored_once_in_a_batch_and_answered_from_memory(trained: Any) -> None:
    from automod.scoring.multilingual import MultilingualScorer

    parent = BASE.format(title="Place X")
    rng = random.Random(11)
    current = f"{parent}\n{_sentence(rng, BAD)}\n"
    scorer = MultilingualScorer(trained.model_dir, _fake_wiki(parent, current))
    alone = MultilingualScorer(trained.model_dir, _fake_wiki(parent, current)).score("enwiki", 11)
    assert scorer.prefetch("enwiki", [11, 12345]) == 1  # 12345 cannot be read: left for score() to report
    trips = scorer.fetcher.round_trips
    assert abs(scorer.score("enwiki", 11).probability - alone.probability) < 1e-6
    assert scorer.fetcher.round_trips == trips  # answered from memory
    scorer.score("enwiki", 11)
    assert scorer.fetcher.round_trips > trips  # used once: asked again, fetched again
