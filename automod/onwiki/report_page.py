"""The report page's grammar: its sections, and the bot's one line under a report.

Kept apart from :mod:`automod.onwiki.reports` (which acts on the page) because this part
needs no wiki: it splits the page's wikitext into sections at the places MediaWiki's parser
gave, and writes and reads back the bot's machine-readable line, so both can be tested on
plain strings. What the bot reads back is language-independent: a line starting
``automod — `` whose first number is the revision, and the untranslated ``status: <code>``;
and a reviewer's own line under a report, ``: status: confirmed`` or ``: status: declined``
(what the review gadget saves, signed), which stands for the revision its section is about.
Who wrote either is never read here: ``report_trust`` credits a line to whoever saved it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from automod.onwiki.i18n import Messages, load_messages
from automod.onwiki.page_reads import SectionSpan

__all__ = ["DIFF", "HEADER_MARKER", "LINE", "LINK", "MARKER", "PageSection", "REVIEW_LINE", "ReportSection", "STATUSES",
           "UNSIGNED_SIGNATURE", "header_text", "heading_count", "heading_texts", "page_sections", "parse_report_page",
           "preload_text", "report_line", "rev_number", "section_rev", "status_count",
           "status_counts"]

#: The reporter's signature: saved as two halves (MediaWiki's pre-save transform would sign
#: the preload page with the bot's name and the time it was created); a preload drops the
#: ``<includeonly>`` tags, so the edit box holds ``~~~~`` and the reporter's save signs it.
UNSIGNED_SIGNATURE = "~~<includeonly>~~</includeonly>"
STATUSES = ("open", "confirmed", "declined")  # "reinstated" is the bot's own, after "confirmed"
HEADING = re.compile(r"^==(?!=)\s*(.*?)\s*==\s*$", re.M)
MARKER = re.compile(r"<!--\s*automod-report rev=(\d+)\s*-->")
DIFF = re.compile(r"Special:Diff/(\d+)")
LINK = re.compile(r"\[\[\s*:?([^\[\]|#{}<>]+?)\s*(?:\|[^\]]*)?\]\]")
# "automod — <revision, in any language> N … status: <code>" (see automod-report-line in qqq.json).
LINE = re.compile(r"automod — \D*?(\d+)\b.*?status:\s*([A-Za-z-]+)")
#: A reviewer's own status line under a report: indented, starting with the untranslated
#: ``status:`` and a reviewer's decision (the review gadget writes ``: status: confirmed — … ~~~~``).
REVIEW_LINE = re.compile(r"^:+[ \t]*status:[ \t]*(confirmed|declined)\b", re.M | re.I)
#: The first line of the instructions the bot keeps at the top of the report page.
HEADER_MARKER = "<!-- automod-report-header -->"
#: Revision ids fit SQLite's signed 64-bit integers; a longer digit run names no revision.
_MAX_DIGITS = 18


def rev_number(digits: str) -> int | None:
    """A revision id from text anyone may have typed: None for a number no revision has."""
    if not digits.isdecimal() or len(digits) > _MAX_DIGITS:
        return None
    return int(digits)


@dataclass(frozen=True)
class ReportSection:
    heading: str
    rev_id: int | None
    logged_status: str | None  # the status in the bot's line under it, if there is one


@dataclass(frozen=True)
class PageSection:
    """A level-2 section of the report page, found by its place (MediaWiki's section index
    and byte offset), never by its heading's text: a heading with a template, a link or a
    twin elsewhere on the page is located like any other."""

    index: int
    heading: str  # the heading's wikitext
    key: str  # heading and its ordinal among identical headings: how the store names it
    body: str  # the section's wikitext, heading line included


def report_line(rev_id: int, *, revert_rev_id: int | None, probability: float | None, model: str | None,
                version: str | None, threshold: float | None, config_rev: int | None, status: str,
                messages: Messages | None = None) -> str:
    """The bot's line under a report, in ``messages``' language (English by default)."""
    messages = messages or load_messages()
    score = f"{probability:.4f}" if probability is not None else "?"
    revert = (messages.format("automod-report-revert-link", revert_rev_id) if revert_rev_id
              else messages.text("automod-report-no-revert"))
    line = messages.format("automod-report-line", rev_id, revert, score, f"{model or '?'} {version or ''}",
                           threshold if threshold is not None else "?", config_rev or "?", status)
    return f": {line} ~~~~"


def preload_text(messages: Messages) -> str:
    """What ``<report page>/Preload`` holds: marker, prompt, the reporter's signature to come."""
    return (f"<!-- automod-report rev=$1 -->\n{messages.text('automod-report-preload')}\n\n"
            f"{UNSIGNED_SIGNATURE}\n")


