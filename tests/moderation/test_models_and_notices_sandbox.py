"""ORES-style models, model agreement, config-change notices and reinstating confirmed
false positives — the real bot on the sandbox wiki with the Lift Wing stand-in."""

from __future__ import annotations

import pytest

from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import (
    REVERTING,
    score_from_wiki,
    set_config,
    top_revision,
)
from support.relay_helpers import wait_for
from support.store_evidence import sqlite_of

pytestmark = pytest.mark.sandbox
TALK = "MediaWiki talk:Automod-config.json"




def text_of(client, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


def test_damaging_and_goodfaith_models_revert_by_their_own_probabilities(sandbox, wiki, unique_title, bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    pages = [f"{unique_title} {i}" for i in range(3)]
    for page in pages:
        admin.edit(page, "Stable text.")
    set_config(admin, {**REVERTING, "model": "damaging", "threshold": 0.9})
    bot = bot_factory()
    line = bot.decision(vandal.edit(pages[0], "Stable text. VANDALISM"))
    assert (line["decision"], line["model"], line["probability"]) == ("reverted", "damaging", 0.995)
    bot.stop()
    set_config(admin, {**REVERTING, "model": "goodfaith", "threshold": 0.9})
    bot = bot_factory()
    line = bot.decision(vandal.edit(pages[1], "Stable text. VANDALISM"))
    assert (line["decision"], line["model"]) == ("reverted", "goodfaith")
    assert line["probability"] == pytest.approx(0.995)  # P(bad faith) = P(goodfaith = false)
    line = bot.decision(vandal.edit(pages[2], "Stable text. SCORE=0.5"))
    assert line["decision"] == "below-threshold" and line["probability"] == pytest.approx(0.5)


def test_a_model_the_wiki_lacks_disables_the_wiki(sandbox, wiki, unique_title, bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    admin.edit(unique_title, "Stable text.")
    set_config(admin, {**REVERTING, "model": "goodfaith", "threshold": 0.9})
    with running_standin(score_function=score_from_wiki(sandbox.api_url),
                         ores_models={"sandboxwiki": {"damaging"}}) as only_damaging:
        bot = bot_factory(standin=only_damaging)
        line = bot.decision(vandal.edit(unique_title, "Stable text. VANDALISM"))
        bot.stop()
    assert line["decision"] == "disabled" and "'goodfaith' is not available on this wiki" in line["reason"]
    assert top_revision(admin, unique_title)["user"] == sandbox.vandals[0].name


def test_with_two_models_both_must_agree_and_both_scores_are_recorded(sandbox, wiki, unique_title, bot_factory,
                                                                      tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    admin.edit(unique_title, "Stable text.")
    set_config(admin, {"enabled": True, "mode": "revert", "models": [
        {"model": "revertrisk-language-agnostic", "threshold": 0.99}, {"model": "damaging", "threshold": 0.999}]})
    bot = bot_factory()
    rev = vandal.edit(unique_title, "Stable text. SCORE=0.995")
    line = bot.decision(rev)
    assert line["decision"] == "below-threshold" and "damaging 0.9950 <= 0.999" in line["reason"]
    with Store(tmp_path / "automod.sqlite") as store:
        scores = {r["model"]: r["probability"]
                  for r in sqlite_of(store).execute("SELECT model, probability FROM scores WHERE rev_id = ?", (rev,))}
    assert scores == {"revertrisk-language-agnostic": 0.995, "damaging": 0.995}


def test_a_config_change_gets_one_talk_page_notice_with_its_expected_impact(sandbox, wiki, unique_title, bot_factory,
                                                                            tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, {**REVERTING, "mode": "log-only", "threshold": 0.96})
    pages = [f"{unique_title} {i}" for i in range(4)]
    for page in pages:
        admin.edit(page, "Stable text.")
    bot = bot_factory()
    for page, score in zip(pages, ("0.97", "0.98", "0.5", "0.995")):
        bot.decision(vandal.edit(page, f"Stable text. SCORE={score}"))
    before = text_of(admin, TALK).count("== Configuration revision")
    new_rev = set_config(admin, {**REVERTING, "mode": "log-only", "threshold": 0.975})
    wait_for(lambda: f"Configuration revision {new_rev} applied" in text_of(admin, TALK), timeout=10)
    talk = text_of(admin, TALK)
    section = talk[talk.index(f"Configuration revision {new_rev} applied"):]
    assert "<code>threshold</code> || <code>0.96</code> || <code>0.975</code>" in section
    with Store(tmp_path / "automod.sqlite") as store:
        scored = sqlite_of(store).execute("SELECT count(*) FROM scores"
                                          " WHERE model = 'revertrisk-language-agnostic'").fetchone()[0]
        above = lambda t: sqlite_of(store).execute("SELECT count(*) FROM scores"  # noqa: E731
                                                   " WHERE model = 'revertrisk-language-agnostic'"
                                                   " AND probability > ?", (t,)).fetchone()[0]
        assert f"({above(0.96)} of {scored} scored edits" in section
        assert f"({above(0.975)} of {scored} scored edits" in section
    assert f"[[User:{sandbox.admin.name}|" in section
    bad_rev = set_config(admin, {**REVERTING, "threshold": 0.2})
    wait_for(lambda: f"Configuration revision {bad_rev} is invalid" in text_of(admin, TALK), timeout=10)
    assert "$.threshold" in text_of(admin, TALK)
    assert text_of(admin, TALK).count("== Configuration revision") == before + 2  # one notice each
    set_config(admin, REVERTING)


def test_confirmed_false_positives_are_reinstated_once_and_only_on_an_untouched_page(sandbox, wiki, unique_title,
                                                                                     bot_factory, tmp_path):
    admin, vandal, patroller = wiki(sandbox.admin), wiki(sandbox.vandals[1]), wiki(sandbox.patroller)
    fp = f"User:{sandbox.bot.name}/False positives {unique_title[-8:]}"
    set_config(admin, {**REVERTING, "false_positive_page": fp})
    untouched, changed = f"{unique_title} untouched", f"{unique_title} changed"
    for page in (untouched, changed):
        admin.edit(page, "Stable text.")
    admin.edit(fp, "Reports.\n")
    bot = bot_factory()
    revs = {page: vandal.edit(page, "Stable text. VANDALISM that was fine") for page in (untouched, changed)}
    for rev in revs.values():
        assert bot.decision(rev)["decision"] == "reverted"
    admin.edit(changed, "Stable text. Someone edited since.")
    for page, rev in revs.items():
        patroller.post(action="edit", title=fp, section="new", sectiontitle=f"{page} (r{rev})",
                       text=f"<!-- automod-report rev={rev} -->\nThis was fine. ~~~~", token=patroller.token())
        wait_for(lambda: f"automod — revision {rev} ·" in text_of(admin, fp), timeout=10)
    report = text_of(admin, fp)
    admin.edit(fp, report.replace("status: open", "status: confirmed"))
    wait_for(lambda: f"revision {revs[untouched]} reinstated" in text_of(admin, fp), timeout=10)
    wait_for(lambda: "a human should restore it by hand" in text_of(admin, fp), timeout=10)
    assert text_of(admin, untouched) == "Stable text. VANDALISM that was fine"
    assert top_revision(admin, untouched)["user"] == sandbox.bot.name
    assert text_of(admin, changed) == "Stable text. Someone edited since."
    # Reviewers touch the page again: nothing is reinstated twice.
    admin.edit(fp, text_of(admin, fp) + "\nThanks! ~~~~")
    patroller.post(action="edit", title=fp, appendtext="\n\nAnother comment. ~~~~", token=patroller.token())
    wait_for(lambda: "Another comment." in text_of(admin, fp))
    import time
    time.sleep(1.5)  # give the bot the chance to (wrongly) act again
    assert sum(1 for r in admin.revisions(untouched) if r["user"] == sandbox.bot.name) == 2  # revert + restore
    with Store(tmp_path / "automod.sqlite") as store:
        statuses = {r.rev_id: r.status for r in store.reports("sandboxwiki")}
    assert statuses == {revs[untouched]: "reinstated", revs[changed]: "confirmed"}
