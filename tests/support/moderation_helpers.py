"""Running the real bot (`automod run`) against the sandbox wiki and a Lift Wing stand-in."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from automod.sandbox import SandboxInfo
from automod.store import Store
from support.relay_helpers import spawn, wait_for
from support.settings_files import write_settings
from support.wiki import ApiError, WikiClient

CONFIG_PAGE = "MediaWiki:Automod-config.json"
TOPIC = "sandbox.mediawiki.recentchange"


def score_from_wiki(api_url: str):
    """A Lift Wing-like scorer: it reads the revision from the wiki, as Lift Wing does.

    Text markers decide the probability: ``SCORE=0.xx``; ``VANDALISM`` → 0.995;
    ``UNSCORABLE`` → 422 ``revision_info_deleted``; a page creation → 422
    ``parent_revision_missing`` (as the real models answer); anything else → 0.05.
    """
    session = requests.Session()
    session.trust_env = False

    def score(lang: str, rev_id: int) -> float | str | None:
        data = session.get(api_url, params={
            "action": "query", "prop": "revisions", "revids": rev_id, "rvprop": "ids|content",
            "rvslots": "main", "format": "json", "formatversion": 2}, timeout=10).json()
        pages = data.get("query", {}).get("pages", [])
        if not pages or not pages[0].get("revisions"):
            return "revision_info_deleted"
        rev = pages[0]["revisions"][0]
        if not rev.get("parentid"):
            return "parent_revision_missing"
        text = rev["slots"]["main"]["content"]
        if "UNSCORABLE" in text:
            return "revision_info_deleted"
        found = re.search(r"SCORE=([0-9.]+)", text)
        if found:
            return float(found.group(1))
        return 0.995 if "VANDALISM" in text else 0.05

    return score


def bot_settings(sandbox: SandboxInfo, tmp_path: Path, liftwing_url: str, **wiki_overrides: Any) -> Path:
    data = yaml.safe_load(sandbox.settings.read_text())
    data["store"] = str(tmp_path / "automod.sqlite")
    data["liftwing"]["url"] = liftwing_url
    data["wikis"][0].update(wiki_overrides)
    path = tmp_path / f"settings-{len(list(tmp_path.glob('settings*')))}.yaml"
    write_settings(path, data)
    return path


def start_at_stream_end(sandbox: SandboxInfo, tmp_path: Path) -> None:
    """Store a position at the relay's newest event: the bot then sees only what follows."""
    events = int(requests.get(f"{sandbox.relay_url}/health", timeout=5).json()["events"])
    with Store(tmp_path / "automod.sqlite") as store:
        ident = json.dumps([{"topic": TOPIC, "partition": 0, "offset": events - 1}], separators=(",", ":"))
        store.save_position(sandbox.stream_url, ident, None)


def set_config(admin: WikiClient, config: dict[str, Any], title: str = CONFIG_PAGE) -> int:
    """Save the community config page as an admin; return its revision id."""
    try:
        return admin.edit(title, json.dumps(config), summary="automod test config")
    except ApiError as exc:
        if exc.code != "nochange":
            raise
        return int(admin.revisions(title, limit=1)[0]["revid"])


REVERTING = {"enabled": True, "mode": "revert", "max_reverts_per_user_per_page": 1,
             "skip_rights": ["bot", "autopatrol"]}


class Bot:
    """`automod run` as a child process; its decision lines collected by revision id."""

    def __init__(self, settings: Path, *extra: str):
        self.log = settings.parent / f"bot-{time.monotonic_ns()}.log"
        with self.log.open("w") as stderr:
            self.proc = spawn([sys.executable, "-m", "automod", "run", "--settings", str(settings), *extra],
                              stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.lines: list[dict[str, Any]] = []
        # Revision ids are numbered per wiki (two fresh wikis number theirs alike): a bot serving
        # several must be asked about a revision of a named wiki, or another wiki's line answers.
        served = (yaml.safe_load(settings.read_text()) or {}).get("wikis") or []
        self.wikis = tuple(str(w.get("name")) for w in served if isinstance(w, dict))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def _lines(self, wiki: str | None) -> list[dict[str, Any]]:
        """The decision lines of ``wiki`` (required when the bot serves several)."""
        if wiki is None and len(self.wikis) > 1:
            raise TypeError(f"name the wiki: this bot serves {', '.join(self.wikis)}, whose revision ids overlap")
        return [line for line in self.lines if wiki in (None, line["wiki"])]

    def decisions(self, rev_id: int, wiki: str | None = None) -> list[dict[str, Any]]:
        return [line for line in self._lines(wiki) if line["rev_id"] == rev_id]

    def decision(self, rev_id: int, timeout: float = 15, final: bool = True, *,
                 wiki: str | None = None) -> dict[str, Any]:
        """The last decision line for ``rev_id`` of ``wiki`` (waiting past "rollback-pending" if final)."""
        self._lines(wiki)

        def ready():
            found = self.decisions(rev_id, wiki)
            if found and (not final or found[-1]["decision"] != "rollback-pending"):
                return found[-1]
            if self.proc.poll() is not None:
                raise AssertionError(f"bot exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            return None
        try:
            return wait_for(ready, timeout=timeout)
        except AssertionError:
            raise AssertionError(f"no decision for r{rev_id}; bot log:\n{self.log.read_text()[-3000:]}") from None

    def wait_all_decided(self, revs: list[int], timeout: float, *, wiki: str | None = None) -> dict[str, int]:
        """Wait for a final decision on every revision in ``revs`` of ``wiki``; count them by outcome."""
        wanted = set(revs)
        self._lines(wiki)

        def done() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"bot exited: {self.log.read_text()[-2000:]}")
            final = {line["rev_id"] for line in self._lines(wiki) if line["decision"] != "rollback-pending"}
            return wanted <= final
        wait_for(done, timeout=timeout, interval=0.05)
        outcomes = [line["decision"] for line in self._lines(wiki) if line["rev_id"] in wanted]
        return {outcome: outcomes.count(outcome) for outcome in sorted(set(outcomes))}

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(15)
        self._reader.join(5)
        return code


def wait_connected(sandbox: SandboxInfo, before: int, bot: Bot) -> None:
    """Wait until the relay has opened a stream since it had opened ``before``.

    Counted by streams ever opened, not streams open now: a bot stopped by the previous
    test is only noticed gone at the relay's next write, so the open count can stay level
    while a new bot connects."""
    def connected() -> bool:
        if bot.proc.poll() is not None:
            raise AssertionError(f"bot exited: {bot.log.read_text()[-3000:]}")
        return relay_connections(sandbox) > before
    wait_for(connected, timeout=20, interval=0.1)


def relay_connections(sandbox: SandboxInfo) -> int:
    """Streams the relay has ever opened (never goes down)."""
    return int(requests.get(f"{sandbox.relay_url}/health", timeout=5).json()["connections"])


def top_revision(client: WikiClient, title: str) -> dict[str, Any]:
    return client.revisions(title, limit=1)[0]


def launch_bot(sandbox: SandboxInfo, tmp_path: Path, settings: Path, *extra: str,
               fresh_position: bool = True) -> Bot:
    """`automod run` with ``settings``, returned once it follows the relay; from the
    stream's end unless ``fresh_position`` is false (then from the position saved)."""
    if fresh_position:
        start_at_stream_end(sandbox, tmp_path)
    before = relay_connections(sandbox)
    bot = Bot(settings, *extra)
    try:
        wait_connected(sandbox, before, bot)
    except BaseException:
        bot.stop()
        raise
    return bot
