"""Outcome labels against the real sandbox wiki: a hand-made history of bot reverts, human
reverts (rollback, manual restore, undo of an older edit), an undone bot revert, kept edits
and a confirmed false-positive report. The label table and the threshold table must equal
what is counted here by hand. Scores and decisions are written to the store directly, as the
bot would have (the bot itself is exercised in test_moderation_sandbox.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from automod.cli import main
from automod.evidence import Labeller, build_table, observations_from_store, record_report_label, with_labels
from automod.evidence.labels import labels_for
from automod.records import Outcome, Verdict
from automod.store import MIGRATIONS, DecidedEdit, Store
from support.moderation_helpers import bot_settings
from support.wiki import run_jobs

pytestmark = pytest.mark.sandbox

MODEL = "revertrisk-language-agnostic"
BASE = "Stable text about the topic.\n\nA second paragraph with more facts."
HOURS_49 = 49 * 3600


def test_label_table_and_threshold_table_equal_the_hand_counts(sandbox, wiki, unique_title, tmp_path, capsys):
    admin, bot, patroller = wiki(sandbox.admin), wiki(sandbox.bot), wiki(sandbox.patroller)
    vandal1, vandal2, anon = wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1]), wiki()
    settings = bot_settings(sandbox, tmp_path, "http://127.0.0.1:9/")
    store = Store(tmp_path / "automod.sqlite", migrations=with_labels(MIGRATIONS))
    thorough = Store(tmp_path / "thorough.sqlite", migrations=with_labels(MIGRATIONS))  # reads every history
    name = sandbox.wiki
    expected: dict[int, set[str]] = {}
    probability: dict[int, float] = {}

    def page(key: str) -> str:
        title = f"{unique_title} {key}"
        admin.edit(title, BASE, summary="base")
        return title

    def scored(rev: int, title: str, user: str, p: float, labels: set[str], outcome: str = "below-threshold") -> None:
        for db in (store, thorough):
            db.record_decision(DecidedEdit(wiki=name, rev_id=rev, parent_id=None, title=title, user=user,
                                           event_dt=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                               Verdict(Outcome(outcome), model=MODEL, model_version="3", probability=p, threshold=0.99))
            db.record_score(name, rev, MODEL, "3", p)
        expected[rev], probability[rev] = labels, p

    def bot_rollback(title: str, rev: int, user: str) -> int:
        revert = int(bot.rollback(title, user, summary="automod: test revert")["revid"])
        for db in (store, thorough):
            db.record_action(name, rev, "rollback", "done", revert)
        return revert

    # 1. Reverted by the bot; nobody objects.
    t = page("bot revert stands")
    e1 = vandal1.edit(t, BASE + " VANDALISM")
    scored(e1, t, vandal1.name, 0.995, {"bot-reverted"}, "reverted")
    bot_rollback(t, e1, vandal1.name)
    # 2. Reverted by the bot; an admin undoes the bot's revert (a false positive).
    t = page("bot revert undone")
    e2 = vandal2.edit(t, BASE + " A fair addition")
    scored(e2, t, vandal2.name, 0.992, {"bot-reverted", "bot-revert-undone"}, "reverted")
    r2 = bot_rollback(t, e2, vandal2.name)
    admin.post(action="edit", title=t, undo=r2, token=admin.token(), summary="the bot was wrong")
    # 3. Below the bot's threshold, rolled back by an admin.
    t = page("human rollback")
    e3 = anon.edit(t, BASE + " nonsense from an IP")
    scored(e3, t, anon.name, 0.97, {"human-reverted"})
    admin.rollback(t, anon.name)
    # 4. Restored by hand by a patroller (identity revert without any revert tool).
    t = page("manual restore")
    e4 = vandal1.edit(t, BASE.replace("facts", "fiction"))
    scored(e4, t, vandal1.name, 0.6, {"human-reverted"})
    patroller.edit(t, BASE, summary="restore")
    # 5, 6. Kept.
    t = page("kept one")
    e5 = vandal2.edit(t, BASE + " A useful sentence.")
    scored(e5, t, vandal2.name, 0.3, {"kept"})
    t = page("kept two")
    e6 = anon.edit(t, BASE.replace("Stable", "Stable, sourced"))
    scored(e6, t, anon.name, 0.8, {"kept"})
    # 7. Reverted by the bot; the editor's false-positive report is confirmed.
    t = page("reported")
    e7 = vandal1.edit(t, BASE + " An unusual but true fact")
    scored(e7, t, vandal1.name, 0.996, {"bot-reverted", "fp-confirmed"}, "reverted")
    bot_rollback(t, e7, vandal1.name)
    record_report_label(store, name, e7, "declined")
    record_report_label(store, name, e7, "confirmed")  # the later verdict replaces the first
    record_report_label(thorough, name, e7, "confirmed")
    # 8. Undone by an admin after a later edit: no earlier text comes back, only mw-reverted says so.
    t = page("undo of an older edit")
    e8 = vandal2.edit(t, BASE.replace("Stable text", "Stable text BUY PILLS"))
    scored(e8, t, vandal2.name, 0.9, {"human-reverted"})
    admin.edit(t, BASE.replace("Stable text", "Stable text BUY PILLS").replace("second", "2nd"))
    admin.post(action="edit", title=t, undo=e8, token=admin.token(), summary="undo spam")
    run_jobs(sandbox)  # mw-reverted is added by the job queue

    def query(**params):
        return admin.get(action="query", **params)

    labeller = Labeller(min_age=0, batch=50)
    assert labeller.due(time.time())
    # Now: human reverts are final at once; bot reverts are known but still open to an undo.
    first = labeller.run_once(query, store, name, bot_user=sandbox.bot.name, budget_seconds=60)
    assert (first.checked, first.error) == (8, None)
    assert not labeller.due(time.time())
    now_labels = {rev: {label.label for label in labels_for(store, name, rev)} for rev in expected}
    assert now_labels == {e1: {"bot-reverted"}, e2: {"bot-reverted", "bot-revert-undone"}, e3: {"human-reverted"},
                          e4: {"human-reverted"}, e5: set(), e6: set(), e7: {"bot-reverted", "fp-confirmed"},
                          e8: {"human-reverted"}}
    assert first.settled == 4  # e2, e3, e4, e8
    # 49 hours later: the rest is settled.
    later = labeller.run_once(query, store, name, bot_user=sandbox.bot.name, now=time.time() + HOURS_49,
                              budget_seconds=60)
    assert later.checked == 4 and later.settled == 4
    assert labeller.run_once(query, store, name, bot_user=sandbox.bot.name, now=time.time() + 2 * HOURS_49).checked == 0

    table = {rev: {label.label for label in labels_for(store, name, rev)} for rev in expected}
    assert table == expected
    # Reading every page history, not only those MediaWiki tagged, finds the same.
    Labeller(min_age=0, history_always=True).run_once(query, thorough, name, bot_user=sandbox.bot.name,
                                                      now=time.time() + HOURS_49, budget_seconds=60)
    assert {rev: {label.label for label in labels_for(thorough, name, rev)} for rev in expected} == expected
    thorough.close()
    by = {(label.rev_id, label.label): label for label in labels_for(store, name)}
    assert by[(e3, "human-reverted")].source == "identity-revert"
    assert by[(e3, "human-reverted")].by_user == sandbox.admin.name
    assert by[(e4, "human-reverted")].by_user == sandbox.patroller.name
    assert by[(e8, "human-reverted")].source == "mw-reverted-tag"
    assert by[(e2, "bot-revert-undone")].by_user == sandbox.admin.name
    assert by[(e1, "bot-reverted")].by_user == sandbox.bot.name
    assert by[(e7, "fp-confirmed")].source == "report"

    # The threshold table, by hand: bad = e1, e3, e4, e8 (the bot's revert of e1 stood);
    # fine = e2 (undone), e5, e6 (kept), e7 (report confirmed).
    bad = {e1, e3, e4, e8}
    hand = {}
    for t in (0.5, 0.85, 0.95, 0.99):
        above = [rev for rev, p in probability.items() if p > t]
        hand[t] = (len(above), len(set(above) & bad), len(set(above) - bad))
    assert hand == {0.5: (7, 4, 3), 0.85: (5, 3, 2), 0.95: (4, 2, 2), 0.99: (3, 1, 2)}
    rows = {r.threshold: r for r in build_table(observations_from_store(store, name, MODEL)).rows}
    for t, (would, tp, fp) in hand.items():
        assert (rows[t].would_revert, rows[t].true_positives, rows[t].false_positives) == (would, tp, fp)
        assert rows[t].precision == pytest.approx(tp / would) and rows[t].recall == pytest.approx(tp / len(bad))
    store.close()

    # The same through the command, with the current threshold read from the store, published on-wiki.
    os.environ.setdefault("PYWIKIBOT_DIR", str(sandbox.pywikibot_dir))
    out_page = f"{unique_title} threshold table"
    assert main(["thresholds", "--settings", str(settings), "--wiki", name, "--json", "--out",
                 str(tmp_path / "th"), "--publish", out_page]) == 0
    cli_rows = {r["threshold"]: r for r in json.loads(capsys.readouterr().out)}
    for t, (would, tp, fp) in hand.items():
        assert (cli_rows[t]["would_revert"], cli_rows[t]["false_positives"]) == (would, fp)
        assert cli_rows[t]["per_day"] == would  # minutes of data count as one day
    assert Path(tmp_path / "th.png").stat().st_size > 10_000
    text = admin.revisions(out_page, limit=1)[0]["slots"]["main"]["content"]
    assert '{| class="wikitable sortable"' in text and "| current" in text
