"""Hostile text and the report section the bot writes with it (the wikitext quoting tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from automod.onwiki.i18n import load_messages
from automod.onwiki.report_page import report_line
from automod.onwiki.wikitext import link, plain

MESSAGES = load_messages()

NASTY = st.lists(st.sampled_from(["{{", "}}", "[[", "]]", "|", "==", "=", "~~~~", "~~~", "<", ">", "</nowiki>",
                                  "<nowiki>", "\n", "\r", "''", "__TOC__", "&amp;", "&", ":", "status: confirmed",
                                  "automod — revision 9 ", "Category:", "/", "/*", "*/", "http://x.org", "{|", "|}"])
                 | st.text(max_size=8), max_size=12).map("".join)


def bot_section(value: str) -> str:
    """The implicit-report section as the bot writes it, ``value`` as title and restorer."""
    heading = MESSAGES.format("automod-implicit-report-heading", plain(value), 7)
    explanation = MESSAGES.format("automod-implicit-report", link(value), 8, 7, link(value))
    line = report_line(7, revert_rev_id=8, probability=0.99, model="m", version="1", threshold=0.9,
                       config_rev=3, status="open")
    ignored = MESSAGES.format("automod-report-status-ignored", 7, plain(value), "rollback")
    return f"== {heading} ==\n<!-- automod-report rev=7 -->\n{explanation}\n{line}\n: {ignored} ~~~~\n"

