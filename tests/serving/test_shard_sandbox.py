"""`automod shard`: the served wikis split across jobs, balanced by edit rate; two shards run
side by side on the two-wiki sandbox and each edit is decided by exactly one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from automod.errors import ConfigError
from automod.records import Outcome, Verdict
from automod.serving import parse_rates, plan_shards, rates_from_store
from automod.settings import load_settings
from automod.store import DecidedEdit, Store
from support.liftwing_standin import running_standin
from support.moderation_helpers import REVERTING, TOPIC, Bot, score_from_wiki, set_config, wait_connected
from support.multiwiki import client_for
from support.settings_files import write_settings


def shard(*args: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "automod", "shard", *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


def test_shards_are_balanced_by_rate_and_never_share_a_wiki():
    rates = {"enwiki": 120.0, "dewiki": 60.0, "frwiki": 50.0, "eswiki": 40.0, "itwiki": 30.0, "rowiki": 1.0}
    shards = plan_shards(sorted(rates), rates, 2)
    assigned = [w for s in shards for w in s.wikis]
    assert sorted(assigned) == sorted(rates) and len(set(assigned)) == len(assigned)
    assert {s.rate for s in shards} == {151.0, 150.0}  # greedy, busiest first
    assert plan_shards(sorted(rates), rates, 2) == shards  # the same inputs, the same shards
    assert [len(s.wikis) for s in plan_shards(["a", "b", "c"], {}, 3)] == [1, 1, 1]
    with pytest.raises(ConfigError, match="every shard needs at least one wiki"):
        plan_shards(["enwiki"], rates, 2)
    assert parse_rates("enwiki=10, frwiki=2.5") == {"enwiki": 10.0, "frwiki": 2.5}
    for bad in ("enwiki", "enwiki=-1", "=3", "enwiki=lots"):
        with pytest.raises(ConfigError, match="bad rate"):
            parse_rates(bad)


def _central_settings(tmp_path: Path) -> Path:
    """Five wikis; metawiki holds the central page, which may govern all but the opted-out two."""
    names = ["enwiki", "dewiki", "metawiki", "rowiki", "kwwiki"]
    data = {"user_agent": "automod-test/0.1 (test)", "store": "automod.sqlite",
            "stream": {"url": "http://127.0.0.1:9/v2/stream/recentchange"},
            "wikis": [{"name": n, "api": f"http://127.0.0.1:9/{n}/api.php"} for n in names],
            "central_config": {"wiki": "metawiki", "page": "MediaWiki:Automod-central.json",
                               "opted_out": ["enwiki", "dewiki"], "summary_page": "Automod/Summary"}}
    path = tmp_path / "settings.yaml"
    write_settings(path, data)
    return path


def test_with_a_central_config_every_shard_file_is_valid_and_the_governed_wikis_stay_with_the_central_wiki(tmp_path):
    settings = _central_settings(tmp_path)
    out = tmp_path / "shards"
    summary = shard("--settings", str(settings), "--jobs", "3", "--out", str(out),
                    "--rates", "enwiki=150000,dewiki=40000,metawiki=500,rowiki=900,kwwiki=20")
    loaded = [load_settings(s["settings"]) for s in summary["shards"]]  # each valid as `automod run` reads it
    assert sorted(w for s in loaded for w in s.served_wikis) == sorted(load_settings(settings).served_wikis)
    central = next(s for s in loaded if "metawiki" in s.served_wikis)
    assert central.served_wikis == {"metawiki", "rowiki", "kwwiki"}  # with every wiki its page may govern
    assert central.central_config is not None and central.central_config.opted_out == frozenset()
    assert central.central_config.summary_page == "Automod/Summary"
    others = [s for s in loaded if s is not central]
    assert sorted(sorted(s.served_wikis) for s in others) == [["dewiki"], ["enwiki"]]
    assert all(s.central_config is None for s in others)  # opted out: nothing to govern there


def test_a_split_that_cannot_give_valid_shard_files_fails_clearly_and_writes_nothing(tmp_path):
    settings = _central_settings(tmp_path)
    out = tmp_path / "shards"
    res = subprocess.run([sys.executable, "-m", "automod", "shard", "--settings", str(settings), "--jobs", "4",
                          "--out", str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 1, res.stderr
    assert "4 jobs for 3 shardable unit(s) (kwwiki, metawiki, rowiki stay together" in res.stderr
    assert not out.exists()
    # Planned by hand without the central group, the shard lacking the central wiki is refused.
    from automod.serving import write_shards

    with pytest.raises(ConfigError, match="shard 1 would serve kwwiki, rowiki without the central wiki metawiki"):
        write_shards(settings, plan_shards(["enwiki", "dewiki", "metawiki", "rowiki", "kwwiki"],
                                           {"metawiki": 5.0, "rowiki": 1.0, "kwwiki": 1.0}, 2), out)
    assert not out.exists()


def test_rates_come_from_the_stores_recent_decisions(tmp_path):
    path = tmp_path / "automod.sqlite"
    with Store(path) as store:
        for n in range(14):
            store.record_decision(DecidedEdit(wiki="enwiki" if n < 10 else "frwiki", rev_id=n, parent_id=None,
                                              title="T", user="U", event_dt="2024-01-01T00:00:00Z"),
                                  Verdict(Outcome.SKIP))
    assert rates_from_store(path, ["enwiki", "frwiki", "rowiki"], days=2) == {"enwiki": 5.0, "frwiki": 2.0,
                                                                              "rowiki": 0.0}
    assert rates_from_store(tmp_path / "none.sqlite", ["enwiki"]) == {"enwiki": 0.0}


def _operator_files(tmp_path: Path) -> Path:
    """A bot's folder as an operator has it: settings naming three wikis, a pywikibot directory with
    its credentials, and a store with a history (decisions, a report, a label, the stream position)."""
    home = tmp_path / "bot"
    pwb = home / "pywikibot"
    pwb.mkdir(parents=True)
    (pwb / "user-config.py").write_text("family = 'wikipedia'\nmylang = 'en'\n"
                                        "usernames['wikipedia']['*'] = 'AutomodBot'\n"
                                        "password_file = 'user-password.py'\nput_throttle = 0\n")
    (pwb / "user-password.py").write_text("('AutomodBot', BotPassword('automod', 'x' * 32))\n")
    (pwb / "user-password.py").chmod(0o600)
    names = ["enwiki", "frwiki", "rowiki"]
    with Store(home / "automod.sqlite") as store:
        for n, wiki in enumerate(names * 3):
            store.record_decision(DecidedEdit(wiki=wiki, rev_id=100 + n, parent_id=99, title="T", user=f"U{n}",
                                              event_dt="2024-01-01T00:00:00Z"), Verdict(Outcome.SKIP))
        store.upsert_report(wiki="frwiki", rev_id=101, kind="explicit", page="User:AutomodBot/False positives",
                            status="open", reporter="U1")
        store.record_label("rowiki", 102, "reverted", "history")
        store.save_position("http://127.0.0.1:9/v2/stream/recentchange", '[{"offset": 41}]', "2024-01-01T00:00:00Z")
    data = {"user_agent": "automod-test/0.1 (test)", "store": "automod.sqlite", "pywikibot_dir": "pywikibot",
            "stream": {"url": "http://127.0.0.1:9/v2/stream/recentchange"},
            "wikis": [{"name": n, "api": f"http://127.0.0.1:9/{n}/api.php"} for n in names]}
    return write_settings(home / "settings.yaml", data)


def test_shard_files_live_under_out_with_their_own_pywikibot_dir_and_a_store_seeded_with_their_wikis(tmp_path):
    settings = _operator_files(tmp_path)
    out = tmp_path / "elsewhere" / "shards"
    summary = shard("--settings", str(settings), "--jobs", "2", "--out", str(out),
                    "--rates", "enwiki=900,frwiki=300,rowiki=200")
    jobs = yaml.safe_load((out / "jobs.yaml").read_text())
    loaded = [load_settings(s["settings"]) for s in summary["shards"]]
    for job, shard_settings, entry in zip(jobs, loaded, summary["shards"]):
        # The job runs the file `shard` wrote, wherever --out is; its logs are there too.
        assert job["command"].endswith(f"automod run --settings {out / Path(entry['settings']).name}")
        assert "$HOME/automod/shards" not in json.dumps(job)
        assert Path(job["filelog-stderr"]).parent == out / "logs" and (out / "logs").is_dir()
        # Its own pywikibot directory (one per running bot), under --out.
        assert shard_settings.pywikibot_dir is not None and shard_settings.pywikibot_dir.parent == out
        # Its store carries the source store's history of its own wikis only, and the stream position.
        with Store(shard_settings.store) as store:
            for n, wiki in enumerate(["enwiki", "frwiki", "rowiki"] * 3):
                assert store.has_decision(wiki, 100 + n) == (wiki in shard_settings.served_wikis)
            assert store.position("http://127.0.0.1:9/v2/stream/recentchange").event_id == '[{"offset": 41}]'
            assert [r.rev_id for r in store.reports("frwiki")] == ([101] if "frwiki" in shard_settings.served_wikis
                                                                  else [])
            assert [lb.rev_id for lb in store.labels_for("rowiki")] == ([102] if "rowiki" in
                                                                       shard_settings.served_wikis else [])
    assert len({s.pywikibot_dir for s in loaded}) == 2
    # pywikibot reads the operator's settings through each shard's directory, and its password
    # file where it is: no credential was copied.
    probe = ("import pywikibot.config as c; import json; "
             "print(json.dumps([c.base_dir, str(c.password_file), c.usernames['wikipedia']['*'], c.put_throttle]))")
    for shard_settings in loaded:
        res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                             env={**os.environ, "PYWIKIBOT_DIR": str(shard_settings.pywikibot_dir)})
        base, password_file, user, throttle = json.loads(res.stdout.strip().splitlines()[-1])
        assert Path(base) == shard_settings.pywikibot_dir
        assert Path(password_file) == tmp_path / "bot" / "pywikibot" / "user-password.py"
        assert (user, throttle) == ("AutomodBot", 0)
        assert not (shard_settings.pywikibot_dir / "user-password.py").exists()
    # Run again into the same folder: the seeded stores are not overwritten.
    res = subprocess.run([sys.executable, "-m", "automod", "shard", "--settings", str(settings), "--jobs", "2",
                          "--out", str(out), "--rates", "enwiki=900"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "already exist" in res.stderr


def _start_at_stream_end(info, store: Path) -> None:
    events = int(requests.get(f"{info.relay_url}/health", timeout=5).json()["events"])
    with Store(store) as db:
        ident = json.dumps([{"topic": TOPIC, "partition": 0, "offset": events - 1}], separators=(",", ":"))
        db.save_position(info.stream_url, ident, None)


@pytest.mark.sandbox
def test_two_shards_run_side_by_side_and_each_edit_is_decided_once(two_wikis, tmp_path):
    info = two_wikis
    first, second = info.wikis
    scorers = {w.name.removesuffix("wiki"): score_from_wiki(w.api_url) for w in info.wikis}
    with running_standin(score_function=lambda lang, rev: scorers[lang](lang, rev)) as liftwing:
        data = yaml.safe_load(info.settings.read_text())
        data["store"] = str(tmp_path / "automod.sqlite")
        data["liftwing"]["url"] = liftwing.url
        settings = tmp_path / "settings.yaml"
        write_settings(settings, data)
        out = tmp_path / "shards"
        summary = shard("--settings", str(settings), "--jobs", "2", "--out", str(out),
                        "--rates", f"{first.name}=900,{second.name}=300")
        files = [Path(s["settings"]) for s in summary["shards"]]
        served = [load_settings(f).served_wikis for f in files]
        assert set(served) == {frozenset({first.name}), frozenset({second.name})}
        assert served[0].isdisjoint(served[1])
        stores = [load_settings(f).store for f in files]
        assert len(set(stores)) == 2 and all(s.parent == out for s in stores)
        jobs = yaml.safe_load((out / "jobs.yaml").read_text())
        assert [j["name"] for j in jobs] == ["automod-shard-0", "automod-shard-1"]
        assert all(j["command"].endswith(f"--settings {f}") for j, f in zip(jobs, files))
        assert len({load_settings(f).pywikibot_dir for f in files}) == 2  # one per bot

        admins = {w.name: client_for(info, w, info.admin) for w in info.wikis}
        vandals = {w.name: client_for(info, w, info.vandals[0]) for w in info.wikis}
        pages = {w.name: f"Shard test {time.time_ns()}" for w in info.wikis}
        for name, admin in admins.items():
            set_config(admin, REVERTING)
            admin.edit(pages[name], "Stable text.")
        for store in stores:
            _start_at_stream_end(info, store)
        bots = []
        try:
            for f in files:
                before = int(requests.get(f"{info.relay_url}/health", timeout=5).json()["connections"])
                bots.append(Bot(f))
                wait_connected(info, before, bots[-1])
            revs = {name: vandals[name].edit(pages[name], "Stable text. VANDALISM") for name in pages}
            for name, rev in revs.items():
                owner = next(b for b, s in zip(bots, served) if name in s)
                assert owner.decision(rev, timeout=30, wiki=name)["decision"] == "reverted"
            time.sleep(1.0)  # time for a second decision, were there one
            for name, rev in revs.items():
                deciders = [b for b in bots if any(line["wiki"] == name for line in b.lines if line["rev_id"] == rev)]
                assert len(deciders) == 1, (name, rev)
            for store, wikis in zip(stores, served):
                with Store(store) as db:
                    for name, rev in revs.items():
                        assert db.has_decision(name, rev) == (name in wikis)
        finally:
            for bot in bots:
                bot.stop()
