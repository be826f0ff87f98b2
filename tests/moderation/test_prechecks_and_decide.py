"""The pure decision core: skip rules in order, each with its reason; thresholds; modes."""

from __future__ import annotations

import dataclasses

import pytest

from automod.config import CommunityConfig, ModelChoice
from automod.moderation.decide import breaker_trips, decide
from automod.moderation.skip_rules import EditFacts, cheap_skip, context_skip
from automod.records import BlockInfo, EventMeta, RecentChange, RevisionContext
from automod.scoring import Score

NOW = 1_800_000_000.0
BOT = "AutomodBot"


def change(**kw) -> RecentChange:
    base = dict(meta=EventMeta(id="x", dt="2027-01-15T08:00:00Z", domain="127.0.0.1", stream="s"),
                wiki="w", server_name="s", type="edit", namespace=0, title="Page", user="192.0.2.1",
                bot=False, timestamp=int(NOW) - 30, comment="", minor=False, rc_id=1, rev_id=11,
                parent_id=10, length_old=5, length_new=9)
    return RecentChange(**{**base, **kw})


def context(**kw) -> RevisionContext:
    base = dict(rev_id=11, page_id=3, title="Page", namespace=0, user="192.0.2.1", tags=frozenset(),
                parent_id=10, parent_user="Alice", editor_rights=frozenset({"edit", "read"}),
                fully_protected=False, top_rev_id=11, top_user="192.0.2.1", bot_blocks=())
    return RevisionContext(**{**base, **kw})


def facts(change_kw=None, ctx_kw=None, config=None, reverts=0, **fields) -> EditFacts:
    return EditFacts(change=change(**(change_kw or {})), config=config or CommunityConfig(enabled=True),
                     bot_user=BOT, now=NOW, reverts_of_user_on_page_24h=reverts,
                     context=context(**(ctx_kw or {})), **fields)


def skip(f: EditFacts) -> str | None:
    """The recorded reason (a rule returns a ``Skip``, whose string is what is recorded)."""
    found = cheap_skip(f) or context_skip(f)
    return str(found) if found else None


