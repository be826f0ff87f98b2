"""The gadget pages of a wiki: what ``automod install-gadgets`` saves, and saving them.

Two gadgets ship in this package as package data (``automod-review.js|css``,
``automod-config.js|css``). Each JS file starts with a ``/*@AUTOMOD_SETTINGS@*/null``
placeholder that becomes this wiki's settings: the config page, the bot's published
thresholds page, the reviewer rights' default and, for the config gadget, the community
config JSON Schema itself (the very file the bot validates with), and the gadgets' texts in the
wiki's content language (the ``automod-gadget-…`` keys of the bot's message files, automod/onwiki/i18n/;
a wiki's admins reword or translate them further by saving ``MediaWiki:Automod-gadget-…`` pages,
which the gadgets read and prefer, as the bot does for its notices). The gadgets read the
community config at run time, so a change of ``false_positive_page`` or
``report_reviewer_rights`` needs no reinstall. Pages are saved only when they differ; in
``MediaWiki:Gadgets-definition`` only the ``automod-`` lines are the installer's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from automod.onwiki import WikiGateway, messages_for
from automod.onwiki.i18n import Messages, load_messages
from automod.schemas import COMMUNITY_CONFIG, load_schema, schema_defaults

__all__ = ["DEFINITION_PAGE", "GADGETS", "GadgetPage", "InstalledPage", "gadget_messages", "gadget_pages",
           "install_gadgets", "thresholds_page_of"]

MESSAGE_PREFIX = "automod-gadget-"
DEFINITION_PAGE = "MediaWiki:Gadgets-definition"
PLACEHOLDER = "/*@AUTOMOD_SETTINGS@*/null"
#: name → (description, files). Loaded for everyone (``default``); each checks page and rights itself.
GADGETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "automod-review": ("automod: Confirm false positive / Decline buttons on the bot's false-positive report page "
                       "(for users holding the community's report_reviewer_rights)",
                       ("automod-review.js", "automod-review.css")),
    "automod-config": ("automod: a form for the community config page, with the bot's published threshold evidence",
                       ("automod-config.js", "automod-config.css")),
}
_DEPENDENCIES = "mediawiki.api,mediawiki.user,mediawiki.Title,jquery"
SECTION = "automod"


@dataclass(frozen=True)
class GadgetPage:
    title: str
    text: str


@dataclass(frozen=True)
class InstalledPage:
    title: str
    rev_id: int | None  # None: already up to date


def thresholds_page_of(bot_user: str) -> str:
    """Where ``automod thresholds --publish`` puts the evidence the config gadget reads by default."""
    return f"User:{bot_user}/Thresholds.json"


def _source(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def gadget_messages(messages: Messages) -> dict[str, str]:
    """The gadgets' texts (``$1``… left for the gadget to fill) in ``messages``' language."""
    return {key: messages.text(key) for key in sorted(messages.texts) if key.startswith(MESSAGE_PREFIX)}


def gadget_pages(*, config_page: str, thresholds_page: str, messages: Messages | None = None) -> list[GadgetPage]:
    """The gadget source and description pages for one wiki (the definition page apart), the
    gadgets' texts in ``messages``' language (English when not given)."""
    settings = {"configPage": config_page, "thresholdsPage": thresholds_page,
                "reviewerRights": schema_defaults(COMMUNITY_CONFIG)["report_reviewer_rights"],
                "messages": gadget_messages(messages or load_messages())}
    pages = []
    for name, (description, files) in GADGETS.items():
        wanted = dict(settings, schema=load_schema(COMMUNITY_CONFIG)) if name == "automod-config" else settings
        # "</" cannot close anything in a .js page, but keep the embedded JSON inert all the same.
        embedded = json.dumps(wanted, ensure_ascii=False).replace("</", "<\\/")
        for file in files:
            text = _source(file)
            if file.endswith(".js"):
                if PLACEHOLDER not in text:
                    raise RuntimeError(f"{file} lacks its settings placeholder")
                text = text.replace(PLACEHOLDER, embedded, 1)
            pages.append(GadgetPage(f"MediaWiki:Gadget-{file}", text))
        pages.append(GadgetPage(f"MediaWiki:Gadget-{name}", description))
    pages.append(GadgetPage(f"MediaWiki:Gadget-section-{SECTION}", "automod"))
    return pages


def definition_text(current: str) -> str:
    """``MediaWiki:Gadgets-definition`` with this package's lines (others' lines kept as they are)."""
    kept = [line for line in current.splitlines()
            if not line.lstrip("* ").startswith("automod-") and line.strip() != f"== {SECTION} =="]
    ours = [f"== {SECTION} =="] + [f"* {name}[ResourceLoader|default|dependencies={_DEPENDENCIES}]|{'|'.join(files)}"
                                   for name, (_, files) in GADGETS.items()]
    body = "\n".join(kept).strip()
    return (body + "\n\n" if body else "") + "\n".join(ours) + "\n"


def install_gadgets(gateway: WikiGateway, *, config_page: str, thresholds_page: str) -> list[InstalledPage]:
    """Save every gadget page that differs from what this release ships (as the gateway's
    account, an interface admin); the definition page last, so no gadget loads half-saved."""
    done = []
    summary = "automod install-gadgets: the review and config gadgets"
    messages = messages_for(gateway)  # the wiki's content language
    for page in gadget_pages(config_page=config_page, thresholds_page=thresholds_page, messages=messages):
        done.append(_save(gateway, page, summary))
    found = gateway.page_text(DEFINITION_PAGE)
    done.append(_save(gateway, GadgetPage(DEFINITION_PAGE, definition_text(found[1] if found else "")), summary))
    return done


def _save(gateway: WikiGateway, page: GadgetPage, summary: str) -> InstalledPage:
    found = gateway.page_text(page.title)
    if found is not None and found[1].strip() == page.text.strip():
        return InstalledPage(page.title, None)
    return InstalledPage(page.title, gateway.edit(page.title, text=page.text, summary=summary))
