"""Local models without a wiki: training, the model card, loading (fail closed), scoring,
labels and metrics. The wiki is a small in-memory stand-in answering the exact Action API
queries (formatversion 2) that the fetcher sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from automod.errors import WikiError, WikiUnavailable
from automod.scoring import (
    CARD_FILE,
    FEATURE_NAMES,
    MODEL_FILE,
    CorruptModel,
    LocalModel,
    LocalScorer,
    Scorer,
    ScorerUnavailable,
    UnknownModel,
    Unscorable,
    UserInfo,
    local_model_names,
)
from automod.scoring.revision_data import RevisionFetcher
from automod.training import (
    HistoryRevision,
    reverted_by_others,
    train_model,
)
from automod.training.metrics import auc, precision_recall_at, threshold_for_precision
from support.datasets import T0, synthetic_dataset
from support.settings_files import offline_settings, write_settings


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    result = train_model(synthetic_dataset(), "synthetic", tmp_path_factory.mktemp("models"))
    return result.model_dir


def test_training_writes_model_and_card_with_metrics(trained):
    card = json.loads((trained / CARD_FILE).read_text())
    assert (trained / MODEL_FILE).is_file() and (trained / "MODEL_CARD.md").is_file()
    assert not list(trained.glob("*.pkl")) and json.loads((trained / MODEL_FILE).read_text())["learner"]
    assert card["id"].startswith("synthetic-") and card["wiki"] == "testwiki"
    assert card["feature_names"] == list(FEATURE_NAMES) and set(card["feature_importance"]) == set(FEATURE_NAMES)
    data = card["data"]
    assert data["train"]["edits"] == 240 and data["evaluation"]["edits"] == 240  # every edit scored out of fold
    assert card["evaluation"]["auc"] > 0.75  # 5% of labels are flipped on purpose
    roc = card["evaluation"]["roc_auc"]
    assert roc["interval"][0] <= roc["value"] <= roc["interval"][1]
    assert {"pr_auc", "recall_at_0.1pct_fpr", "recall_at_0.5pct_fpr", "recall_at_1pct_fpr"} <= set(card["evaluation"])
    assert [row["threshold"] for row in card["evaluation"]["thresholds"]][0::9] == [0.5, 0.99]
    assert set(card["evaluation"]["threshold_for_precision"]) == {"0.9", "0.95", "0.99"}
    assert card["calibration"]["method"] == "platt" and 0.3 < card["calibration"]["base_rate"] < 0.4
    markdown = (trained / "MODEL_CARD.md").read_text()
    assert card["id"] in markdown and "ROC AUC" in markdown and "reverted by another user within 48 hours" in markdown
    assert "Recall at 1% false positives" in markdown and "Calibration" in markdown


def test_local_model_names_lists_directories_with_a_card(tmp_path, trained):
    assert local_model_names(tmp_path / "missing") == []
    (tmp_path / "empty").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / CARD_FILE).write_text("{}")
    assert local_model_names(tmp_path) == ["b"]
    assert local_model_names(trained.parent) == ["synthetic"]


def _copy(model: Path, tmp_path: Path) -> Path:
    target = tmp_path / model.name
    target.mkdir()
    for f in model.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    return target


def test_missing_model_is_unknown(tmp_path):
    with pytest.raises(UnknownModel, match="no local model"):
        LocalScorer(tmp_path / "nothing", lambda **_: {})


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / MODEL_FILE).write_text((d / MODEL_FILE).read_text()[:500]), "does not match its card"),
    (lambda d: (d / MODEL_FILE).unlink(), "model.json is missing"),
    (lambda d: (d / CARD_FILE).write_text("{not json"), "card .* is unreadable"),
    (lambda d: (d / CARD_FILE).write_text(json.dumps({**json.loads((d / CARD_FILE).read_text()),
                                                      "feature_set": "other"})), "retrain"),
    (lambda d: (d / CARD_FILE).write_text(json.dumps({**json.loads((d / CARD_FILE).read_text()),
                                                      "model_file": "model.pkl"})), "json or .ubj"),
], ids=["truncated", "deleted", "bad-card", "other-features", "pickle"])
def test_corrupt_model_fails_at_construction_with_a_clear_error(trained, tmp_path, damage, message):
    model_dir = _copy(trained, tmp_path)
    damage(model_dir)
    with pytest.raises(CorruptModel, match=message):
        LocalScorer(model_dir, lambda **_: {})


def test_garbage_model_with_matching_hash_is_refused_by_xgboost(trained, tmp_path):
    from automod.scoring import sha256_path as sha256_file

    model_dir = _copy(trained, tmp_path)
    (model_dir / MODEL_FILE).write_text('{"learner": 42}')
    card = json.loads((model_dir / CARD_FILE).read_text())
    (model_dir / CARD_FILE).write_text(json.dumps({**card, "model_sha256": sha256_file(model_dir / MODEL_FILE)}))
    with pytest.raises(CorruptModel, match="xgboost cannot load"):
        LocalModel.load(model_dir)


class FakeWiki:
    """Answers the fetcher's queries from a few canned revisions; counts round trips."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        big = "'''Town''' is a [[place]].<ref>a</ref>\n== History ==\nOld [[things]].\n[[Category:Towns]]\n" * 40
        self.revs = {
            10: {"revid": 10, "parentid": 0, "user": "Ann", "userid": 3, "timestamp": "2024-03-01T00:00:00Z",
                 "size": len(big), "comment": "new", "tags": [], "slots": {"main": {"content": big}}},
            11: {"revid": 11, "parentid": 10, "user": "203.0.113.9", "anon": True, "userid": 0,
                 "timestamp": "2024-03-01T01:00:00Z", "size": 12, "comment": "", "tags": [],
                 "slots": {"main": {"content": "lol rubbish!"}}},
            12: {"revid": 12, "parentid": 10, "user": "Ann", "userid": 3, "timestamp": "2024-03-01T02:00:00Z",
                 "size": len(big) + 40, "comment": "expand", "tags": [],
                 "slots": {"main": {"content": big + "More [[facts]].<ref>b</ref>"}}},
            13: {"revid": 13, "parentid": 12, "user": "Bob", "userid": 4, "timestamp": "2024-03-01T03:00:00Z",
                 "size": 5, "commenthidden": True, "slots": {"main": {"content": "x"}}},
        }

    def __call__(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        if "pageids" in params:
            return {"query": {"pages": [{"pageid": 7,
                                         "revisions": [{"revid": 10, "timestamp": "2024-03-01T00:00:00Z"}]}]}}
        if "titles" in params:  # the editor signals: talk page and recent contributions
            return self.signals(params)
        rev_id = int(params["revids"])
        query: dict[str, Any] = {"pages": [{"pageid": 7, "ns": 0, "title": "Town", "revisions": [self.revs[rev_id]]}]}
        if params.get("meta") == "siteinfo":
            query["namespaces"] = {"14": {"id": 14, "name": "Category", "canonical": "Category"}}
            query["namespacealiases"] = []
        if "users" in params.get("list", ""):
            query["users"] = [{"userid": 3, "name": "Ann", "editcount": 250, "registration": "2023-01-01T00:00:00Z",
                               "groups": ["*", "user", "autoconfirmed"]}]
        if "logevents" in params.get("list", ""):
            query["logevents"] = [{"logid": 1, "pageid": 7, "logpage": 7, "timestamp": "2023-08-15T00:00:00Z"}]
        return {"batchcomplete": True, "query": query}


    def signals(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["titles"].split(":", 1)[1]
        talk = ("== March 2024 ==\n<!-- Template:uw-vandalism1 -->Please stop.\n"
                "{{subst:uw-vandalism2}} Last warning. {{Welcome}}") if name == "203.0.113.9" else "Hi"
        contribs = [{"revid": 11, "timestamp": "2024-03-01T01:00:00Z", "tags": []},
                    {"revid": 9, "timestamp": "2024-03-01T00:55:00Z", "tags": ["mw-reverted"]},
                    {"revid": 8, "timestamp": "2024-02-28T00:00:00Z", "tags": ["mw-reverted"]},
                    {"revid": 7, "timestamp": "2024-02-27T00:00:00Z", "tags": []}]
        return {"query": {"pages": [{"title": params["titles"], "revisions": [{"slots": {"main": {"content": talk}}}]}],
                          "usercontribs": contribs if name == "203.0.113.9" else []}}


def test_fetcher_needs_three_round_trips_and_reads_everything():
    wiki = FakeWiki()
    fetcher = RevisionFetcher(wiki)
    edit = fetcher.fetch(12)
    assert fetcher.round_trips == 3 and wiki.calls[0]["meta"] == "siteinfo"
    assert wiki.calls[1]["list"] == "logevents|users" and wiki.calls[1]["revids"] == 10
    assert edit.user == UserInfo("Ann", False, 250, datetime(2023, 1, 1, tzinfo=UTC),
                                 frozenset({"*", "user", "autoconfirmed"}), warnings=0, recent_reverts=0,
                                 recent_edits=0)
    assert edit.page_created == datetime(2023, 8, 15, tzinfo=UTC)
    assert edit.parent.rev_id == 10 and edit.revision.comment == "expand"
    vandal = fetcher.fetch(11)  # anonymous: no list=users; siteinfo is cached
    assert fetcher.round_trips == 6 and wiki.calls[4]["list"] == "logevents" and "meta" not in wiki.calls[3]
    # Two uw- warnings (one substituted, one not; {{Welcome}} is none); two reverted edits in
    # the 7 days; one other edit in the 10 minutes before; the edit itself is not counted.
    assert (vandal.user.warnings, vandal.user.recent_reverts, vandal.user.recent_edits) == (2, 2, 1)
    assert wiki.calls[5]["ucend"] == "2024-02-23T01:00:00Z" and wiki.calls[5]["ucstart"] == "2024-03-01T01:00:00Z"


@pytest.mark.parametrize("rev_id,code", [(10, "parent_revision_missing"), (13, "revision_info_deleted")])
def test_unscorable_revisions_say_why(rev_id, code):
    with pytest.raises(Unscorable) as info:
        RevisionFetcher(FakeWiki()).fetch(rev_id)
    assert info.value.code == code


def test_local_scorer_scores_with_model_name_and_card_version(trained):
    scorer = LocalScorer(trained, FakeWiki())
    assert isinstance(scorer, Scorer)
    bad, good = scorer.score("testwiki", 11), scorer.score("testwiki", 12)
    card = json.loads((trained / CARD_FILE).read_text())
    assert bad.model == "local:synthetic" and bad.version == card["id"]
    assert bad.probability > 0.8 and good.probability < 0.2
    scorer.close()


@pytest.mark.parametrize("error,expected",
                         [(WikiUnavailable("down"), ScorerUnavailable), (WikiError("nope"), Exception)])
def test_wiki_failures_become_scoring_errors(trained, error, expected):
    from automod.errors import ScoringError

    def failing(**_: Any) -> dict[str, Any]:
        raise error

    with pytest.raises(ScoringError) as info:
        LocalScorer(trained, failing).score("testwiki", 11)
    assert isinstance(info.value, expected)


def _h(rev_id: int, minutes: float, user: str, sha1: str, *tags: str) -> HistoryRevision:
    return HistoryRevision(rev_id, T0 + timedelta(minutes=minutes), user, sha1, frozenset(tags))


def test_identity_revert_by_someone_else_within_48_hours_is_the_label():
    history = [_h(1, 0, "Ann", "a"), _h(2, 1, "1.2.3.4", "b"), _h(3, 2, "1.2.3.4", "c"), _h(4, 3, "Bob", "a"),
               _h(5, 4, "Cy", "d"), _h(6, 5, "Cy", "a"),                 # self-revert: not labelled
               _h(7, 6, "1.2.3.4", "e"), _h(8, 6 + 49 * 60, "Bob", "a")]  # reverted after 49 h: not labelled
    assert reverted_by_others(history) == {2, 3}


def test_mw_reverted_tag_catches_undos_that_restore_no_earlier_text():
    history = [_h(1, 0, "Ann", "a"), _h(2, 1, "1.2.3.4", "b", "mw-reverted"), _h(3, 2, "Ann", "c"),
               _h(4, 3, "Bob", "d", "mw-undo"), _h(5, 4, "Ann", "e", "mw-reverted"), _h(6, 5, "Ann", "f", "mw-undo")]
    assert reverted_by_others(history) == {2}  # 5 was undone by its own author


def test_auc_and_precision_thresholds():
    scores = [0.1, 0.4, 0.35, 0.8, 0.9, 0.95]
    labels = [False, False, True, True, False, True]
    assert auc(scores, labels) == pytest.approx(6 / 9)  # 1 + 2 + 3 of 9 pairs ordered right
    assert auc([0.5, 0.5], [True, False]) == 0.5 and auc([0.3], [True]) is None
    assert precision_recall_at(scores, labels, 0.5) == {"threshold": 0.5, "flagged": 3, "true_positives": 2,
                                                       "precision": 2 / 3, "recall": 2 / 3}
    assert threshold_for_precision(scores, labels, 0.95) == 0.9
    assert threshold_for_precision(scores, labels, 0.6) == 0.1  # 3 of the 5 above 0.1
    assert threshold_for_precision(scores, labels, 0.65) == 0.4  # 2 of the 3 above 0.4
    assert threshold_for_precision([0.2], [False], 0.95) is None


DUMP = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="de">
  <siteinfo>
    <sitename>Testwiki</sitename><dbname>testwiki</dbname><base>http://x/</base>
    <generator>MediaWiki 1.39.17</generator><case>first-letter</case>
    <namespaces>
      <namespace key="-2" case="first-letter">Medium</namespace>
      <namespace key="0" case="first-letter" />
      <namespace key="6" case="first-letter">Datei</namespace>
      <namespace key="14" case="first-letter">Kategorie</namespace>
    </namespaces>
  </siteinfo>
  <page><title>Ort</title><ns>0</ns><id>5</id>{revisions}</page>
</mediawiki>
"""
REVISION = """<revision><id>{id}</id>{parent}<timestamp>2024-03-01T00:0{minute}:00Z</timestamp>
<contributor>{user}</contributor>{comment}<model>wikitext</model><format>text/x-wiki</format>
<text bytes="{size}" xml:space="preserve">{text}</text><sha1>{sha1}</sha1></revision>"""


def write_dump(path: Path) -> Path:
    import bz2
    import gzip

    texts = ["Ein [[Ort]]. [[Kategorie:Orte]]", "Ein [[Ort]] mit [[Datei:Bild.jpg]]. [[Kategorie:Orte]]", "doof",
             "Ein [[Ort]] mit [[Datei:Bild.jpg]]. [[Kategorie:Orte]]", "Ein [[Ort]] mit Fluss."]
    users = ["<username>Ann</username><id>3</id>", "<username>Bob</username><id>4</id>", "<ip>198.51.100.7</ip>",
             "<username>Cy</username><id>5</id>", "<username>Bob</username><id>4</id>"]
    sha1s = ["a1", "b2", "c3", "b2", "d4"]
    revisions = "".join(REVISION.format(id=10 + i, parent=f"<parentid>{9 + i}</parentid>" if i else "", minute=i,
                                        user=users[i], comment="<comment>x</comment>" if i % 2 else "",
                                        size=len(t.encode()), text=t, sha1=sha1s[i])
                        for i, t in enumerate(texts))
    data = DUMP.format(revisions=revisions).encode()
    opener = {".bz2": bz2.open, ".gz": gzip.open}.get(path.suffix, open)
    with opener(path, "wb") as fh:
        fh.write(data)
    return path


@pytest.mark.parametrize("suffix", [".xml", ".xml.bz2", ".xml.gz"])
def test_dump_reader_labels_identity_reverts_and_uses_the_dumps_namespace_names(tmp_path, suffix):
    from automod.training import dataset_from_dump

    dataset = dataset_from_dump(write_dump(tmp_path / f"dump{suffix}"), "testwiki", show_progress=False)
    assert dataset.labels() == {11: False, 12: True, 13: False, 14: False}  # 10 creates the page
    by_id = {r.revision.rev_id: r for r in dataset.records}
    assert (by_id[11].counts.media_count, by_id[11].counts.category_count, by_id[11].counts.wikilink_count) == (1, 1, 1)
    assert by_id[12].anonymous and by_id[12].parent.rev_id == 11
    bob = dataset.user_info(by_id[14])
    assert (bob.edit_count, bob.registration) == (2, by_id[11].revision.timestamp)  # counted from the dump


def test_unreadable_dump_is_an_error_on_the_command_line(tmp_path, capsys):
    from automod import cli

    (tmp_path / "bad.xml").write_text("<mediawiki><page>")
    settings = tmp_path / "settings.yaml"
    write_settings(settings, offline_settings(wiki="testwiki", user_agent="automod-test/0.1 (tests; nobody)"))
    code = cli.main(["train", "--settings", str(settings), "--wiki", "testwiki", "--name", "m", "--quiet",
                     "--from-dump", str(tmp_path / "bad.xml")])
    assert code == 1 and "not a readable MediaWiki XML dump" in capsys.readouterr().err
    code = cli.main(["train", "--settings", str(settings), "--wiki", "testwiki", "--name", "m", "--quiet",
                     "--from-dump", str(write_dump(tmp_path / "small.xml"))])
    assert code == 1 and "only 4 labelled edits" in capsys.readouterr().err
