"""The threshold table: for each candidate threshold, how many reverts a day, and how many wrong.

Observations are ``(rev_id, probability, label, timestamp)``: ``label`` True when people
judged the edit bad (see :func:`automod.evidence.labels.truth`), False when not, None when nobody
knows yet. An edit counts as a would-revert at threshold *t* when its probability is strictly
greater than *t*, as the bot decides (:mod:`automod.moderation.decide`).

For each threshold: would-reverts (all scored edits, labelled or not: that is the volume
the community would see) and per day; precision = labelled would-reverts that were bad ÷
labelled would-reverts; recall = bad edits above the threshold ÷ all bad edits; false
positives = labelled would-reverts that were fine. Proportions carry a 95 % Wilson score
interval (better than the normal approximation for small samples and proportions near 1).

Per day: counts ÷ ``days``, from :func:`days_covered` — the one definition every report
uses (this table, the config-change notice): ``days`` is given (``--days``) or the time the
observations span (latest − earliest timestamp), never less than one day, so a sample of a
few hours is not blown up into an absurd daily rate; without timestamps and without ``days``
the per-day columns are empty (None).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from automod.config import CAUTION_LEVELS, THRESHOLD_MAX, THRESHOLD_MIN
from automod.errors import AutomodError
from automod.evidence.labels import truth
from automod.store import Store

__all__ = [
    "DEFAULT_GRID", "Observation", "PUBLISH_GRID", "ThresholdInputError", "ThresholdRow", "ThresholdTable",
    "build_table",
    "current_threshold", "days_covered", "models_in_store", "observations_from_store", "read_observations",
    "render_data_page", "render_json", "render_text", "render_wikitext", "wilson", "write_png", "write_table_csv",
]

DEFAULT_GRID = (0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95,
                0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.995, 0.999)
#: The data page's grid: every 0.001 over the thresholds a community may set (the config
#: gadget reads the row at or just below the threshold being typed).
PUBLISH_GRID = tuple(round(THRESHOLD_MIN + i / 1000, 3)
                     for i in range(round((THRESHOLD_MAX - THRESHOLD_MIN) * 1000) + 1))
Z95 = 1.959963984540054
DAY = 86400.0
JSON_KEYS = ("threshold", "would_revert", "per_day", "precision", "precision_low", "precision_high",
             "recall", "false_positives")
CSV_KEYS = ("threshold", "would_revert", "per_day", "labelled", "precision", "precision_low", "precision_high",
            "recall", "recall_low", "recall_high", "false_positives", "false_positives_per_day",
            "recommended", "current")


class ThresholdInputError(AutomodError):
    """The --input file cannot be read as observations."""


@dataclass(frozen=True)
class Observation:
    rev_id: int
    probability: float
    label: bool | None
    timestamp: float | None = None


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    would_revert: int
    per_day: float | None
    labelled: int
    true_positives: int
    false_positives: int
    false_positives_per_day: float | None
    precision: float | None
    precision_low: float | None
    precision_high: float | None
    recall: float | None
    recall_low: float | None
    recall_high: float | None

    def to_json(self) -> dict[str, float | int | None]:
        return {key: getattr(self, key) for key in JSON_KEYS}


@dataclass(frozen=True)
class ThresholdTable:
    rows: tuple[ThresholdRow, ...]
    observations: int
    labelled: int
    positives: int
    days: float | None
    target_precision: float
    recommended: float | None  # lowest threshold whose precision lower bound reaches the target
    current: float | None


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for ``successes`` of ``n``; None when ``n`` is 0."""
    if n == 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def build_table(observations: Sequence[Observation], *, grid: Iterable[float] = DEFAULT_GRID,
                target_precision: float = 0.95, current: float | None = None,
                days: float | None = None) -> ThresholdTable:
    """The table over ``grid`` (plus ``current`` if it is not on it)."""
    thresholds = sorted(set(grid) | ({current} if current is not None else set()))
    days = days_covered(observations, days)
    labelled = [o for o in observations if o.label is not None]
    positives = sum(1 for o in labelled if o.label)
    rows = []
    for t in thresholds:
        above = [o for o in observations if o.probability > t]
        judged = [o for o in above if o.label is not None]
        tp = sum(1 for o in judged if o.label)
        fp = len(judged) - tp
        p_int, r_int = wilson(tp, len(judged)), wilson(tp, positives)
        rows.append(ThresholdRow(
            threshold=t, would_revert=len(above), per_day=_rate(len(above), days), labelled=len(judged),
            true_positives=tp, false_positives=fp, false_positives_per_day=_rate(fp, days),
            precision=tp / len(judged) if judged else None,
            precision_low=p_int[0] if p_int else None, precision_high=p_int[1] if p_int else None,
            recall=tp / positives if positives else None,
            recall_low=r_int[0] if r_int else None, recall_high=r_int[1] if r_int else None))
    recommended = next((r.threshold for r in rows
                        if r.precision_low is not None and r.precision_low >= target_precision), None)
    return ThresholdTable(tuple(rows), len(observations), len(labelled), positives, days, target_precision,
                          recommended, current)


