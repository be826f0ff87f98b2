"""Telling stewards what an edit to the central config page does, on that page's talk page.

The same notice as for a local page (:mod:`automod.onwiki.config_notice`: the same
per-day estimate from the last 30 days of scores, the same words), with one estimate per
governed wiki: what the wiki did under the previous central revision and what it will do
under the new one. A wiki with its own config page is named as unaffected (its page wins).

Once per central revision, across restarts: the store remembers every revision read (and
the document honoured) and every notice posted. Every wiki user is a possible attacker: a
refused revision (someone outside the editor groups saved it, the page lost its
protection, invalid JSON) gets a notice only when it replaces an honoured one, so a
vandal saving an open page again and again cannot make the bot write again and again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from automod.config import CommunityConfig
from automod.onwiki.central_config import CentralPage, governed_config, unserved_wikis
from automod.onwiki.config_notice import WINDOW_DAYS, expected_impact, impact_line, talk_page_of
from automod.onwiki.gateway import WikiGateway
from automod.onwiki.i18n import Messages, load_messages
from automod.onwiki.messages import messages_for
from automod.onwiki.wikitext import link, plain
from automod.store import Store

__all__ = ["NOTICE_KIND", "SEEN_KIND", "central_changed", "compose_central_notice", "last_seen"]

log = logging.getLogger("automod.onwiki.central_notice")

#: Action kinds (``wiki`` the central wiki, ``rev_id`` the central page's revision).
NOTICE_KIND = "central-config-notice"
SEEN_KIND = "central-config-seen"


class _AnyModel(Collection[str]):
    """The estimate needs the model a block names, not whether a given wiki offers it
    (each wiki checks that itself when it applies the block)."""

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def last_seen(store: Store, wiki: str) -> CentralPage | None:
    """The central revision the bot read last (in this run or an earlier one), or None."""
    seen = store.latest_action(wiki, SEEN_KIND)
    if seen is None:
        return None
    data = json.loads(seen.detail or "{}")
    document = data.get("document") if seen.result == "honoured" else None
    return CentralPage(wiki, str(data.get("title", "")), int(seen.rev_id), document)


def _remember(store: Store, page: CentralPage) -> None:
    assert page.rev_id is not None
    store.record_action(page.wiki, page.rev_id, SEEN_KIND, "honoured" if page.document is not None else "refused",
                        None, json.dumps({"title": page.title, "document": page.document}, sort_keys=True))


def _config(page: CentralPage | None, wiki: str) -> CommunityConfig | None:
    if page is None or page.document is None:
        return None
    return governed_config(page, wiki, _AnyModel())[0].config


def _flat(document: dict[str, Any] | None) -> dict[str, Any]:
    """``defaults.<key>`` and ``wikis.<wiki>.<key>`` → value: what the diff table lists."""
    if not document:
        return {}
    flat = {f"defaults.{k}": v for k, v in document["defaults"].items()}
    for wiki, block in document["wikis"].items():
        flat.update({f"wikis.{wiki}.{k}": v for k, v in block.items()})
        if not block:
            flat[f"wikis.{wiki}"] = {}
    return flat


def compose_central_notice(store: Store, previous: CentralPage | None, page: CentralPage,
                           wikis: Sequence[tuple[str, bool]], now: float | None = None,
                           messages: Messages | None = None) -> tuple[str, str]:
    """(section title, wikitext) of the notice for ``page`` replacing ``previous``;
    ``wikis`` are the governed wikis, each with whether it has a local page (unaffected)."""
    now = time.time() if now is None else now
    m = messages or load_messages()
    who = f"[[User:{link(page.user)}|{link(page.user)}]]" if page.user else m.text("automod-config-someone")
    governed = [plain(w) for w, local in wikis if not local]
    if page.document is None:
        errors = "\n".join(f"* <code>{plain(p.path)}</code>: {plain(p.message)}" for p in page.problems)
        return (m.format("automod-central-refused-heading", page.rev_id),
                m.format("automod-central-refused", who, page.rev_id, link(page.title), errors,
                         ", ".join(governed) or "—"))
    old, new = _flat(previous.document if previous else None), _flat(page.document)
    changed = sorted(k for k in set(old) | set(new) if old.get(k, "(default)") != new.get(k, "(default)"))
    default = m.text("automod-config-default")
    rows = "\n".join(f"|-\n| <code>{plain(k)}</code>"
                     f" || <code>{plain(json.dumps(old[k])) if k in old else default}</code>"
                     f" || <code>{plain(json.dumps(new[k])) if k in new else default}</code>" for k in changed)
    columns = " !! ".join(m.text(f"automod-config-column-{c}") for c in ("key", "old", "new"))
    table = (f'{{| class="wikitable"\n! {columns}\n' + rows + "\n|}") if changed else m.text("automod-config-no-change")
    lines = []
    for wiki, local in wikis:
        if local:
            lines.append(f"* {m.format('automod-central-local-page', plain(wiki))}")
            continue
        lines.append(f"* '''{plain(wiki)}'''")
        for label, config in ((m.text("automod-config-before"), _config(previous, wiki)),
                              (m.text("automod-config-after"), _config(page, wiki))):
            lines.append("*" + impact_line(label, expected_impact(store, wiki, config, now), m))
    applied = m.format("automod-central-applied", who, link(page.title), page.rev_id, table, WINDOW_DAYS,
                       "\n".join(lines) or "—")
    ignored = [w.split(":", 1)[0].removeprefix("$.wikis.")
               for w in unserved_wikis(page.document, [w for w, _ in wikis])]
    if ignored:  # names anyone could misread as governed: each quoted (wikitext.py)
        names = ", ".join(f"<code>{plain(name)}</code>" for name in ignored)
        applied = f"{m.format('automod-central-unserved', names, len(ignored))}\n\n{applied}"
    return m.format("automod-central-applied-heading", page.rev_id), applied


def central_changed(gateway: WikiGateway, store: Store, previous: CentralPage | None, page: CentralPage,
                    wikis: Sequence[tuple[str, bool]]) -> bool:
    """Remember ``page`` and post its notice if it is due; True if one was posted.

    ``previous`` is the revision this run read before (None: ask the store, so a revision
    saved while the bot was down still gets its notice once). The very first revision the
    bot ever reads gets one too when it is honoured (the stewards who saved it while the bot
    was stopped learn what it does), compared with no central page at all.
    """
    if page.rev_id is None:  # missing or unreadable: nothing was saved that a notice could answer
        return False
    before = previous if previous is not None and previous.rev_id is not None else last_seen(store, page.wiki)
    if before is None or before.rev_id != page.rev_id or (before.document is None) != (page.document is None):
        _remember(store, page)
    if before is not None and before.rev_id == page.rev_id:
        return False
    if page.document is None and (before is None or before.document is None):
        return False  # refused after refused: one notice said so already (no flood)
    if store.has_action(page.wiki, page.rev_id, NOTICE_KIND):
        return False
    messages = messages_for(gateway)
    title, body = compose_central_notice(store, before, page, wikis, messages=messages)
    talk = talk_page_of(page.title)
    revid = gateway.edit(talk, section="new", sectiontitle=title, text=body,
                         summary=messages.format("automod-config-summary", title))
    store.record_action(page.wiki, page.rev_id, NOTICE_KIND, "done", revid, title)
    log.info("%s: posted %r on %s", page.wiki, title, talk)
    return True
