"""wiki.py against the real sandbox: what the skip rules read, and how rollback reports races
and rate limits. pywikibot reads its configuration once per process, so this module points
PYWIKIBOT_DIR at the sandbox before the gateway first imports it."""

from __future__ import annotations

import time

import pytest

from automod.records import EventMeta, RecentChange

pytestmark = pytest.mark.sandbox


def change_for(rev: int, parent: int, title: str, user: str) -> RecentChange:
    return RecentChange(meta=EventMeta(id="t", dt="2026-01-01T00:00:00Z", domain="127.0.0.1", stream="s"),
                        wiki="sandboxwiki", server_name="127.0.0.1", type="edit", namespace=0, title=title,
                        user=user, bot=False, timestamp=int(time.time()), comment="", minor=False, rc_id=None,
                        rev_id=rev, parent_id=parent, length_old=None, length_new=None)


def test_gateway_logs_in_as_the_bot(gateway, sandbox):
    assert gateway.bot_user == sandbox.bot.name


def test_revision_context_reads_tags_rights_parent_and_top_editor(gateway, sandbox, wiki, unique_title):
    admin, vandal, patroller = wiki(sandbox.admin), wiki(sandbox.vandals[0]), wiki(sandbox.patroller)
    base = admin.edit(unique_title, "Text.")
    rev = vandal.edit(unique_title, "#REDIRECT [[Elsewhere]]")
    ctx = gateway.revision_context(change_for(rev, base, unique_title, sandbox.vandals[0].name))
    assert ctx.parent_user == sandbox.admin.name and ctx.user == sandbox.vandals[0].name
    assert "mw-new-redirect" in ctx.tags and "edit" in ctx.editor_rights and "autopatrol" not in ctx.editor_rights
    assert ((ctx.top_rev_id, ctx.top_user, ctx.fully_protected, ctx.bot_blocks)
            == (rev, sandbox.vandals[0].name, False, ()))
    later = patroller.edit(unique_title, "Text, fixed.")
    ctx = gateway.revision_context(change_for(rev, base, unique_title, sandbox.vandals[0].name))
    assert (ctx.top_rev_id, ctx.top_user) == (later, sandbox.patroller.name)
    ctx = gateway.revision_context(change_for(later, rev, unique_title, sandbox.patroller.name))
    assert "autopatrol" in ctx.editor_rights


def test_ip_editors_get_the_rights_of_logged_out_users(gateway, sandbox, wiki, unique_title):
    base = wiki(sandbox.admin).edit(unique_title, "Text.")
    rev = wiki().edit(unique_title, "Text. From an IP.")
    ctx = gateway.revision_context(change_for(rev, base, unique_title, "127.0.0.1"))
    assert ctx.user == "127.0.0.1" and "edit" in ctx.editor_rights and "autopatrol" not in ctx.editor_rights


@pytest.mark.parametrize(("level", "full"), [("sysop", True), ("autoconfirmed", False)])
def test_full_protection_is_seen_and_semi_protection_is_not(gateway, sandbox, wiki, unique_title, level, full):
    admin = wiki(sandbox.admin)
    base = admin.edit(unique_title, "Text.")
    rev = admin.edit(unique_title, "Text. More.")
    admin.post(action="protect", title=unique_title, protections=f"edit={level}", expiry="1 hour",
               token=admin.token())
    ctx = gateway.revision_context(change_for(rev, base, unique_title, sandbox.admin.name))
    assert ctx.fully_protected is full


def test_rollback_when_someone_else_edited_since_is_reported_as_beaten(gateway, sandbox, wiki, unique_title):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    admin.edit(unique_title, "Text.")
    vandal.edit(unique_title, "Text. Bad.")
    admin.edit(unique_title, "Text. Fixed by hand.")
    result = gateway.rollback(unique_title, sandbox.vandals[1].name, "test rollback")
    assert (result.status, result.code) == ("beaten", "alreadyrolled")


def test_rollback_is_not_bot_flagged_and_reports_the_revert(gateway, sandbox, wiki, unique_title):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    admin.edit(unique_title, "Text.")
    vandal.edit(unique_title, "Text. Bad.")
    result = gateway.rollback(unique_title, sandbox.vandals[1].name, "test rollback")
    assert result.status == "done" and result.revert_rev_id
    rc = admin.get(action="query", list="recentchanges", rctitle=unique_title, rcprop="ids|flags",
                   rclimit=10)["query"]["recentchanges"]
    flags = {c["revid"]: c["bot"] for c in rc}
    assert flags[result.revert_rev_id] is False and not any(flags.values())


def test_rate_limited_rollback_comes_back_at_once_as_retry_later(gateway, sandbox, wiki, unique_title):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    extra = sandbox.dir / "conf/extra.php"
    generous = extra.read_text()
    extra.write_text("<?php\n$wgRateLimits['rollback']['user'] = [ 1, 60 ];\n")
    try:
        results = []
        for i in range(4):  # MediaWiki counts in time buckets: a small burst may pass
            page = f"{unique_title} {i}"
            admin.edit(page, "Text.")
            vandal.edit(page, "Text. Bad.")
            started = time.monotonic()
            results.append((gateway.rollback(page, sandbox.vandals[0].name, "test"), time.monotonic() - started))
    finally:
        extra.write_text(generous)
    statuses = [r.status for r, _ in results]
    assert "retry-later" in statuses, statuses
    limited = next((r, t) for r, t in results if r.status == "retry-later")
    assert limited[0].code == "ratelimited"
    assert limited[1] < 3.0, "a rate-limited rollback must not block the stream"


def test_config_page_reads_the_latest_revision(gateway, sandbox, wiki):
    admin = wiki(sandbox.admin)
    title = "MediaWiki:Automod-gateway-test.json"
    rev = admin.edit(title, '{"enabled": false, "mode": "log-only"}')
    page = gateway.config_page(title)
    assert page is not None and (page.rev_id, page.namespace, page.content_model) == (rev, 8, "json")
    assert '"log-only"' in page.text
    assert gateway.config_page("MediaWiki:No such page.json") is None
