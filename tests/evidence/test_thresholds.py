"""`automod thresholds --input`: the numbers are recomputed here from the file, independently,
with the textbook Wilson score interval; the command must agree."""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pytest

from automod.cli import main
from support.settings_files import offline_settings, write_settings

Z = 1.959963984540054  # the 97.5th percentile of the standard normal
KEYS = ["threshold", "would_revert", "per_day", "precision", "precision_low", "precision_high", "recall",
        "false_positives"]
GRID_MUST_HAVE = (0.5, 0.85, 0.9, 0.95, 0.97, 0.975, 0.98, 0.985, 0.99, 0.995, 0.999)


def textbook_wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = p + Z ** 2 / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z ** 2 / (4 * n ** 2))
    return (centre - spread) / (1 + Z ** 2 / n), (centre + spread) / (1 + Z ** 2 / n)


def make_rows(n: int = 800, seed: int = 11) -> list[tuple[int, float, int, int]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        bad = rng.random() < 0.25
        p = round(rng.betavariate(12, 1) if bad else rng.betavariate(1, 5), 4)
        rows.append((5000 + i, p, int(bad), 1_767_225_600 + i * 1800))  # one every 30 min from 2026-01-01
    return rows


@pytest.fixture
def csv_input(tmp_path: Path) -> tuple[Path, list[tuple[int, float, int, int]]]:
    rows = make_rows()
    path = tmp_path / "scores.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rev_id", "probability", "label", "timestamp"])
        writer.writerows(rows)
    return path, rows


def run_json(capsys, *argv: str) -> list[dict]:
    assert main(["thresholds", *argv, "--json", "--no-files"]) == 0
    return json.loads(capsys.readouterr().out)


def test_precision_recall_and_wilson_bounds_match_an_independent_computation(csv_input, capsys):
    path, rows = csv_input
    table = run_json(capsys, "--input", str(path))
    days = (rows[-1][3] - rows[0][3]) / 86400
    positives = sum(r[2] for r in rows)
    thresholds = [row["threshold"] for row in table]
    assert all(t in thresholds for t in GRID_MUST_HAVE) and thresholds == sorted(thresholds)
    for row in table:
        assert list(row) == KEYS
        above = [r for r in rows if r[1] > row["threshold"]]  # strictly greater, as the bot decides
        tp = sum(r[2] for r in above)
        assert row["would_revert"] == len(above)
        assert row["false_positives"] == len(above) - tp
        assert row["per_day"] == pytest.approx(len(above) / days)
        assert row["recall"] == pytest.approx(tp / positives)
        if above:
            low, high = textbook_wilson(tp, len(above))
            assert row["precision"] == pytest.approx(tp / len(above))
            assert (row["precision_low"], row["precision_high"]) == (pytest.approx(low), pytest.approx(high))
        else:
            assert row["precision"] is row["precision_low"] is row["precision_high"] is None


def test_wilson_bounds_of_a_hand_counted_file(tmp_path, capsys):
    # 10 edits above 0.9: 8 bad, 2 fine. Textbook Wilson for 8/10: [0.4902, 0.9433].
    lines = ["rev_id,probability,label"] + [f"{i},0.95,{int(i < 8)}" for i in range(10)] + ["99,0.1,1"]
    path = tmp_path / "hand.csv"
    path.write_text("\n".join(lines) + "\n")
    row = next(r for r in run_json(capsys, "--input", str(path)) if r["threshold"] == 0.9)
    assert (row["would_revert"], row["false_positives"], row["precision"]) == (10, 2, 0.8)
    assert row["precision_low"] == pytest.approx(0.4902, abs=1e-4)
    assert row["precision_high"] == pytest.approx(0.9433, abs=1e-4)
    assert row["recall"] == pytest.approx(8 / 9)
    assert row["per_day"] is None  # no timestamps and no --days: unknown, not guessed


