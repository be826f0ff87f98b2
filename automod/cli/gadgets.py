"""``automod install-gadgets``: save the review and config gadgets on a wiki, as an interface admin.

Loaded by :mod:`automod.cli` (``register``). The account is one of pywikibot's password file
(``settings.pywikibot_dir``), named with ``--as``: the bot's own account cannot save site
JavaScript, and should not be able to.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from automod.cli._options import settings_option, wiki_option

__all__ = ["register"]


def _cmd_install(args: argparse.Namespace) -> int:
    from automod.gadgets import install_gadgets, thresholds_page_of
    from automod.onwiki import WikiGateway
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    wiki = settings.wiki(args.wiki)
    probe = WikiGateway(wiki, settings.pywikibot_dir, login=False)
    bot_user = probe.bot_user  # the configured name; no login
    _forget_session(probe.pywikibot, args.as_user)
    admin = WikiGateway(wiki, settings.pywikibot_dir, user=args.as_user)
    thresholds = args.thresholds_page or thresholds_page_of(bot_user or "AutomodBot")
    for page in install_gadgets(admin, config_page=wiki.config_page, thresholds_page=thresholds):
        print(f"{page.title}: " + (f"saved r{page.rev_id}" if page.rev_id else "up to date"), file=sys.stderr)
    print(f"gadgets installed on {wiki.name} as {admin.bot_user}; evidence read from {thresholds}", file=sys.stderr)
    return 0


def _forget_session(pywikibot: Any, user: str) -> None:
    """Log in afresh: a session pywikibot kept for ``user`` (its cookie file) may be a bot
    password's of another grant set or an expired one, and MediaWiki refuses to log in over a
    bot-password session ("Cannot log in when using BotPasswordSessionProvider sessions")."""
    from pathlib import Path

    name = pywikibot.tools.as_filename(user) if user else ""
    Path(pywikibot.config.datafilepath(f"pywikibot-{name}.lwp" if name else "pywikibot.lwp")).unlink(missing_ok=True)
    pywikibot.comms.http.cookie_jar.clear()


def register(commands: Any) -> None:
    """Add ``install-gadgets`` to the ``automod`` sub-commands."""
    p = commands.add_parser("install-gadgets", help="Save the review and config gadgets on a wiki (interface admin).",
                            description="Saves MediaWiki:Gadget-automod-*.js/css and their lines in "
                            "MediaWiki:Gadgets-definition (the wiki needs the Gadgets extension), as the account "
                            "named with --as, whose BotPassword is in pywikibot's password file.",
                            parents=[settings_option(), wiki_option()])
    p.add_argument("--as", dest="as_user", required=True, metavar="ACCOUNT",
                   help="an interface admin's user name in pywikibot's password file (the sandbox: Admin)")
    p.add_argument("--thresholds-page", metavar="PAGE",
                   help="the JSON page `automod thresholds --publish` writes (default User:<bot>/Thresholds.json)")
    p.set_defaults(func=_cmd_install, parser=p)