def days_covered(observations: Sequence[Observation], days: float | None = None) -> float | None:
    """The days ``observations`` stand for, the divisor of every per-day rate: ``days`` when
    given, else the span of their timestamps but at least one day; None without timestamps."""
    if days is not None:
        return days
    stamps = [o.timestamp for o in observations if o.timestamp is not None]
    return max((max(stamps) - min(stamps)) / DAY, 1.0) if stamps else None


def _rate(count: int, days: float | None) -> float | None:
    return None if days is None else count / days


# -- inputs ---------------------------------------------------------------------------------------


def _parse_label(raw: object, where: str) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "reverted", "bad"):
        return True
    if text in ("0", "false", "no", "kept", "good"):
        return False
    if text in ("", "none", "null", "unknown"):
        return None
    raise ThresholdInputError(f"{where}: label {raw!r} is not one of 1/0, true/false, or empty")


def _parse_time(raw: object, where: str) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw) / 1000 if raw > 1e11 else float(raw)  # milliseconds, as EventStreams' since
    try:
        stamp = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            return _parse_time(float(str(raw)), where)
        except ValueError:
            raise ThresholdInputError(f"{where}: timestamp {raw!r} is neither ISO 8601 nor epoch seconds") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _observation(record: dict[str, object], where: str) -> Observation:
    try:
        rev_id = int(str(record["rev_id"]))
        probability = float(str(record["probability"]))
    except KeyError as exc:
        raise ThresholdInputError(f"{where}: missing column {exc.args[0]!r}") from None
    except ValueError as exc:
        raise ThresholdInputError(f"{where}: {exc}") from None
    if not 0.0 <= probability <= 1.0:
        raise ThresholdInputError(f"{where}: probability {probability} is outside [0, 1]")
    return Observation(rev_id, probability, _parse_label(record.get("label"), where),
                       _parse_time(record.get("timestamp"), where))


def read_observations(path: Path) -> list[Observation]:
    """Observations from a CSV file (header ``rev_id,probability,label[,timestamp]``) or JSON lines.

    JSON lines when the first non-blank character is ``{``. Labels: 1/0, true/false, or empty
    for unknown. Timestamps: ISO 8601 or epoch seconds (or milliseconds).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThresholdInputError(f"cannot read {path}: {exc}") from exc
    if text.lstrip().startswith("{"):
        out = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ThresholdInputError(f"{path}:{number}: not JSON: {exc}") from None
            if not isinstance(record, dict):
                raise ThresholdInputError(f"{path}:{number}: expected a JSON object")
            out.append(_observation(record, f"{path}:{number}"))
        return out
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"rev_id", "probability"} <= set(reader.fieldnames):
        raise ThresholdInputError(f"{path}: CSV header must name rev_id, probability and label")
    return [_observation(dict(row), f"{path}:{number}") for number, row in enumerate(reader, 2)]


def observations_from_store(store: Store, wiki: str, model: str, since: float | None = None) -> list[Observation]:
    """Every score of ``model`` on ``wiki`` (edits since ``since``), labelled from the labels table."""
    edits = sorted(store.scored_edits(wiki=wiki, model=model, since=since), key=lambda e: e.rev_id)
    return [Observation(e.rev_id, e.probability, truth(e.labels), e.edit_time) for e in edits]


def threshold_row_from_store(store: Store, wiki: str, model: str, threshold: float, since: float | None = None,
                             days: float | None = None) -> tuple[ThresholdRow, int]:
    """:func:`build_table`'s row for one ``threshold`` over :func:`observations_from_store`'s
    observations, and how many there were — folded a score at a time as the store reads them
    (:meth:`automod.store.Store.score_points`), never held: a config edit weighs a month of a
    large wiki's scores (millions) in constant memory (issue 29). ``days``: as for build_table;
    without it, the span of the scores' times (None without scores)."""
    scored = positives = above = judged = tp = 0
    first = last = None
    for point in store.score_points(wiki=wiki, model=model, since=since):
        scored += 1
        label = truth(point.labels)
        first = point.edit_time if first is None else min(first, point.edit_time)
        last = point.edit_time if last is None else max(last, point.edit_time)
        positives += label is True
        if point.probability > threshold:
            above += 1
            if label is not None:
                judged += 1
                tp += label
    if days is None and first is not None and last is not None:
        days = max((last - first) / DAY, 1.0)
    p_int, r_int = wilson(tp, judged), wilson(tp, positives)
    return ThresholdRow(
        threshold=threshold, would_revert=above, per_day=_rate(above, days), labelled=judged, true_positives=tp,
        false_positives=judged - tp, false_positives_per_day=_rate(judged - tp, days),
        precision=tp / judged if judged else None,
        precision_low=p_int[0] if p_int else None, precision_high=p_int[1] if p_int else None,
        recall=tp / positives if positives else None,
        recall_low=r_int[0] if r_int else None, recall_high=r_int[1] if r_int else None), scored


