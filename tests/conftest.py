"""Shared fixtures, defined once: one real sandbox wiki per test run (and a two-wiki one),
API clients on it, the Lift Wing stand-in that reads it, the bot launcher and the gateway.

What tests share that is not a fixture lives in ``tests/support`` (importable as ``support``).
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import re
import time
import uuid
from typing import Any, Callable, Iterator

import pytest

from automod.sandbox import Account, SandboxInfo, down, up
from automod.settings import WikiSettings
from support.api_log import ApiLog, api_log_php
from support.liftwing_standin import LiftWingStandin, running_standin
from support.moderation_helpers import Bot, bot_settings, launch_bot, score_from_wiki
from support.wiki import GENEROUS_LIMITS, WikiClient, safe_down, started_sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """One running sandbox for the whole test run; stopped at the end, even on a crash."""
    path = tmp_path_factory.mktemp("sandbox")
    atexit.register(safe_down, path)
    started = time.monotonic()
    info = up(path)
    info = dataclasses.replace(info, startup_seconds=time.monotonic() - started)
    # Core allows 10 rollbacks a minute; the suite makes more. Tests of the limit itself
    # lower it in conf/extra.php for a moment and put this back.
    (path / "conf/extra.php").write_text(GENEROUS_LIMITS)
    try:
        yield info
    finally:
        down(path)


@pytest.fixture(scope="session")
def wiki(sandbox: SandboxInfo) -> Callable[..., WikiClient]:
    """``wiki(account)`` → a logged-in client (cached per account); ``wiki()`` → a fresh anonymous one;
    ``wiki(ip="198.51.100.7")`` → an anonymous one the wiki sees as that address."""
    cache: dict[str, WikiClient] = {}

    def make(account: Account | None = None, *, ip: str | None = None) -> WikiClient:
        if account is None:
            return WikiClient(sandbox, ip=ip)
        if account.name not in cache:
            cache[account.name] = WikiClient(sandbox, account)
        return cache[account.name]

    return make


@pytest.fixture
def unique_title(request: pytest.FixtureRequest) -> str:
    """A page title no other test (or earlier run on the same wiki) uses."""
    name = re.sub(r"[^A-Za-z0-9 ]+", " ", request.node.name).strip()[:60]
    return f"Automod test {name} {uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def two_wikis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """One two-wiki sandbox for every test that needs several wikis (started once)."""
    with started_sandbox(tmp_path_factory, "two-wikis", wikis=2) as info:
        yield info


@pytest.fixture(scope="module")
def liftwing(sandbox: SandboxInfo) -> Iterator[LiftWingStandin]:
    """A Lift Wing stand-in that scores by reading revisions from the sandbox wiki."""
    with running_standin(score_function=score_from_wiki(sandbox.api_url),
                         ores_models={"sandboxwiki": {"damaging", "goodfaith"}}) as standin:
        yield standin


@pytest.fixture
def bot_factory(sandbox: SandboxInfo, liftwing: LiftWingStandin, tmp_path: Any) -> Iterator[Callable[..., Bot]]:
    """``start(*cli_args, fresh_position=True, standin=None, **wiki_settings)`` → a running Bot."""
    liftwing.clear_script()
    started: list[Bot] = []

    def start(*extra: str, fresh_position: bool = True, standin: Any = None, **wiki_overrides: Any) -> Bot:
        settings = bot_settings(sandbox, tmp_path, (standin or liftwing).url, **wiki_overrides)
        bot = launch_bot(sandbox, tmp_path, settings, *extra, fresh_position=fresh_position)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


@pytest.fixture
def api_log(sandbox: SandboxInfo, tmp_path: Any) -> Iterator[ApiLog]:
    """MediaWiki's API request log switched on for the test (conf/extra.php put back after)."""
    extra = sandbox.dir / "conf/extra.php"
    before = extra.read_text()
    log = ApiLog(tmp_path / "api.log")
    extra.write_text(before + api_log_php(log.path))
    try:
        yield log
    finally:
        extra.write_text(before if before else GENEROUS_LIMITS)


@pytest.fixture(scope="module")
def gateway(sandbox: SandboxInfo) -> Iterator[Any]:
    """The bot's own gateway on the sandbox wiki (pywikibot, the bot account)."""
    previous = os.environ.get("PYWIKIBOT_DIR")
    from automod.onwiki import WikiGateway

    yield WikiGateway(WikiSettings(name="sandboxwiki", api=sandbox.api_url), sandbox.pywikibot_dir)
    # Bots started later by other tests must not inherit this process's pywikibot directory.
    if previous is None:
        os.environ.pop("PYWIKIBOT_DIR", None)
    else:
        os.environ["PYWIKIBOT_DIR"] = previous
