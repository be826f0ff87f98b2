"""The first revert on a wiki with notices and a report page on, as a new operator sees it: the
report page and the editor's talk page do not exist yet, and reading them is no error, so the
bot's stderr carries no ``WARNING: API error missingtitle``."""

from __future__ import annotations

import pytest

from support.moderation_helpers import REVERTING, set_config, top_revision
from support.relay_helpers import wait_for

pytestmark = pytest.mark.sandbox


def test_no_missingtitle_warning_after_the_first_revert(sandbox, wiki, unique_title, bot_factory) -> None:
    admin = wiki(sandbox.admin)
    vandal = wiki(ip="203.0.113.81")
    fp_page = f"User:{sandbox.bot.name}/False positives {unique_title[-10:]}"  # not created yet
    set_config(admin, {**REVERTING, "talk_notice": {"enabled": True, "registered_only": False},
                       "false_positive_page": fp_page})
    admin.edit(unique_title, "Stable text.")
    bot = bot_factory()
    bad = vandal.edit(unique_title, "Stable text. VANDALISM")
    assert bot.decision(bad)["decision"] == "reverted"
    assert top_revision(admin, unique_title)["user"] == sandbox.bot.name
    # The aftermath is done when the notice is on the talk page.
    wait_for(lambda: admin.revisions("User talk:203.0.113.81", limit=1), timeout=30)
    bot.stop()
    log = bot.log.read_text()
    assert "API error" not in log, log[-3000:]  # e.g. "WARNING: API error missingtitle" (pywikibot)
