"""`automod backtest` against the sandbox: the live bot moderates a window of edits; a replay
of that window from the stream, in its own store and without acting, must take the same
decisions (would-revert where the bot reverted), then label and tabulate them."""

from __future__ import annotations

import io
import json
import os
import time

import pytest

from automod.cli import main
from automod.moderation import BacktestOptions, backtest
from automod.settings import load_settings
from automod.store import Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import (
    REVERTING,
    Bot,
    bot_settings,
    relay_connections,
    score_from_wiki,
    set_config,
    start_at_stream_end,
    wait_connected,
)
from support.store_evidence import sqlite_of
from support.wiki import run_jobs

pytestmark = pytest.mark.sandbox


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def decisions(path, since: str) -> dict[int, tuple[str, str | None]]:
    with Store(path) as store:
        rows = sqlite_of(store).execute("SELECT rev_id, outcome, reason FROM decisions WHERE event_dt >= ?",
                                        (since,)).fetchall()
    return {int(r[0]): (r[1], r[2]) for r in rows}


def test_backtest_reproduces_the_live_decisions_and_resumes(sandbox, wiki, unique_title, tmp_path, capsys):
    os.environ.setdefault("PYWIKIBOT_DIR", str(sandbox.pywikibot_dir))
    admin, patroller = wiki(sandbox.admin), wiki(sandbox.patroller)
    vandal1, vandal2, anon = wiki(sandbox.vandals[0]), wiki(sandbox.vandals[1]), wiki()
    with running_standin(score_function=score_from_wiki(sandbox.api_url)) as liftwing:
        set_config(admin, REVERTING)
        settings_path = bot_settings(sandbox, tmp_path, liftwing.url)
        start_at_stream_end(sandbox, tmp_path)
        before = relay_connections(sandbox)
        bot = Bot(settings_path)
        try:
            wait_connected(sandbox, before, bot)
            time.sleep(1.0)
            since = iso(time.time())
            pages = [f"{unique_title} {i}" for i in range(3)]
            created = [admin.edit(title, f"Article {i}.") for i, title in enumerate(pages)]
            edits = [
                (vandal1, pages[0], "Article 0. VANDALISM"),                # reverted
                (vandal2, pages[1], "Article 1. SCORE=0.95"),               # below the threshold
                (patroller, pages[2], "Article 2. VANDALISM too"),          # trusted editor: skipped
                (anon, pages[1], "Article 1. SCORE=0.993"),                 # reverted
                (vandal1, pages[2], "Article 2. VANDALISM too. SCORE=0.6"),  # below
            ]
            # One at a time: whether an edit is still on top when the live bot looks depends on
            # timing, which a replay cannot reproduce (it judges each edit as of its saving).
            live_lines = {}
            for client, title, text in edits:
                rev = client.edit(title, text)
                live_lines[rev] = bot.decision(rev)
            revs = list(live_lines)
            bot_reverts = [line["revert_rev_id"] for line in live_lines.values() if line["decision"] == "reverted"]
            assert len(bot_reverts) == 2
            for rev in bot_reverts:  # the bot sees its own rollbacks go by
                bot.decision(rev)
        finally:
            bot.stop()
        live = decisions(tmp_path / "automod.sqlite", since)
        assert set(created) | set(revs) | set(bot_reverts) <= set(live)

        run_jobs(sandbox)  # MediaWiki tags reverted edits (mw-reverted) from its job queue
        settings = load_settings(settings_path)
        store_path = tmp_path / "backtest.sqlite"
        progress = io.StringIO()
        options = BacktestOptions(wiki=sandbox.wiki, since=since, until=iso(time.time() + 1), store=store_path,
                                  idle_seconds=2.0, label_wait=20.0)
        table = backtest(settings, options, progress=progress)
        replayed = decisions(store_path, since)
        expected = {rev: ("would-revert", "dry-run") if outcome == "reverted" else (outcome, reason)
                    for rev, (outcome, reason) in live.items()}
        assert replayed == expected
        assert sorted(o for o, _ in replayed.values()).count("would-revert") == 2
        assert "backtest sandboxwiki:" in progress.getvalue() and "labels sandboxwiki:" in progress.getvalue()

        rows = {r.threshold: r for r in table.rows}
        assert (rows[0.99].would_revert, rows[0.9].would_revert, rows[0.5].would_revert) == (2, 3, 4)
        assert rows[0.99].labelled == 2 and rows[0.99].precision == 1.0  # the bot's reverts stood
        assert table.current == 0.99

        # Interrupted or finished, the same command resumes from its stored position: nothing twice.
        assert main(["backtest", "--settings", str(settings_path), "--wiki", sandbox.wiki, "--since", since,
                     "--store", str(store_path), "--idle-seconds", "1", "--label-wait", "5", "--json"]) == 0
        captured = capsys.readouterr()
        assert "backtest sandboxwiki: 0 events" in captured.err
        assert {r["threshold"]: r for r in json.loads(captured.out)}[0.99]["would_revert"] == 2
        assert decisions(store_path, since) == replayed
