"""What the history says: outcome labels, threshold tables, exports.

Other packages import these names from here, not from the modules (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from automod.evidence.export import (
    ExportError,
    post_events,
    stored_scores,
    to_event,
    write_events,
    write_scores_csv,
)
from automod.evidence.labels import Labeller, record_report_label, with_labels
from automod.evidence.thresholds import (
    PUBLISH_GRID,
    ThresholdTable,
    build_table,
    combined_observations,
    current_threshold,
    days_covered,
    models_in_store,
    observations_from_store,
    read_observations,
    render_data_page,
    render_json,
    render_text,
    render_wikitext,
    threshold_row_from_store,
    wilson,
    write_png,
    write_table_csv,
)

__all__ = [
    "ExportError",
    "PUBLISH_GRID",
    "Labeller",
    "ThresholdTable",
    "build_table",
    "combined_observations",
    "current_threshold",
    "days_covered",
    "models_in_store",
    "observations_from_store",
    "post_events",
    "read_observations",
    "record_report_label",
    "render_data_page",
    "render_json",
    "render_text",
    "render_wikitext",
    "stored_scores",
    "threshold_row_from_store",
    "to_event",
    "wilson",
    "with_labels",
    "write_events",
    "write_png",
    "write_scores_csv",
    "write_table_csv",
]
