"""Labelled edits from a file (`train --from-csv`, `score --input`) and the content features.

Data: tests/data/labelled-edits/pan_wvc10_slice.csv, 300 real PAN-WVC-10 edits (CC BY 4.0;
Wikipedia text CC BY-SA; see the README there).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from automod import cli
from automod.scoring import content_features, edit_diff, word_lists
from automod.scoring.features import BASE_FEATURE_NAMES
from automod.training.from_csv import csv_features, read_labelled_edits
from automod.training.metrics import auc

SLICE = Path(__file__).resolve().parents[1] / "data/labelled-edits/pan_wvc10_slice.csv"
FIXTURE = (Path(__file__).resolve().parents[1]
           / "data/fixtures/edits/panwvc10_mini/training/revisions/part-1/326471754.txt")


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def slice_rows() -> list[dict[str, str]]:
    with SLICE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def csv_model(slice_rows, tmp_path_factory) -> tuple[Path, dict]:
    """A model trained with the command, on the first 220 rows (pages of the rest unseen or not)."""
    work = tmp_path_factory.mktemp("csv-model")
    train = _write(work / "train.csv", slice_rows[:220])
    code = cli.main(["train", "--kind", "language-agnostic", "--name", "pan", "--from-csv", str(train),
                     "--models-dir", str(work / "models")])
    assert code == 0
    return work / "models", json.loads((work / "models/pan/model_card.json").read_text())


def test_train_from_csv_writes_a_card_with_cross_validated_figures(csv_model):
    _models, card = csv_model
    ev = card["evaluation"]
    assert card["data"]["train"]["edits"] == 220 and ev["roc_auc"]["value"] > 0.75
    assert {"recall_at_0.1pct_fpr", "recall_at_0.5pct_fpr", "recall_at_1pct_fpr", "pr_auc"} <= set(ev)
    recommended = ev["recommended"]
    assert recommended["threshold"] is None or 0.85 <= recommended["threshold"] <= 0.999
    assert "base rate" in card["calibration"]["meaning"] or "rate of" in card["calibration"]["meaning"]


def test_score_input_scores_every_row_offline_and_ranks_held_out_vandalism_higher(csv_model, slice_rows, tmp_path):
    models, _card = csv_model
    held_out = slice_rows[220:]
    unlabelled = [{**r, "label": ""} for r in held_out]  # scoring needs no label
    out = tmp_path / "scores.csv"
    code = cli.main(["score", "--model", "local:pan", "--models-dir", str(models),
                     "--input", str(_write(tmp_path / "in.csv", unlabelled)), "--output", str(out)])
    assert code == 0
    with out.open(encoding="utf-8") as fh:
        scored = list(csv.DictReader(fh))
    assert [s["rev_id"] for s in scored] == [r["rev_id"] for r in held_out]
    probabilities = [float(s["probability"]) for s in scored]
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert auc(probabilities, [r["label"] == "1" for r in held_out]) > 0.75


def test_a_malformed_row_names_its_line_and_column_and_writes_nothing(slice_rows, csv_model, tmp_path, capsys):
    models, _card = csv_model
    rows = [dict(r) for r in slice_rows[:5]]
    rows[3]["user_is_anon"] = "yes"
    bad = _write(tmp_path / "bad.csv", rows)
    out = tmp_path / "scores.csv"
    code = cli.main(["score", "--model", "local:pan", "--models-dir", str(models), "--input", str(bad),
                     "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "line 5" in err and "'user_is_anon'" in err and "0 or 1" in err
    assert not out.exists()
    rows[3]["user_is_anon"], rows[2]["label"] = "1", "maybe"
    code = cli.main(["train", "--name", "x", "--from-csv", str(_write(tmp_path / "bad2.csv", rows)),
                     "--models-dir", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 1 and "line 4" in err and "'label'" in err and not (tmp_path / "m/x").exists()


def test_missing_values_are_missing_to_the_model_not_zero(tmp_path):
    path = _write(tmp_path / "two.csv", [
        {"rev_id": "1", "wiki": "enwiki", "title": "A", "timestamp": "2009-11-20T14:54:11Z", "user": "1.2.3.4",
         "user_is_anon": "1", "user_warnings": "", "old_text": "The town has a river.",
         "new_text": "The town has a river. JOHN IS STUPID lol", "text_kind": "diff", "label": "1"},
        {"rev_id": "2", "wiki": "enwiki", "title": "B", "timestamp": "2009-11-20T14:54:11Z", "user": "Ann",
         "user_is_anon": "0", "user_edit_count": "12", "user_warnings": "2", "old_text": "A [[b]].",
         "new_text": "A [[b]] and [[c]].", "text_kind": "full", "label": "0"}])
    diff_row, full_row = (csv_features(e) for e in read_labelled_edits(path, require_label=True))
    assert math.isnan(diff_row["user_warnings"]) and full_row["user_warnings"] == 2.0
    assert all(math.isnan(diff_row[n]) for n in ("text_length", "revision_text_bytes", "change_position",
                                                 "page_seconds_since_previous_revision"))
    assert full_row["wikilink_count"] == 2.0 and full_row["parent_wikilink_count"] == 1.0
    assert math.isnan(full_row["user_age"]) and full_row["user_revision_count"] == 12.0  # no registration given
    assert diff_row["user_is_anonymous"] == 1.0 and diff_row["user_age"] == -1.0
    assert diff_row["inserted_words"] == 4 and diff_row["inserted_laughter"] == 1
    assert diff_row["inserted_profanity"] == 1  # "stupid" is on the list
    assert set(BASE_FEATURE_NAMES) <= set(diff_row)


def test_content_features_see_shouting_mashing_and_insults_that_the_counts_cannot():
    lists = word_lists("en")
    page = "Riverford is a village on the River Ford. It has a church and a school.\n" * 20
    good = content_features(edit_diff(page, page + "The village hall was rebuilt in 1998."), lists, "hall")
    shouting = content_features(edit_diff(page, "RIVERFORD IS STUPID AND BORING lol"), lists, "")
    mashing = content_features(edit_diff(page, page.replace("church", "church asdfghjkl sdfsdfsdf")), lists, "")
    insult = content_features(edit_diff(page, page + "jude is a fucking idiot"), lists, "")
    assert good["inserted_upper_share"] < 0.2 < shouting["inserted_upper_share"] == 26 / 29
    assert shouting["removed_share"] > 0.95 > good["removed_share"] == 0.0
    assert mashing["inserted_nonword_share"] == 1.0 and good["inserted_nonword_share"] == 0.0
    assert insult["inserted_profanity"] >= 1 and good["inserted_profanity"] == 0
    assert good["change_position"] > 0.99 and shouting["inserted_laughter"] == 1
    # A language without a shipped profanity list: missing, not "no profanity".
    assert math.isnan(content_features(edit_diff("a", "b"), word_lists("xx"))["inserted_profanity"])


def test_the_diff_of_a_large_page_finds_only_what_changed():
    base = FIXTURE.read_text(encoding="utf-8")
    old = (base * (100_000 // len(base) + 1))[:100_000]
    cut = old.index(" ", len(old) // 3)
    gone = old.index(" ", 2 * len(old) // 3)
    gone_end = old.index(" ", gone + 40)
    new = old[:cut] + " poop poop poop" + old[cut:gone] + old[gone_end:]
    diff = edit_diff(old, new)
    assert diff.inserted == "poop poop poop"
    assert diff.removed.split() == old[gone:gone_end].split()
    assert diff.position == pytest.approx(cut / len(old), abs=0.001)
