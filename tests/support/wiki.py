"""A tiny Action API client for tests, and the sandbox's start and stop for fixtures.

The client is plain ``requests`` on purpose: tests act as other editors (vandals, admins,
anonymous users) independently of pywikibot, whose configuration is process-global.
"""

from __future__ import annotations

import atexit
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from automod.sandbox import Account, SandboxInfo, down, up
from automod.sandbox.mediawiki import MW_DIR, USER_AGENT

ANON_TOKEN = "+\\"
GENEROUS_LIMITS = ("<?php\n$wgRateLimits['rollback']['user'] = [ 600, 60 ];\n"
                   "$wgRateLimits['rollback']['newbie'] = [ 600, 60 ];\n"
                   "$wgRateLimits['edit']['user'] = [ 600, 60 ];\n")  # a rollback counts as an edit too

#: MediaWiki's default rollback and edit limits for the bot (a production bot without
#: noratelimit), set explicitly: the shared sandbox otherwise runs with generous ones. Only
#: the test's vandals (newbie, one IP) may edit faster than the default 8 a minute, so that
#: the burst fits in a minute; that changes nothing for the bot.
DEFAULT_BOT_LIMITS = ("<?php\n$wgRateLimits['rollback']['user'] = [ 10, 60 ];\n"
                      "$wgRateLimits['rollback']['newbie'] = [ 5, 120 ];\n"
                      "$wgRateLimits['edit']['user'] = [ 90, 60 ];\n"
                      "$wgRateLimits['edit']['newbie'] = [ 600, 60 ];\n"
                      "$wgRateLimits['edit']['ip'] = [ 600, 60 ];\n")


class ApiError(Exception):
    """An Action API error response; ``code`` is MediaWiki's error code."""

    def __init__(self, code: str, info: str) -> None:
        super().__init__(f"{code}: {info}")
        self.code = code
        self.info = info


class WikiClient:
    """A logged-in (BotPassword, action=login) or anonymous session on the sandbox wiki."""

    def __init__(self, sandbox: SandboxInfo, account: Account | None = None, *, ip: str | None = None) -> None:
        """``ip``: an anonymous session that the wiki sees as coming from that address (sent as
        X-Forwarded-For, which the sandbox trusts from 127.0.0.1 only); no packet goes there."""
        if ip is not None and account is not None:
            raise ValueError("an IP session is anonymous")
        self.sandbox = sandbox
        self.api_url = sandbox.api_url
        self.account = account
        self.ip = ip
        self.signed_up: str | None = None  # an account this session created and logged in to
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: never through an environment proxy
        self.session.headers["User-Agent"] = USER_AGENT + " tests"
        if ip is not None:
            self.session.headers["X-Forwarded-For"] = ip
        if account is not None:
            self._login(account)

    @property
    def name(self) -> str:
        return self.account.name if self.account else (self.signed_up or self.ip or "127.0.0.1")

    def sign_up(self, name: str, password: str) -> WikiClient:
        """Create the account ``name`` from this anonymous session and log it in (as a new
        user would in a browser: ``createaccount``, then ``clientlogin``); returns self."""
        token = self.token("createaccount")
        res = self.post(action="createaccount", username=name, password=password, retype=password,
                        createreturnurl="http://127.0.0.1/", createtoken=token)["createaccount"]
        if res.get("status") != "PASS":
            raise ApiError("createaccount-failed", str(res))
        res = self.post(action="clientlogin", username=name, password=password,
                        loginreturnurl="http://127.0.0.1/", logintoken=self.token("login"))["clientlogin"]
        if res.get("status") != "PASS":
            raise ApiError("clientlogin-failed", str(res))
        self.signed_up = name
        return self

    def _login(self, account: Account) -> None:
        token = self.get(action="query", meta="tokens", type="login")["query"]["tokens"]["logintoken"]
        res = self.post(action="login", lgname=account.botpassword_login,
                        lgpassword=account.botpassword, lgtoken=token)["login"]
        if res.get("result") != "Success":
            raise ApiError("login-failed", str(res))

    def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        params = {"format": "json", "formatversion": "2", **params}
        if method == "GET":
            resp = self.session.get(self.api_url, params=params, timeout=30)
        else:
            resp = self.session.post(self.api_url, data=params, timeout=30)
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        if "error" in data:
            raise ApiError(data["error"].get("code", "?"), data["error"].get("info", ""))
        return data

    def get(self, **params: Any) -> dict[str, Any]:
        return self._call("GET", params)

    def post(self, **params: Any) -> dict[str, Any]:
        return self._call("POST", params)

    def token(self, kind: str = "csrf") -> str:
        if self.account is None and self.signed_up is None and kind == "csrf":
            return ANON_TOKEN
        return self.get(action="query", meta="tokens", type=kind)["query"]["tokens"][f"{kind}token"]

    def edit(self, title: str, text: str, summary: str = "", **extra: Any) -> int:
        """Save ``text`` to ``title``; return the new revision id."""
        res = self.post(action="edit", title=title, text=text, summary=summary,
                        token=self.token(), **extra)["edit"]
        if res.get("result") != "Success":
            raise ApiError("edit-failed", str(res))
        if "nochange" in res:
            raise ApiError("nochange", f"edit to {title!r} changed nothing")
        return int(res["newrevid"])

    def rollback(self, title: str, user: str, summary: str = "", **extra: Any) -> dict[str, Any]:
        # No markbot: API booleans are true when present, whatever the value ("0" too).
        return self.post(action="rollback", title=title, user=user, summary=summary,
                         token=self.token("rollback"), **extra)["rollback"]

    def revisions(self, title: str, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first, with user, tags, sha1 and content."""
        page = self.get(action="query", prop="revisions", titles=title, rvlimit=limit,
                        rvprop="ids|user|tags|sha1|timestamp|comment|content", rvslots="main",
                        )["query"]["pages"][0]
        return list(page.get("revisions", []))

    def user_info(self, *names: str) -> dict[str, dict[str, Any]]:
        users = self.get(action="query", list="users", ususers="|".join(names),
                         usprop="groups|rights")["query"]["users"]
        return {u["name"]: u for u in users}

    def run_jobs(self) -> str:
        return run_jobs(self.sandbox)


def run_jobs(sandbox: SandboxInfo) -> str:
    """Run the job queue now (jobs never run after api.php requests, e.g. mw-reverted tags)."""
    res = subprocess.run(["php", str(MW_DIR / "maintenance/runJobs.php")], env=sandbox.php_env(),
                         capture_output=True, text=True, timeout=120, check=True)
    return res.stdout


def safe_down(path: Path) -> None:
    try:
        down(path)
    except Exception:  # interpreter exit: nothing left to report to
        pass


@contextmanager
def started_sandbox(tmp_path_factory: pytest.TempPathFactory, name: str, limits: str | None = GENEROUS_LIMITS,
                    **up_options: Any) -> Iterator[SandboxInfo]:
    """A sandbox in a fresh temporary folder, stopped when left, even on a crash (atexit).

    ``limits`` is written to every wiki's extra PHP file (None: MediaWiki's own limits)."""
    path = tmp_path_factory.mktemp(name)
    atexit.register(safe_down, path)
    info = up(path, **up_options)
    try:
        if limits is not None:
            for wiki in info.wikis:
                wiki.extra_file.write_text(limits)
        yield info
    finally:
        down(path)
