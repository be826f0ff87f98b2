"""Quoting what people typed before the bot writes it on a wiki.

Titles, user names, report headings and reasons come from anyone; the bot's lines sit on
pages it also reads back (the report page). So nothing a user typed may become a template,
a link, a heading, a signature, a table cell or a tag, nor text that reads like the bot's
own machine-readable line (``automod — … status: …``). Every place that writes such text
uses one of these forms, chosen by where the text goes:

- :func:`plain` — running text, section headings and table cells: ``<nowiki>`` around the
  text, with ``& < >`` escaped so nothing can close it, and ``:`` escaped so it never reads
  as ``status:`` (the entities render as the characters themselves);
- :func:`link` — the target (and shown text) of ``[[…]]`` in a message: a title the wiki
  gave, entity-escaped (MediaWiki decodes entities in link targets, so the link still
  points at the page) and led by ``:`` when it has a namespace-like prefix, so ``Category:``
  or ``File:`` titles are linked, never added or embedded;
- :func:`summary` — edit summaries, which MediaWiki never expands but where ``[[…]]`` and
  ``/* … */`` are markup;
- :func:`summary_fragment` — a section heading for the ``#…`` of a link inside an edit
  summary: MediaWiki's comment formatter decodes character references, so the entities of
  :func:`fragment` would come back as live ``[[…]]`` or ``/* … */``; what could end the
  link or start markup is left out instead.

Ordinary text (letters, digits, spaces, ``.,()-``) is returned unchanged: the page source
stays readable and nothing changes for the usual title.
"""

from __future__ import annotations

import re

__all__ = ["fragment", "link", "one_line", "plain", "summary", "summary_fragment"]

_SAFE_PUNCTUATION = frozenset(" .,()-")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` with line breaks and control characters made spaces: a value never starts a
    line of its own (``==``, ``*``, ``:``, ``{|`` only mean something at a line's start)."""
    return _CONTROL.sub(" ", text).strip()


def _ordinary(text: str) -> bool:
    return all(c.isalnum() or c in _SAFE_PUNCTUATION for c in text)


def _entities(text: str, keep: frozenset[str] | None = None) -> str:
    """Every character that is not ordinary (or in ``keep``) as a numeric character reference."""
    return "".join(c if c.isalnum() or c in _SAFE_PUNCTUATION or (keep and c in keep) else f"&#{ord(c)};"
                   for c in text)


def plain(text: str) -> str:
    """``text`` shown literally where wikitext is parsed (running text, headings, cells)."""
    text = one_line(text)
    if _ordinary(text):
        return text
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(":", "&#58;")
    return f"<nowiki>{escaped}</nowiki>"


def link(title: str) -> str:
    """``title`` for the inside of ``[[…]]`` (and ``[[User:…|…]]``): it links to that page and
    shows its name, whatever characters it holds."""
    title = one_line(title)
    if _ordinary(title):
        return title
    # A leading ":" makes [[Category:X]] a link, not a category; [[/X]] not a subpage. Not
    # otherwise: [[User:$1|$1]] takes a user name (which never holds ":") after a prefix.
    return (":" if ":" in title or title.startswith("/") else "") + _entities(title)


def fragment(heading: str) -> str:
    """A section heading for the ``#…`` part of ``[[Page#…]]``: entity-escaped, so it cannot
    end the link or start another."""
    return _entities(one_line(heading))


def summary(text: str) -> str:
    """``text`` for an edit summary: one line, with the summary's markup (``[[``, ``]]``,
    ``/*``, ``*/``) broken so it shows as typed."""
    text = one_line(text)
    return re.sub(r"\[(?=\[)|\](?=\])|/(?=\*)|\*(?=/)", lambda m: m.group(0) + "\u200b", text)


_NOT_IN_SUMMARY_LINK = re.compile(r"[\[\]|{}<>&#]+")


def summary_fragment(heading: str) -> str:
    """A section heading for the ``#…`` part of ``[[Page#…]]`` in an edit summary: no
    character reference (the comment formatter decodes them), none of ``[ ] | { } < > & #``,
    and ``/* */`` broken — it can neither end the link nor start another, nor an autocomment."""
    return summary(_NOT_IN_SUMMARY_LINK.sub(" ", one_line(heading))).strip()
