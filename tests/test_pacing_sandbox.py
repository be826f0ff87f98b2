"""Rollbacks paced to the bot account's own rate limit, read from the wiki (issue 21, item 5)."""

from __future__ import annotations

import os

import pytest

from automod.moderation.pacing import RateLimit, RollbackPacer, read_limits
from automod.settings import WikiSettings

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def gateway(sandbox):
    previous = os.environ.get("PYWIKIBOT_DIR")
    from automod.onwiki.gateway import WikiGateway

    yield WikiGateway(WikiSettings(name="sandboxwiki", api=sandbox.api_url), sandbox.pywikibot_dir)
    if previous is None:
        os.environ.pop("PYWIKIBOT_DIR", None)
    else:
        os.environ["PYWIKIBOT_DIR"] = previous


def test_the_default_rollback_limit_is_read_from_the_wiki_and_rollbacks_are_paced_to_it(gateway, sandbox):
    extra = sandbox.dir / "conf/extra.php"
    generous = extra.read_text()
    extra.write_text("<?php\n")  # MediaWiki's defaults: 10 rollbacks a minute without noratelimit
    try:
        limits = read_limits(gateway)
    finally:
        extra.write_text(generous)
    assert limits.rollback == RateLimit(10, 60.0), "the sandbox bot mirrors a production bot account: no noratelimit"
    assert "lacks the noratelimit right" in limits.advice()

    now = [1000.0]
    pacer = RollbackPacer(gateway, clock=lambda: now[0])
    pacer.limits, pacer.read_at = limits, now[0]
    for _ in range(10):
        assert pacer.wait() == 0.0
        pacer.sent()
        now[0] += 1.0
    assert 50.0 < pacer.wait() <= 51.0, "the eleventh waits for the window, instead of being refused"
    now[0] += 51.0
    assert pacer.wait() == 0.0
