"""Everything the bot reads from or writes to a wiki: the gateway and the on-wiki surfaces.

See docs/ARCHITECTURE.md for what this package owns and may use. Other packages import
these names from here, not from the modules.
"""

from __future__ import annotations

from automod.onwiki.breaker_notice import post_breaker_healed
from automod.onwiki.central_config import (
    CentralPage,
    central_source,
    central_status,
    governed_config,
    governed_wikis,
    unserved_wikis,
)
from automod.onwiki.central_notice import central_changed
from automod.onwiki.community_config import config_page_problem, read_config_page
from automod.onwiki.config_notice import post_config_notice
from automod.onwiki.dashboard import publish_summary, publish_summary_if_due, window_stats
from automod.onwiki.edit_runs import restores_text_before_run
from automod.onwiki.editors import EditorExperience, earlier_edit_count, editor_experience
from automod.onwiki.exclusion import ParentExclusion, exclusion_templates, parent_exclusion
from automod.onwiki.gateway import ConfigPage, TargetProblem, WikiGateway, same_title
from automod.onwiki.i18n import fill
from automod.onwiki.messages import messages_for
from automod.onwiki.move_notice import post_surface_moved
from automod.onwiki.notices import send_notice
from automod.onwiki.provenance import Author, Authorship, PageRevision, authors_of, line_authors, trusted_value
from automod.onwiki.rate_limits import AccountLimits, RateLimit, read_limits
from automod.onwiki.report_trust import same_user
from automod.onwiki.reports import (
    PassSteps,
    answer_waiting_reports,
    ensure_preload,
    ensure_report_page,
    log_implicit_report,
    process_report_page,
    report_page_steps,
    reports_waiting,
    run_steps,
    waiting_report_steps,
)
from automod.onwiki.shared_report_pass import (
    answer_waiting_shared,
    post_lost_outcomes,
    post_outcome,
    process_shared_page,
    reinstate_shared,
    shared_page_steps,
    start_pass,
    write_implicit_reports,
)
from automod.onwiki.shared_reports import (
    ReinstateRequest,
    SharedPage,
    ensure_shared_preload,
    review_config,
    shared_hub,
    shared_report_url,
)
from automod.onwiki.stats import day_stats, publish_day, yesterday_unpublished
from automod.onwiki.talk_page import TalkPage
from automod.onwiki.vandal_reports import report_vandal
from automod.onwiki.warnings import WarningLevel, level_comment, level_pattern, warning_level
from automod.onwiki.wikitext import summary

__all__ = [
    "Author",
    "Authorship",
    "PageRevision",
    "authors_of",
    "line_authors",
    "trusted_value",
                    "AccountLimits",
        "CentralPage",
        "ConfigPage",
        "RateLimit",
    "ReinstateRequest",
    "SharedPage",
    "TalkPage",
    "WarningLevel",
    "TargetProblem",
    "WikiGateway",
    "answer_waiting_reports",
    "fill",
    "central_changed",
    "central_source",
    "central_status",
    "config_page_problem",
    "read_config_page",
    "day_stats",
    "EditorExperience",
    "earlier_edit_count",
    "editor_experience",
    "restores_text_before_run",
    "ensure_preload",
    "ensure_report_page",
    "ensure_shared_preload",
    "governed_config",
    "governed_wikis",
    "log_implicit_report",
    "messages_for",
        "post_breaker_healed",
    "post_surface_moved",
    "post_config_notice",
    "post_lost_outcomes",
    "post_outcome",
    "process_report_page",
    "report_page_steps",
    "run_steps",
    "waiting_report_steps",
    "PassSteps",
    "reports_waiting",
    "summary",
    "unserved_wikis",
    "answer_waiting_shared",
    "process_shared_page",
    "shared_page_steps",
    "publish_day",
    "publish_summary",
    "publish_summary_if_due",
    "read_limits",
    "reinstate_shared",
    "report_vandal",
    "review_config",
    "ParentExclusion",
    "exclusion_templates",
    "parent_exclusion",
    "same_title",
    "same_user",
    "send_notice",
    "shared_hub",
    "shared_report_url",
    "start_pass",
    "warning_level",
    "level_comment",
    "level_pattern",
    "window_stats",
    "write_implicit_reports",
    "yesterday_unpublished",
]