CASES = {
    "ordinary-ip-edit-is-scored": ({}, {}, 0, None),
    "sitewide-block-of-bot": ({}, {"bot_blocks": (BlockInfo(sitewide=True),)}, 0, "bot-blocked"),
    "partial-block-on-this-page": ({}, {"bot_blocks": (BlockInfo(False, frozenset({3})),)}, 0, "bot-blocked"),
    "partial-block-on-other-page": ({}, {"bot_blocks": (BlockInfo(False, frozenset({4})),)}, 0, None),
    "partial-block-on-namespace": ({}, {"bot_blocks": (BlockInfo(False, namespaces=frozenset({0})),)}, 0,
                                   "bot-blocked"),
    "bots-own-edit": ({"user": BOT}, {"user": BOT, "top_user": BOT}, 0, "own-edit"),
    "page-creation": ({"type": "new", "parent_id": None}, {}, 0, "page-creation"),
    "parent-zero-is-creation": ({"parent_id": 0}, {}, 0, "page-creation"),
    "already-tagged-reverted": ({}, {"tags": frozenset({"mw-reverted"})}, 0, "already-reverted"),
    "undo-of-the-bot-by-an-ip-is-scored": ({}, {"tags": frozenset({"mw-undo"}), "parent_user": BOT}, 0, None),
    "undo-of-the-bot-by-an-autoconfirmed-sock-is-scored": (
        {"user": "Carol"}, {"user": "Carol", "top_user": "Carol", "tags": frozenset({"mw-undo"}), "parent_user": BOT,
                            "editor_rights": frozenset({"edit", "autoconfirmed"})}, 0, None),
    "undo-of-the-bot-by-a-rollbacker": (
        {"user": "Carol"}, {"user": "Carol", "top_user": "Carol", "tags": frozenset({"mw-undo"}), "parent_user": BOT,
                            "editor_rights": frozenset({"edit", "autoconfirmed", "rollback"})}, 0, "revert-of-bot"),
    "manual-restore-of-bot-revert-by-a-new-account-is-scored": (
        {"user": "Sock"}, {"user": "Sock", "top_user": "Sock", "tags": frozenset({"mw-manual-revert"}),
                           "parent_user": BOT, "editor_rights": frozenset({"edit"})}, 0, None),
    "own-revert-not-checked-against-the-run-is-scored": (
        {}, {"tags": frozenset({"mw-rollback"}), "parent_user": "192.0.2.1"}, 0, None),
    "manual-revert-of-another-human-is-scored": ({}, {"tags": frozenset({"mw-manual-revert"})}, 0, None),
    "revert-with-hidden-parent-user": ({}, {"tags": frozenset({"mw-undo"}), "parent_user": None}, 0,
                                       "revert-of-unknown-parent"),
    "redirect-change-is-scored": ({}, {"tags": frozenset({"mw-changed-redirect-target"})}, 0, None),
    "redirect-over-an-article-is-scored": ({}, {"tags": frozenset({"mw-new-redirect"})}, 0, None),
    "editor-with-autopatrol": ({}, {"editor_rights": frozenset({"edit", "autopatrol"})}, 0,
                               "editor-has-right:autopatrol"),
    "group-name-is-not-a-right": ({}, {"editor_rights": frozenset({"edit", "sysop"})}, 0, None),
    "user-page": ({"namespace": 2}, {"namespace": 2}, 0, "not-namespace-0"),
    "fully-protected": ({}, {"fully_protected": True}, 0, "fully-protected"),
    "edit-older-than-limit": ({"timestamp": int(NOW) - 601}, {}, 0, "too-old"),
    "edit-just-within-limit": ({"timestamp": int(NOW) - 600}, {}, 0, None),
    "someone-edited-since": ({}, {"top_rev_id": 12, "top_user": "Bob"}, 0, "not-top-editor"),
    "same-editor-edited-again": ({}, {"top_rev_id": 12}, 0, None),
    "cap-reached": ({}, {}, 1, "cap-reached"),
    # order: the kill switch beats everything; cheap reasons are found without the wiki
    "blocked-and-old": ({"timestamp": 0}, {"bot_blocks": (BlockInfo(True),)}, 0, "too-old"),
}


@pytest.mark.parametrize(("change_kw", "ctx_kw", "reverts", "reason"), CASES.values(),
                         ids=[f"prechecks:{k}" for k in CASES])
def test_skip_rules_give_their_reason(change_kw, ctx_kw, reverts, reason):
    assert skip(facts(change_kw, ctx_kw, reverts=reverts)) == reason


def test_cheap_rules_never_need_the_wiki():
    f = dataclasses.replace(facts({"timestamp": 0}), context=None)
    assert str(cheap_skip(f)) == "too-old"
    with pytest.raises(RuntimeError):
        context_skip(f)


def test_cap_zero_means_unlimited():
    assert skip(facts(config=CommunityConfig(enabled=True, max_reverts_per_user_per_page=0), reverts=50)) is None


def test_cap_counts_per_user_name_so_ips_do_not_share_a_bucket():
    # the count is per (user name, page): a different IP arrives with its own count of 0
    assert skip(facts({"user": "192.0.2.99"}, {"user": "192.0.2.99", "top_user": "192.0.2.99"}, reverts=0)) is None


def cfg(**kw) -> CommunityConfig:
    return CommunityConfig(**{"enabled": True, "mode": "revert", **kw})


def score(p: float, model="revertrisk-language-agnostic") -> Score:
    return Score(probability=p, model=model, version="3")


def test_score_equal_to_threshold_does_not_revert():
    d = decide([score(0.99)], cfg())
    assert d.outcome == "below-threshold" and d.threshold == 0.99


