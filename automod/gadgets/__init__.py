"""The on-wiki gadgets people use with the bot, shipped as package data and saved by
``automod install-gadgets``: the review gadget (Confirm false positive / Decline on the report
page) and the config gadget (a schema-built form with the published threshold evidence).
Other packages import these names from here, not from the modules (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from automod.gadgets.install import (
    DEFINITION_PAGE,
    GADGETS,
    GadgetPage,
    InstalledPage,
    gadget_messages,
    gadget_pages,
    install_gadgets,
    thresholds_page_of,
)

__all__ = ["DEFINITION_PAGE", "GADGETS", "GadgetPage", "InstalledPage", "gadget_messages", "gadget_pages",
           "install_gadgets", "thresholds_page_of"]
