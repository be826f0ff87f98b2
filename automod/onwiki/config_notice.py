"""Telling the community what a config change does, on the config page's talk page.

When a new valid revision is applied: who changed what (old → new for each key) and, from
the last 30 days of scores, the expected would-revert edits per day and precision under the
old and the new settings, with how many edits that rests on. An invalid revision gets a
notice listing its errors and saying the bot is off on this wiki until it is fixed.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from automod.config import AppliedConfig, CommunityConfig
from automod.evidence import threshold_row_from_store
from automod.onwiki.gateway import ConfigPage, WikiGateway
from automod.onwiki.i18n import Messages, load_messages
from automod.onwiki.messages import messages_for
from automod.onwiki.wikitext import link, plain
from automod.store import Store

__all__ = ["WINDOW_DAYS", "compose_notice", "expected_impact", "impact_line", "post_config_notice", "talk_page_of"]

log = logging.getLogger("automod.onwiki.config_notice")

WINDOW_DAYS = 30


def talk_page_of(title: str) -> str:
    namespace, sep, rest = title.partition(":")
    if sep and namespace and " " not in namespace:
        return f"{namespace} talk:{rest}"
    return f"Talk:{title}"


def _keys(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def expected_impact(store: Store, wiki: str, config: CommunityConfig | None, now: float) -> dict[str, Any] | None:
    if config is None:
        return None
    model, threshold = config.model, config.threshold
    # The same per-day rate as `automod thresholds`: over the days the scores span, not the
    # window (no scores at all: 0 a day). Folded as the store reads them: a month of a large
    # wiki's scores is millions, and a config edit must not hold them all (issue 29).
    since = now - WINDOW_DAYS * 86400
    row, scored = threshold_row_from_store(store, wiki, model, threshold, since)
    if row.per_day is None:  # no scores: the window's days
        row, scored = threshold_row_from_store(store, wiki, model, threshold, since, days=WINDOW_DAYS)
    return {"model": model, "threshold": threshold, "scored": scored,
            "would_revert": row.would_revert, "per_day": row.per_day, "labelled": row.labelled,
            "precision": row.precision, "precision_low": row.precision_low, "precision_high": row.precision_high,
            "mode": config.mode if config.enabled else "off"}


def impact_line(label: str, impact: dict[str, Any] | None, messages: Messages) -> str:
    if impact is None:
        return f"* {messages.format('automod-config-impact-off', label)}"
    precision = (messages.text("automod-config-precision-unknown") if impact["precision"] is None else
                 messages.format("automod-config-precision", f"{impact['precision']:.1%}",
                                 f"{impact['precision_low']:.1%}", f"{impact['precision_high']:.1%}",
                                 impact["labelled"]))
    return "* " + messages.format("automod-config-impact", label, impact["model"], impact["threshold"], impact["mode"],
                                  f"{impact['per_day']:.2f}", impact["would_revert"], impact["scored"], WINDOW_DAYS,
                                  precision)


def compose_notice(store: Store, wiki: str, previous: AppliedConfig, applied: AppliedConfig, page: ConfigPage,
                   old_text: str | None, now: float | None = None,
                   messages: Messages | None = None) -> tuple[str, str]:
    """(section title, wikitext) of the notice for ``applied`` replacing ``previous``, in
    ``messages``' language (English by default)."""
    now = time.time() if now is None else now
    m = messages or load_messages()
    # Keys, values, errors (which quote values) and names are what someone typed: quoted (wikitext.py).
    who = f"[[User:{link(page.user)}|{link(page.user)}]]" if page.user else m.text("automod-config-someone")
    if applied.config is None:
        errors = "\n".join(f"* <code>{plain(p.path)}</code>: {plain(p.message)}" for p in applied.problems)
        return (m.format("automod-config-invalid-heading", page.rev_id),
                m.format("automod-config-invalid", who, page.rev_id, link(page.title), errors))
    old, new = _keys(old_text), _keys(page.text)
    changed = sorted(k for k in set(old) | set(new) if old.get(k, "(default)") != new.get(k, "(default)"))
    default = m.text("automod-config-default")
    rows = "\n".join(f"|-\n| <code>{plain(k)}</code>"
                     f" || <code>{plain(json.dumps(old[k])) if k in old else default}</code>"
                     f" || <code>{plain(json.dumps(new[k])) if k in new else default}</code>" for k in changed)
    columns = " !! ".join(m.text(f"automod-config-column-{c}") for c in ("key", "old", "new"))
    table = (f'{{| class="wikitable"\n! {columns}\n' + rows + "\n|}") if changed else m.text("automod-config-no-change")
    before = expected_impact(store, wiki, previous.config, now)
    after = expected_impact(store, wiki, applied.config, now)
    return (m.format("automod-config-applied-heading", page.rev_id),
            m.format("automod-config-applied", who, link(page.title), page.rev_id, table, WINDOW_DAYS,
                     impact_line(m.text("automod-config-before"), before, m),
                     impact_line(m.text("automod-config-after"), after, m)))


def post_config_notice(gateway: WikiGateway, store: Store, wiki: str, previous: AppliedConfig,
                       applied: AppliedConfig, page: ConfigPage) -> bool:
    """Post the notice once per config revision; False if it was posted already."""
    if store.has_action(wiki, page.rev_id, "config-notice"):
        return False
    old_text = None
    if previous.rev_id is not None:
        old_text = store.config_content(wiki, previous.rev_id)
    messages = messages_for(gateway)
    title, body = compose_notice(store, wiki, previous, applied, page, old_text, messages=messages)
    revid = gateway.edit(talk_page_of(page.title), section="new", sectiontitle=title, text=body,
                         summary=messages.format("automod-config-summary", title))
    store.record_action(wiki, page.rev_id, "config-notice", "done", revid, title)
    log.info("%s: posted %r on %s", wiki, title, talk_page_of(page.title))
    return True