def test_score_above_threshold_reverts():
    d = decide([score(0.9901)], cfg())
    assert (d.outcome, d.reason, d.probability) == ("revert", "above-threshold", 0.9901)


@pytest.mark.parametrize(("kw", "reason"),
                         [({"dry_run": True}, "dry-run"), ({"breaker_tripped": True}, "circuit-breaker")])
def test_dry_run_and_breaker_turn_reverts_into_records(kw, reason):
    d = decide([score(0.999)], cfg(), **kw)
    assert (d.outcome, d.reason) == ("would-revert", reason)


def test_log_only_mode_records_would_revert():
    assert decide([score(0.999)], cfg(mode="log-only")).outcome == "would-revert"


def test_every_model_must_agree():
    two = cfg(models=(ModelChoice("revertrisk-language-agnostic", 0.95), ModelChoice("revertrisk-multilingual", 0.9)))
    assert decide([score(0.99), score(0.95, "revertrisk-multilingual")], two).outcome == "revert"
    d = decide([score(0.99), score(0.85, "revertrisk-multilingual")], two)
    assert d.outcome == "below-threshold" and "revertrisk-multilingual" in d.reason


def test_breaker_trips_when_one_more_revert_would_exceed_the_hourly_limit():
    assert not breaker_trips(29, cfg()) and breaker_trips(30, cfg())


def test_the_reverted_editor_undoing_the_bot_is_scored_even_when_a_rollbacker():
    f = facts({"user": "Mallory"}, {"user": "Mallory", "top_user": "Mallory", "tags": frozenset({"mw-undo"}),
                                    "parent_user": BOT, "editor_rights": frozenset({"edit", "rollback"})})
    assert skip(f) == "revert-of-bot"
    assert skip(dataclasses.replace(f, reverted_user="Mallory")) is None


def test_the_community_chooses_who_may_undo_the_bot():
    ctx = {"user": "Carol", "top_user": "Carol", "tags": frozenset({"mw-undo"}), "parent_user": BOT,
           "editor_rights": frozenset({"edit", "autoconfirmed"})}
    assert CommunityConfig().trusted_restorer_rights == frozenset({"rollback"})  # the default cannot be farmed
    assert skip(facts({"user": "Carol"}, ctx)) is None
    assert skip(facts({"user": "Carol"}, {**ctx, "editor_rights": frozenset({"rollback"})})) == "revert-of-bot"
    patrol = CommunityConfig(enabled=True, trusted_restorer_rights=frozenset({"patrol"}))
    patroller = {**ctx, "editor_rights": frozenset({"patrol"})}
    assert skip(facts({"user": "Carol"}, patroller, config=patrol)) == "revert-of-bot"


# -- self-revert: only the text before the editor's own run -----------------------------------

OWN_REVERT = {"tags": frozenset({"mw-manual-revert"}), "parent_user": "192.0.2.1"}


def test_a_self_revert_restoring_the_text_before_the_editors_run_is_skipped():
    assert skip(facts({}, OWN_REVERT, restores_text_before_run=True)) == "self-revert"


def test_restoring_an_old_vandalised_text_after_ones_own_harmless_edit_is_scored():
    # the laundering: a harmless edit, then the exact text of an older (vandalised) revision;
    # MediaWiki tags it a manual revert and the parent is the editor's own
    assert skip(facts({}, OWN_REVERT, restores_text_before_run=False)) is None


def test_the_run_check_is_read_only_for_reverts_of_ones_own_edit():
    from automod.moderation.skip_rules import needs_run_check
    assert needs_run_check(facts({}, OWN_REVERT))
    assert not needs_run_check(facts({}, {"tags": frozenset({"mw-undo"}), "parent_user": BOT}))
    assert not needs_run_check(facts({}, {"parent_user": "192.0.2.1"}))


# -- experienced editors: unreverted article edits and account age -----------------------------