def combined_observations(store: Store, wiki: str, models: Sequence[str],
                          since: float | None = None) -> list[Observation]:
    """Model agreement as one score: the lowest of the models' probabilities.

    Under the combination an edit is reverted at threshold t only if every model scores it
    above t — exactly when their minimum is above t. Only revisions scored by every model
    count (the bot scores all configured models, so that is every revision it scored).
    """
    per_model = [{o.rev_id: o for o in observations_from_store(store, wiki, m, since)} for m in models]
    common = set(per_model[0]).intersection(*per_model[1:]) if per_model else set()
    return [Observation(rev, min(p[rev].probability for p in per_model), per_model[0][rev].label,
                        per_model[0][rev].timestamp) for rev in sorted(common)]


def models_in_store(store: Store, wiki: str) -> list[str]:
    """Models with scores on ``wiki``, the most used first."""
    return store.models_scored(wiki)


def current_threshold(store: Store, wiki: str, model: str) -> float | None:
    """The threshold of the bot's most recent decision with ``model`` (None if it never decided)."""
    return store.current_threshold(wiki, model)


# -- outputs -------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(row_value: float | None, low: float | None, high: float | None) -> str:
    if row_value is None:
        return "-"
    return f"{row_value:.3f} [{_fmt(low)}, {_fmt(high)}]"


def _marks(table: ThresholdTable, t: float) -> str:
    return ("<- recommended " if t == table.recommended else "") + ("<- current" if t == table.current else "")


def render_text(table: ThresholdTable) -> str:
    """A fixed-width table for a terminal, with the recommendation and current threshold marked."""
    head = (f"{'threshold':>9} {'reverts':>8} {'per day':>8} {'labelled':>8} {'precision [95% CI]':>22}"
            f" {'recall [95% CI]':>22} {'FP':>5} {'FP/day':>7}")
    lines = [head, "-" * len(head)]
    for r in table.rows:
        lines.append(f"{r.threshold:>9g} {r.would_revert:>8} {_fmt(r.per_day, 1):>8} {r.labelled:>8}"
                     f" {_interval(r.precision, r.precision_low, r.precision_high):>22}"
                     f" {_interval(r.recall, r.recall_low, r.recall_high):>22} {r.false_positives:>5}"
                     f" {_fmt(r.false_positives_per_day, 1):>7} {_marks(table, r.threshold)}".rstrip())
    lines.append("")
    lines.append(_summary(table))
    return "\n".join(lines)


def _summary(table: ThresholdTable) -> str:
    days = f"over {table.days:.1f} days" if table.days is not None else "(no timestamps: per-day rates unknown)"
    rec = (f"recommended: {table.recommended:g} (lowest threshold whose precision lower bound reaches "
           f"{table.target_precision:g})" if table.recommended is not None else
           f"no threshold reaches a precision lower bound of {table.target_precision:g} on this evidence")
    return (f"{table.observations} scored edits, {table.labelled} labelled, {table.positives} judged bad, {days}; "
            f"{rec}; current: {table.current if table.current is not None else 'unknown'}")