def test_recommendation_is_the_lowest_threshold_whose_precision_lower_bound_reaches_the_target(csv_input, capsys):
    path, rows = csv_input
    for target in (0.8, 0.9, 0.95):
        assert main(["thresholds", "--input", str(path), "--no-files", "--target-precision", str(target),
                     "--current", "0.97"]) == 0
        out = capsys.readouterr().out
        expected = None
        for line in out.splitlines()[2:]:
            if not line.strip() or not line.split()[0][0].isdigit():
                continue
            t = float(line.split()[0])
            above = [r for r in rows if r[1] > t]
            if above and textbook_wilson(sum(r[2] for r in above), len(above))[0] >= target:
                expected = t
                break
        assert expected is not None
        marked = [line for line in out.splitlines() if "<- recommended" in line]
        assert len(marked) == 1 and float(marked[0].split()[0]) == expected
        assert f"recommended: {expected:g}" in out
        assert [line.split()[0] for line in out.splitlines() if "<- current" in line] == ["0.97"]


def test_json_lines_input_with_days_gives_per_day_rates(tmp_path, capsys):
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps({"rev_id": i, "probability": p, "label": lab}) + "\n"
                            for i, (p, lab) in enumerate([(0.999, True), (0.992, False), (0.96, True), (0.2, None)])))
    table = {r["threshold"]: r for r in run_json(capsys, "--input", str(path), "--days", "2")}
    assert table[0.99]["would_revert"] == 2 and table[0.99]["per_day"] == 1.0
    assert table[0.99]["precision"] == 0.5 and table[0.99]["false_positives"] == 1
    assert table[0.95]["recall"] == 1.0  # the unlabelled edit counts for volume only
    assert table[0.5]["would_revert"] == 3


def test_a_non_grid_current_threshold_gets_its_own_row(csv_input, capsys):
    path, _ = csv_input
    table = run_json(capsys, "--input", str(path), "--current", "0.9876")
    assert 0.9876 in [r["threshold"] for r in table]


def test_writes_a_csv_and_a_png(csv_input, tmp_path, capsys):
    path, _ = csv_input
    assert main(["thresholds", "--input", str(path), "--out", str(tmp_path / "out" / "t")]) == 0
    with (tmp_path / "out" / "t.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["threshold"]) for r in rows][:2] == [0.5, 0.55]
    assert {"recall_low", "recall_high", "false_positives_per_day", "recommended", "current"} <= set(rows[0])
    assert sum(int(r["recommended"]) for r in rows) == 1
    png = (tmp_path / "out" / "t.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


@pytest.mark.parametrize(("content", "message"), [
    ("rev_id,probability,label\n1,1.5,1\n", "outside [0, 1]"),
    ("rev_id,probability,label\n1,0.5,maybe\n", "label 'maybe'"),
    ("id,score\n1,0.5\n", "CSV header"),
    ('{"rev_id": 1}\n', "missing column 'probability'"),
])
def test_bad_input_is_an_error_line_and_exit_1(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["thresholds", "--input", str(path), "--no-files"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err


def test_neither_input_nor_store_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["thresholds", "--json"])
    assert exc.value.code == 2


def test_combine_counts_an_edit_only_when_every_model_is_above_the_threshold(tmp_path, capsys):
    """Two models' scores in the store: the combined table is model agreement, by hand."""
    import json as _json

    from automod.cli import main as automod_main
    from automod.store import Store

    settings = tmp_path / "settings.yaml"
    write_settings(settings, offline_settings())
    scores = {1: (0.99, 0.99), 2: (0.99, 0.80), 3: (0.80, 0.99), 4: (0.95, 0.96)}
    with Store(tmp_path / "s.sqlite") as store:
        for rev, (a, b) in scores.items():
            store.record_score("w", rev, "revertrisk-language-agnostic", "3", a)
            store.record_score("w", rev, "damaging", "0.5", b)
        store.record_score("w", 5, "damaging", "0.5", 0.999)  # scored by one model only: not in the table
    code = automod_main(["thresholds", "--settings", str(settings), "--wiki", "w", "--json", "--no-files",
                         "--combine", "revertrisk-language-agnostic,damaging"])
    assert code == 0
    rows = {r["threshold"]: r for r in _json.loads(capsys.readouterr().out)}
    assert rows[0.9]["would_revert"] == 2  # revisions 1 and 4: both models above 0.9
    assert rows[0.95]["would_revert"] == 1  # revision 1 only (4 has 0.95, not above)
    assert rows[0.5]["would_revert"] == 4