def experienced_cfg(**kw) -> CommunityConfig:
    return CommunityConfig(enabled=True, skip_editors_with_edits_at_least=50, **kw)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"editor_edit_count": 500}, None),  # the raw count (50 userspace edits in 3 s) never passes
    ({"editor_edit_count": 500, "article_edits": 49, "account_age_days": 400.0}, None),
    ({"article_edits": 50, "account_age_days": 0.01}, None),  # a fresh account with farmed article edits
    ({"article_edits": 50, "account_age_days": None}, None),  # registration unknown
    ({"article_edits": 50, "account_age_days": 30.0}, "experienced-editor"),
    ({"article_edits": 5000, "account_age_days": 29.9}, None),
], ids=["raw-count", "too-few-article-edits", "fresh-account", "unknown-age", "experienced", "one-day-short"])
def test_experience_is_unreverted_article_edits_and_account_age(fields, reason):
    assert skip(facts(config=experienced_cfg(), **fields)) == reason


def test_the_community_sets_the_account_age():
    f = facts(config=experienced_cfg(skip_editors_min_account_days=0), article_edits=50, account_age_days=0.01)
    assert skip(f) == "experienced-editor"
    assert skip(dataclasses.replace(f, config=CommunityConfig(enabled=True))) is None  # rule off


# -- another user's edit on top: the previous edit re-examined (shield.py) -------------------

def test_a_re_examined_edit_may_have_the_one_follower_on_top():
    on_top = {"top_rev_id": 12, "top_user": "192.0.2.50"}
    assert skip(facts({}, on_top)) == "not-top-editor"
    assert skip(facts({}, on_top, follower_rev_id=12)) is None
    assert skip(facts({}, {"top_rev_id": 13, "top_user": "192.0.2.50"}, follower_rev_id=12)) == "not-top-editor"


def test_only_an_untrusted_follower_within_seconds_brings_the_previous_edit_back():
    from automod.moderation.shield import SHIELD_WINDOW_S, follows_within_window, may_shield
    from automod.records import Outcome, Verdict
    from automod.store import Decision

    def recorded(outcome, reason=None):
        return Decision("w", 10, 9, "Page", "192.0.2.1", "dt", outcome, reason, None, None, None, None, 1, NOW)
    below, skipped = Verdict(Outcome.BELOW_THRESHOLD, "x"), Verdict(Outcome.SKIP, "editor-has-right:autopatrol")
    assert may_shield(recorded("skip", "not-top-editor"), below)
    assert may_shield(recorded("beaten", "handled by someone else"), Verdict(Outcome.REVERT))
    assert not may_shield(recorded("skip", "not-top-editor"), skipped)  # a trusted editor on top: humans decide
    assert not may_shield(recorded("below-threshold"), below) and not may_shield(None, below)
    vandal = change(rev_id=10, parent_id=9, user="192.0.2.1", timestamp=int(NOW) - 40)
    ok = change(rev_id=11, parent_id=10, user="192.0.2.50", timestamp=int(NOW) - 38)
    assert follows_within_window(vandal, ok)
    assert not follows_within_window(vandal, change(user="192.0.2.1", timestamp=int(NOW) - 38))  # the same user
    assert not follows_within_window(vandal, change(user="192.0.2.50", timestamp=int(NOW) - 40 + SHIELD_WINDOW_S + 1))


# -- the breaker heals -------------------------------------------------------------------------

def test_the_breaker_closes_only_after_its_window_and_while_the_rate_is_low():
    from automod.moderation.decide import breaker_heals, rate_window_start
    c = cfg(max_reverts_per_hour=30, breaker_heal_seconds=1800)  # 15 in the half hour is the rate limit
    assert not breaker_heals(1799, 0, c)  # not open long enough
    assert breaker_heals(1800, 14, c)
    assert not breaker_heals(7200, 15, c)  # a flood still under way (would-reverts count) keeps it open
    assert rate_window_start(NOW, None) == NOW - 3600
    assert rate_window_start(NOW, NOW - 60) == NOW - 60  # reverts before it closed do not trip it again
