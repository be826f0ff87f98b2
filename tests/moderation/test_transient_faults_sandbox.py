"""Passing faults leave no vandalism standing (issue 15, item 2).

The real bot against the sandbox wiki: Lift Wing failing for ~20 s, then the wiki's API
unreachable for ~30 s (the bot reaches it through a loopback proxy the test stops and
restarts). Every vandal edit made during the fault is reverted once it passes; an edit a
human fixed during the fault is left alone.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from support.moderation_helpers import REVERTING, launch_bot, set_config, top_revision
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox


class Proxy:
    """A TCP forwarder on a fixed loopback port that can go down and come back."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones (the API is unreachable)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _vandalise(vandal, pages: list[str], during: float) -> list[int]:
    """One vandal edit per page, spread over ``during`` seconds."""
    revs = []
    for page in pages:
        revs.append(vandal.edit(page, f"Article {page}. VANDALISM"))
        time.sleep(during / len(pages))
    return revs


def test_scorer_faulty_for_20_s_then_healthy(sandbox, wiki, liftwing, unique_title, bot_factory):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, REVERTING)
    pages = [f"{unique_title} {i}" for i in range(4)]
    fixed = f"{unique_title} fixed"
    for page in [*pages, fixed]:
        admin.edit(page, f"Article {page}.")
    bot = bot_factory()
    liftwing.fail_next(500, times=100_000)
    started = time.monotonic()
    try:
        revs = _vandalise(vandal, pages, during=8)
        bad = vandal.edit(fixed, f"Article {fixed}. VANDALISM")
        human_fix = admin.edit(fixed, f"Article {fixed}. Fixed by a human.")  # changed since: not the bot's
        time.sleep(max(0.0, 20 - (time.monotonic() - started)))
        assert not any(bot.decisions(r) for r in [*revs, bad]), "decided during the fault"
    finally:
        liftwing.clear_script()
    for page, rev in zip(pages, revs):
        assert bot.decision(rev, timeout=45)["decision"] == "reverted"
        assert [d["decision"] for d in bot.decisions(rev)] == ["reverted"]
        assert top_revision(admin, page)["user"] == sandbox.bot.name
    assert bot.decision(bad, timeout=15)["decision"] == "skip"
    assert top_revision(admin, fixed)["revid"] == human_fix


def _proxied_settings(sandbox, tmp_path: Path, liftwing_url: str, proxy: Proxy) -> Path:
    """Settings and pywikibot files whose API is the proxy's port."""
    pwb = tmp_path / "pywikibot"
    shutil.copytree(sandbox.pywikibot_dir, pwb)
    host, port = sandbox.api_url.split("//", 1)[1].split("/", 1)[0].split(":")
    proxied = sandbox.api_url.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}")
    config = pwb / "user-config.py"
    config.write_text(config.read_text().replace(sandbox.api_url, proxied))
    data = yaml.safe_load(sandbox.settings.read_text())
    data.update(store=str(tmp_path / "automod.sqlite"), pywikibot_dir=str(pwb))
    data["liftwing"]["url"] = liftwing_url
    data["wikis"][0]["api"] = proxied
    path = tmp_path / "settings-proxied.yaml"
    write_settings(path, data)
    return path


def test_wiki_api_down_30_s_then_back(sandbox, wiki, liftwing, unique_title, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[1])
    set_config(admin, REVERTING)
    pages = [f"{unique_title} {i}" for i in range(4)]
    for page in pages:
        admin.edit(page, f"Article {page}.")
    host, port = sandbox.api_url.split("//", 1)[1].split("/", 1)[0].split(":")
    proxy = Proxy((host, int(port)))
    proxy.start()
    bot = launch_bot(sandbox, tmp_path, _proxied_settings(sandbox, tmp_path, liftwing.url, proxy))
    try:
        proxy.stop()
        started = time.monotonic()
        revs = _vandalise(vandal, pages, during=12)
        time.sleep(max(0.0, 30 - (time.monotonic() - started)))
        # Nothing final while the API is down (a refused rollback may say it is pending).
        assert {d["decision"] for r in revs for d in bot.decisions(r)} <= {"rollback-pending"}
        proxy.start()
        for page, rev in zip(pages, revs):
            assert bot.decision(rev, timeout=60)["decision"] == "reverted"
            assert [d["decision"] for d in bot.decisions(rev) if d["decision"] != "rollback-pending"] == ["reverted"]
            assert top_revision(admin, page)["user"] == sandbox.bot.name
        assert bot.proc.poll() is None
    finally:
        bot.stop()
        proxy.stop()
