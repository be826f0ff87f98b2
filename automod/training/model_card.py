"""The Markdown model card: what a wiki's admins read before choosing ``local:<name>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["render_markdown", "write_markdown"]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _recommendation(found: dict[str, Any] | None) -> list[str]:
    """The card's advice for the config page: only values the config accepts, or why none."""
    if not found:
        return []
    low, high = found["allowed"]
    if found["threshold"] is None:
        return [f"- **Recommended threshold:** none. {found['reason']}"]
    level = (f"; or `\"caution_level\": \"{found['caution_level']}\"`" if found["caution_level"]
             else "; no caution level reaches it")
    line = (f"- **Recommended threshold:** `\"threshold\": {found['threshold']}` (lowest value in the config's "
            f"range {low}–{high} with precision ≥ {found['target_precision']:.0%} on the held-out edits: "
            f"precision {_fmt(found['precision'])}, recall {_fmt(found['recall'])}){level}")
    return [line]


def _interval(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("value") is None:
        return "–"
    low_high = entry.get("interval")
    bounds = f" (95% interval {low_high[0]:.3f}–{low_high[1]:.3f})" if low_high else ""
    return f"{entry['value']:.3f}{bounds}"


def _ranking(ev: dict[str, Any]) -> list[str]:
    if "roc_auc" not in ev:
        return [f"- **AUC:** {_fmt(ev['auc'])}"]
    lines = [f"- **ROC AUC:** {_interval(ev['roc_auc'])}", f"- **PR AUC:** {_interval(ev['pr_auc'])}"]
    lines += [f"- **Recall at {key.split('_')[2].replace('pct', '%')} false positives:** {_interval(ev[key])}"
              for key in ev if key.startswith("recall_at_")]
    return lines


def _calibration(found: dict[str, Any] | None) -> list[str]:
    if not found:
        return []
    return [f"- **Calibration:** {found['method']} scaling of the booster's margin, fitted on the out-of-fold "
            f"scores: {found['meaning']}."]


def render_markdown(card: dict[str, Any]) -> str:
    """Return the card as Markdown (the JSON card stays the source of truth)."""
    data, ev = card["data"], card["evaluation"]
    lines = [
        f"# Model card: {card['name']}",
        "",
        f"- **Model version (id):** `{card['id']}`",
        f"- **Wiki:** {card['wiki']}",
        f"- **Created:** {card['created']}",
        f"- **Algorithm:** XGBoost {card['xgboost_version']} ({card['model_format']}, `{card['model_file']}`, "
        f"SHA-256 `{card['model_sha256'][:16]}…`), {card['rounds']} rounds",
        f"- **Features:** {len(card['feature_names'])} (the 26 language-agnostic revert-risk features, the "
        f"editor's warnings and recent reverts and edits, and what the edit inserted and removed), "
        f"set `{card['feature_set']}`; a value the data lacks is missing to the model, not zero",
        "",
        "## Data",
        "",
        f"- **Source:** {data['source']}",
        f"- **Window:** {data['window']['start']} to {data['window']['end']}",
        f"- **Label:** {data['label']}",
        f"- **Excluded:** {data['exclusions']}",
        f"- **Split:** {data['split']}",
        "",
        "| part | edits | reverted | not reverted | first | last |",
        "|---|---|---|---|---|---|",
    ]
    for part in ("train", "evaluation"):
        d = data[part]
        lines.append(f"| {part} | {d['edits']} | {d['reverted']} | {d['not_reverted']} | {_fmt(d['first'])} "
                     f"| {_fmt(d['last'])} |")
    lines += [""] + [f"- {note}" for note in data.get("notes", [])]
    lines += [
        "",
        "## Evaluation (edits never seen in training)",
        "",
        f"- **Method:** {ev.get('method', '–')}",
        *_ranking(ev),
        *[f"- **Lowest threshold reaching {float(p):.0%} precision:** {_fmt(t)}"
          for p, t in ev["threshold_for_precision"].items()],
        *_recommendation(ev.get("recommended")),
        *_calibration(card.get("calibration")),
        "",
        "An edit is flagged when its probability is strictly greater than the threshold.",
        "",
        "| threshold | flagged | precision | recall |",
        "|---|---|---|---|",
    ]
    for row in ev["thresholds"]:
        lines.append(f"| {row['threshold']} | {row['flagged']} | {_fmt(row['precision'])} | {_fmt(row['recall'])} |")
    lines += ["", "## Feature importance (total gain)", "", "| feature | gain |", "|---|---|"]
    lines += [f"| {name} | {gain} |" for name, gain in card["feature_importance"].items()]
    lines += ["", "## Quality-score maxima used", ""]
    lines += [f"- {k}: {_fmt(float(v))}" for k, v in card["quality_maxima"].items()]
    return "\n".join(lines) + "\n"


def write_markdown(card: dict[str, Any], path: Path) -> None:
    path.write_text(render_markdown(card), encoding="utf-8")