def render_json(table: ThresholdTable) -> str:
    """A JSON array, one object per threshold (keys exactly JSON_KEYS), one object per line."""
    return "[\n" + ",\n".join(json.dumps(r.to_json()) for r in table.rows) + "\n]"


def render_data_page(table: ThresholdTable, *, wiki: str, model: str, generated: float) -> str:
    """The JSON data page the config gadget reads (``automod thresholds --publish X.json``):
    the table's rows, what they stand on, and AutoModerator's caution levels."""
    return json.dumps({
        "wiki": wiki, "model": model,
        "generated": datetime.fromtimestamp(generated, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "observations": table.observations, "labelled": table.labelled, "days": table.days,
        "target_precision": table.target_precision, "recommended": table.recommended, "current": table.current,
        "caution_levels": dict(sorted(CAUTION_LEVELS.items(), key=lambda kv: kv[1])),
        "rows": [r.to_json() for r in table.rows],
    }, indent=1)


def write_table_csv(table: ThresholdTable, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CSV_KEYS))
        writer.writeheader()
        for r in table.rows:
            writer.writerow({**{k: getattr(r, k) for k in CSV_KEYS[:-2]},
                             "recommended": int(r.threshold == table.recommended),
                             "current": int(r.threshold == table.current)})


def write_png(table: ThresholdTable, path: Path, title: str) -> None:
    """Precision and recall (with Wilson bands) against threshold; reverts a day on a second axis.

    Raises ImportError when matplotlib (the ``analysis`` extra) is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r.threshold for r in table.rows]
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for name, colour in (("precision", "tab:blue"), ("recall", "tab:green")):
        pts = [(r.threshold, getattr(r, name), getattr(r, f"{name}_low"), getattr(r, f"{name}_high"))
               for r in table.rows if getattr(r, name) is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, color=colour, label=name)
            ax.fill_between([p[0] for p in pts], [p[2] for p in pts], [p[3] for p in pts], color=colour,
                            alpha=0.15, label=f"{name} 95% CI")
    ax.axhline(table.target_precision, color="tab:blue", ls=":", lw=1, label=f"target {table.target_precision:g}")
    for value, text, colour in ((table.recommended, "recommended", "tab:red"), (table.current, "current", "grey")):
        if value is not None:
            ax.axvline(value, color=colour, ls="--", lw=1, label=f"{text} {value:g}")
    ax.set_xlabel("threshold (revert when probability > threshold)")
    ax.set_ylabel("precision / recall")
    ax.set_ylim(0, 1.02)
    ax2 = ax.twinx()
    rates = [r.per_day if r.per_day is not None else r.would_revert for r in table.rows]
    ax2.plot(xs, rates, color="tab:orange", marker="s", ms=3, label="reverts/day" if table.days else "reverts")
    ax2.set_ylabel("would-revert edits per day" if table.days else "would-revert edits (no timestamps)")
    ax2.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    handles2 = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], loc="lower left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def render_wikitext(table: ThresholdTable, title: str) -> str:
    """The table as a sortable wikitable, for ``--publish``."""
    out = [f"== {title} ==", _summary(table), "",
           '{| class="wikitable sortable"',
           "! Threshold !! Reverts !! Per day !! Labelled !! Precision !! 95% CI !! Recall !! 95% CI"
           " !! False positives !! FP per day !! Note"]
    for r in table.rows:
        note = " ".join(n for n, v in (("recommended", table.recommended), ("current", table.current))
                        if v == r.threshold)
        style = 'style="background:#eaf3ff" | ' if note else ""
        out.append("|-")
        out.append(f"| {style}{r.threshold:g} || {r.would_revert} || {_fmt(r.per_day, 1)} || {r.labelled}"
                   f" || {_fmt(r.precision)} || {_fmt(r.precision_low)}–{_fmt(r.precision_high)}"
                   f" || {_fmt(r.recall)} || {_fmt(r.recall_low)}–{_fmt(r.recall_high)}"
                   f" || {r.false_positives} || {_fmt(r.false_positives_per_day, 1)} || {note}")
    out.append("|}")
    return "\n".join(out) + "\n"