def header_text(messages: Messages, bot_user: str, rights: str) -> str:
    """The instructions at the top of the report page (before any report's heading)."""
    return f"{HEADER_MARKER}\n{messages.format('automod-report-header', bot_user, rights)}\n\n"


def section_rev(heading: str, body: str) -> int | None:
    """The revision a report section is about: the preload's marker, else the bot's own line
    (never the revert link inside it), else a diff link in the body or the heading."""
    found = MARKER.search(body) or LINE.search(body) or DIFF.search(body) or DIFF.search(heading)
    return rev_number(found.group(1)) if found else None


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each level-2 section of ``text``, found by the heading pattern."""
    matches = list(HEADING.finditer(text))
    return [(m.group(1), text[m.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)])
            for i, m in enumerate(matches)]


def parse_report_page(text: str) -> list[ReportSection]:
    """The level-2 sections of the report page, with the revision each one is about."""
    sections = []
    matches = list(HEADING.finditer(text))
    for i, match in enumerate(matches):
        body = text[match.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)]
        # The marker, else the bot's own line (never the revert link inside it), else a diff link.
        line = LINE.search(body)
        found = MARKER.search(body) or line or DIFF.search(body) or DIFF.search(match.group(1))
        rev = rev_number(found.group(1)) if found else None
        sections.append(ReportSection(match.group(1), rev, line.group(2).lower() if line else None))
    return sections


#: A heading line as MediaWiki's preprocessor sees one (its level: the shorter run of "=").
_HEADING_LINE = re.compile(r"^(={1,6})(.+?)(={1,6})[ \t]*$", re.M)
#: Where no heading counts: comments, <nowiki>, <pre> (and an unclosed one runs to the end).
_NO_HEADINGS = re.compile(r"<!--.*?(?:-->|\Z)|<nowiki\b[^>]*>.*?(?:</nowiki>|\Z)|<pre\b[^>]*>.*?(?:</pre>|\Z)",
                          re.S | re.I)


def _dropped_spans(text: str, spans: list[SectionSpan], by_chars: bool) -> list[SectionSpan]:
    """Headings of ``text`` that MediaWiki's section list left out, with the editing index they
    still have: a heading holding a template that brings headings of its own (``== {{SITENAME}}
    {{:Main Page}} ==``) is listed as the template's section, with no offset — yet it is a
    section of the page, numbered like any other. Read by position: every heading line outside
    comments, ``<nowiki>`` and ``<pre>`` that no listed section starts on, numbered after the
    listed one before it (and only where the gap in the numbering agrees)."""
    hidden = [(m.start(), m.end()) for m in _NO_HEADINGS.finditer(text)]
    to_char = (lambda b: b) if by_chars else (lambda b: len(text.encode("utf-8")[:b].decode("utf-8", "replace")))
    listed = sorted(spans, key=lambda s: s.index)
    starts = {to_char(s.byte_offset) for s in listed}
    lines = [m for m in _HEADING_LINE.finditer(text)
             if m.start() not in starts and not any(a <= m.start() < b for a, b in hidden)]
    found = []
    for i, before in enumerate([SectionSpan(0, 0, 0), *listed]):
        after = listed[i] if i < len(listed) else None
        lo = to_char(before.byte_offset) if before.index else -1
        hi = to_char(after.byte_offset) if after is not None else len(text) + 1
        between = [m for m in lines if lo < m.start() < hi]
        if not between or (after is not None and after.index - before.index - 1 != len(between)):
            continue
        for n, m in enumerate(between, start=1):
            offset = m.start() if by_chars else len(text[:m.start()].encode("utf-8"))
            found.append(SectionSpan(before.index + n, min(len(m.group(1)), len(m.group(3))), offset))
    return found


def page_sections(text: str, spans: list[SectionSpan]) -> list[PageSection]:
    """Split ``text`` at the offsets MediaWiki's parser gave (``page_reads.section_spans``),
    and at the headings its list left out (:func:`_dropped_spans`): sections by position."""
    # MediaWiki 1.39 counts "byteoffset" in characters (mb_strlen); older releases in bytes.
    by_chars = all(text[s.byte_offset:s.byte_offset + 1] == "=" for s in spans)
    raw: str | bytes = text if by_chars else text.encode("utf-8")
    spans = sorted([*spans, *_dropped_spans(text, spans, by_chars)], key=lambda s: s.byte_offset)
    bounds = [s for s in spans if s.level <= 2]
    seen: dict[str, int] = {}
    sections = []
    for i, span in enumerate(bounds):
        stop = bounds[i + 1].byte_offset if i + 1 < len(bounds) else len(raw)
        chunk = raw[span.byte_offset:stop]
        body = chunk if isinstance(chunk, str) else chunk.decode("utf-8", errors="replace")
        if span.level != 2:
            continue
        heading = body.split("\n", 1)[0].strip().strip("=").strip()
        seen[heading] = seen.get(heading, 0) + 1
        sections.append(PageSection(span.index, heading, f"{heading}#{seen[heading]}", body))
    return sections


def heading_texts(text: str) -> list[str]:
    """The wikitext of every level-2 heading of ``text``, in order (as :func:`page_sections` keys them)."""
    return [m.group(1).strip().strip("=").strip() for m in HEADING.finditer(text)]


def heading_count(heading: str) -> Callable[[str], int]:
    """How many level-2 headings with exactly this wikitext a page's text holds."""
    pattern = re.compile(r"^==\s*" + re.escape(heading) + r"\s*==\s*$", re.M)
    return lambda text: len(pattern.findall(text))


