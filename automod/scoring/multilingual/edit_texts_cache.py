"""Extraction that does not parse a revision twice: a small cache of parsed revisions.

About two thirds of an extraction is building the two parse trees (``mwparserfromhell`` on
the whole page, split into sections, each section's plain text). On a live wiki the parent
of an edit is very often the revision the bot handled a moment earlier, when it was itself
the new edit; this cache keeps, for the last few revisions of a wiki, what that first step
produced (the sections and their plain text), and builds the differ's trees from it. The
differ then runs exactly as :func:`~.edit_texts.structured_diff` does — the parsed sections
are only read, never changed — so the result is identical (``tests/scoring/test_multilingual_serving.py``
compares them on the real edit pairs).

Keyed by the wikitext itself (and the language), not only by revision id: a revision id
whose text was suppressed or is not what we parsed can never answer with another text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automod.scoring.multilingual.edit_texts import EditTexts, extract_edit_texts

__all__ = ["CACHE_MAX_CHARS", "CACHE_MAX_REVISIONS", "ExtractionCache", "ParsedRevision"]

#: At most so many parsed revisions, and so many characters of wikitext, per cache (one per
#: wiki). A parsed revision holds 13–36 bytes per character of wikitext (tracemalloc on the
#: fixtures' pages, 2.4–70 kB), so the bound is about 36 MiB at worst; 16 revisions cover
#: the edits of a busy wiki's last minute, when a parent is still the bot's last edit there.
CACHE_MAX_REVISIONS = 16
CACHE_MAX_CHARS = 1_000_000


@dataclass(frozen=True)
class ParsedRevision:
    """What building a revision's content tree produced: its sections (id and wikicode, in
    order) and each section's plain text."""

    sections: tuple[tuple[str, Any], ...]
    plaintext: Mapping[str, str]


def parse_revision(wikitext: str, lang: str) -> ParsedRevision:
    """Parse ``wikitext`` as mwedittypes' ``ContentTree`` does, keeping what it made."""
    from mwedittypes.tree_differ import ContentTree

    tree = ContentTree(content=wikitext, content_type="wikitext", lang=lang)
    return ParsedRevision(tuple((node.name, node.mwnode) for node in tree.root.children),
                          dict(tree.secname_to_text))


def _tree(parsed: ParsedRevision, lang: str) -> Any:
    """A fresh, unexpanded ``ContentTree`` from a parsed revision (the differ expands it)."""
    from mwedittypes.tree_differ import ContentTree, WikitextOrderedNode

    tree = ContentTree(content="", content_type="wikitext", lang=lang)
    tree.secname_to_text = dict(parsed.plaintext)
    for sec_id, wikicode in parsed.sections:
        WikitextOrderedNode(sec_id, ntype="Section", mwnode=wikicode, section=sec_id, parent=tree.root, lang=lang)
    return tree


class ExtractionCache:
    """Parsed revisions of one wiki, least recently used first; not thread-safe (one per worker)."""

    def __init__(self, max_revisions: int = CACHE_MAX_REVISIONS, max_chars: int = CACHE_MAX_CHARS) -> None:
        self.max_revisions = max_revisions
        self.max_chars = max_chars
        self._parsed: OrderedDict[tuple[str, str], ParsedRevision] = OrderedDict()
        self._chars = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._parsed)

    def parsed(self, wikitext: str, lang: str) -> ParsedRevision:
        """``wikitext`` parsed, from the cache when it is there (then it becomes the newest)."""
        key = (lang, wikitext)
        found = self._parsed.get(key)
        if found is not None:
            self.hits += 1
            self._parsed.move_to_end(key)
            return found
        self.misses += 1
        parsed = parse_revision(wikitext, lang)
        if len(wikitext) <= self.max_chars:
            self._parsed[key] = parsed
            self._chars += len(wikitext)
            while len(self._parsed) > self.max_revisions or self._chars > self.max_chars:
                (_, old), _ = self._parsed.popitem(last=False)
                self._chars -= len(old)
        return parsed

    def structured_diff(self, prev_wikitext: str, curr_wikitext: str,
                        lang: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """:func:`~.edit_texts.structured_diff`, with both revisions parsed through the cache."""
        from mwedittypes.node_differ import get_wikitext_diff_count
        from mwedittypes.tree_differ import Differ

        prev_tree = _tree(self.parsed(prev_wikitext, lang), lang)
        curr_tree = _tree(self.parsed(curr_wikitext, lang), lang)
        diff = Differ(prev_tree, curr_tree).convert_path_to_diff()
        tree_diff = diff.post_process(prev_tree.secname_to_text, curr_tree.secname_to_text)
        return get_wikitext_diff_count(tree_diff, lang=lang) or {}, tree_diff or {}

    def extract(self, prev_wikitext: str, curr_wikitext: str, title: str, lang: str = "en") -> EditTexts:
        """:func:`~.edit_texts.extract_edit_texts` reusing parsed revisions."""
        return extract_edit_texts(prev_wikitext, curr_wikitext, title, lang, differ=self.structured_diff)