def status_count(rev_id: int, status: str) -> Callable[[str], int]:
    """How many lines about ``rev_id`` a text holds with ``status``: the bot's lines (where a
    reviewer once edited the word) and reviewers' own ``: status: …`` lines in the sections
    about ``rev_id``. A page revision that makes this grow is credited to whoever saved it."""
    def count(text: str) -> int:
        own = sum(1 for m in LINE.finditer(text) if rev_number(m.group(1)) == rev_id and m.group(2).lower() == status)
        reviews = sum(1 for heading, body in _sections(text) if section_rev(heading, body) == rev_id
                      for m in REVIEW_LINE.finditer(body) if m.group(1).lower() == status)
        return own + reviews
    return count


def status_counts(text: str) -> Counter[tuple[int, str]]:
    """:func:`status_count` of every revision and status at once — ``(rev_id, status)`` → count —
    in one reading of ``text``: a pass checks every open report against the page, and one
    scan each made that work grow with the reports times the page (issue 29)."""
    found: Counter[tuple[int, str]] = Counter()
    for m in LINE.finditer(text):
        rev_id = rev_number(m.group(1))
        if rev_id is not None:
            found[(rev_id, m.group(2).lower())] += 1
    for heading, body in _sections(text):
        rev_id = section_rev(heading, body)
        if rev_id is not None:
            for m in REVIEW_LINE.finditer(body):
                found[(rev_id, m.group(1).lower())] += 1
    return found
