"""What the multilingual model reads of an edit: changed text fragments, counts and metadata.

Follows the published revert-risk multilingual design (reference: revert-risk-models.md
§3.1, KIT ``modules/data_collection.py::get_changes``):

1. a structured diff of the parent and current wikitext with ``mwedittypes``
   (``StructuredEditTypes``, pinned to 3.1.0 in the ``multilingual`` extra: its API and
   output changed across majors, and the model is trained on what this version emits);
2. ``Text`` nodes inserted or removed whole become *inserted* / *removed* fragments;
3. ``Text`` nodes changed in place are diffed line by line, the differing lines split into
   sentences, and a removed sentence that closely resembles an added one (similarity > 60,
   ``fuzz.ratio`` = difflib's ratio × 100) becomes a *changed* ``(old, new)`` pair; the
   rest join the inserted / removed lists;
4. the edit-type counts ``<action>_<Type>`` (88 of them feed the booster);
5. the page title with ``_`` → space.

A failure of the differ gives no fragments and no counts, as in the reference (the edit is
then scored on metadata alone). The metadata features (byte diff, anonymous, editor
groups, tags) are the ones the booster shares with the language-agnostic model where they
coincide (``revision_text_bytes_diff``, ``user_is_anonymous``).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from automod.scoring.features import EditData

__all__ = [
    "ACTION_FEATURES",
    "EDIT_ACTIONS",
    "EDIT_NODE_TYPES",
    "GROUP_FLAGS",
    "METADATA_FEATURES",
    "TAG_FLAGS",
    "Differ",
    "EditMeta",
    "EditTexts",
    "diff_lines",
    "edit_meta",
    "extract_edit_texts",
    "metadata_features",
    "split_sentences",
    "structured_diff",
]

log = logging.getLogger("automod.scoring.multilingual.edit_texts")

#: Actions and node types of the 88 count features (reference §3.1, "CatBoost features").
EDIT_ACTIONS = ("change", "insert", "move", "remove")
EDIT_NODE_TYPES = ("Argument", "Category", "Comment", "ExternalLink", "Gallery", "HTMLEntity", "Heading", "List",
                   "Media", "Paragraph", "Punctuation", "Reference", "Section", "Sentence", "Table", "Table Element",
                   "Template", "Text", "Text Formatting", "Whitespace", "Wikilink", "Word")
ACTION_FEATURES = tuple(f"{a}_{t}" for a in EDIT_ACTIONS for t in EDIT_NODE_TYPES)

#: Tag flags: feature name → MediaWiki change tag (reference §3.1).
TAG_FLAGS = {"is_mobile_edit": "mobile edit", "is_mobile_web_edit": "mobile web edit",
             "is_visualeditor": "visualeditor", "is_wikieditor": "wikieditor", "is_ios_app_edit": "ios app edit"}
#: User groups with a flag of their own (reference §3.1).
GROUP_FLAGS = ("editor", "trusted", "ipblock-exempt", "interface-admin", "sysop", "autoreview", "bureaucrat",
               "autopatrolled", "patroller", "rollbacker", "reviewer", "extendedconfirmed", "templateeditor",
               "uploader", "autoreviewer", "suppressredirect")
METADATA_FEATURES = ("revision_text_bytes_diff", *TAG_FLAGS, *(f"is_{g}" for g in GROUP_FLAGS), "user_is_anonymous")

#: ``fuzz.ratio`` threshold above which a removed and an added sentence form a change pair.
PAIR_SIMILARITY = 60
_SENTENCE_END = re.compile(r"[.!?](?!$)")


@dataclass(frozen=True)
class EditTexts:
    """The text fragments of one edit, in document order, and its edit-type counts."""

    title: str
    inserted: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[tuple[str, str], ...] = ()
    actions: Mapping[str, int] = field(default_factory=dict)

    def action_vector(self) -> list[float]:
        """The 88 counts in :data:`ACTION_FEATURES` order (0 when absent)."""
        return [float(self.actions.get(name, 0)) for name in ACTION_FEATURES]


@dataclass(frozen=True)
class EditMeta:
    """Metadata of one edit: ``bytes_diff`` = size minus parent size; groups and tags as named."""

    bytes_diff: int
    anonymous: bool
    groups: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()


def edit_meta(edit: EditData) -> EditMeta:
    """What the metadata features read of an edit fetched for (or recorded by) training/serving."""
    return EditMeta(bytes_diff=edit.revision.bytes - edit.parent.bytes, anonymous=edit.user.anonymous,
                    groups=edit.user.groups or frozenset(), tags=edit.revision.tags)


def metadata_features(meta: EditMeta) -> dict[str, float]:
    """Return the metadata features by name, in :data:`METADATA_FEATURES` order."""
    out = {"revision_text_bytes_diff": float(meta.bytes_diff)}
    out.update({name: float(tag in meta.tags) for name, tag in TAG_FLAGS.items()})
    out.update({f"is_{g}": float(not meta.anonymous and g in meta.groups) for g in GROUP_FLAGS})
    out["user_is_anonymous"] = float(meta.anonymous)
    return out


def split_sentences(text: str) -> list[str]:
    """Return the non-empty sentences of ``text``, split after ``.``, ``!`` or ``?`` as the
    reference does (``re.split(r"[.!?](?!$)")``: the final punctuation mark is kept)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _similarity(a: str, b: str) -> int:
    """fuzzywuzzy's pure-Python ``fuzz.ratio``: difflib's ratio as a rounded percentage."""
    return round(100 * difflib.SequenceMatcher(None, a, b).ratio())


def diff_lines(prev: str, curr: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Return ``(inserted, removed, changed)`` sentences between two versions of a text.

    Lines are aligned with difflib; in each differing block every removed sentence is paired
    with the most similar unpaired added sentence when their similarity exceeds
    :data:`PAIR_SIMILARITY`. Unpaired sentences are inserted or removed.
    """
    inserted: list[str] = []
    removed: list[str] = []
    changed: list[tuple[str, str]] = []
    a, b = prev.splitlines(), curr.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old = [s for line in a[i1:i2] for s in split_sentences(line)]
        new = [s for line in b[j1:j2] for s in split_sentences(line)]
        old_set, new_set = set(old), set(new)  # a sentence present on both sides only moved
        old, new = [s for s in old if s not in new_set], [s for s in new if s not in old_set]
        paired: set[int] = set()
        for sentence in old:
            best, best_score = -1, PAIR_SIMILARITY
            for j, candidate in enumerate(new):
                if j not in paired:
                    score = _similarity(sentence, candidate)
                    if score > best_score:
                        best, best_score = j, score
            if best >= 0:
                paired.add(best)
                changed.append((sentence, new[best]))
            else:
                removed.append(sentence)
        inserted.extend(s for j, s in enumerate(new) if j not in paired)
    return inserted, removed, changed


def _count_actions(actions: Mapping[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for edit in actions.get("node-edits", []):
        key = f"{edit.edittype}_{edit.type}"
        counts[key] = counts.get(key, 0) + 1
    for edit in [*actions.get("text-edits", []), *actions.get("context", [])]:
        key = f"{edit.edittype}_{edit.type}"
        counts[key] = counts.get(key, 0) + int(edit.count)
    return counts


def _texts(nodes: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(n["text"]).strip() for n in nodes if n.get("type") == "Text" and str(n.get("text", "")).strip()]


#: ``(prev_wikitext, curr_wikitext, lang) -> (edit-type actions, tree diff)``: mwedittypes' structured diff.
Differ = Callable[[str, str, str], tuple[Mapping[str, Any], Mapping[str, Any]]]


def structured_diff(prev_wikitext: str, curr_wikitext: str, lang: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """mwedittypes' edit-type actions and tree diff of two wikitexts (both parsed here)."""
    from mwedittypes import StructuredEditTypes

    differ = StructuredEditTypes("wikitext", prev_wikitext, curr_wikitext, lang=lang)
    actions = differ.get_diff() or {}
    return actions, differ.tree_diff or {}


def extract_edit_texts(prev_wikitext: str, curr_wikitext: str, title: str, lang: str = "en",
                       differ: Differ = structured_diff) -> EditTexts:
    """Return the inserted, removed and changed text of an edit, its counts and its title.

    Never raises for odd wikitext: a differ failure is logged and yields an edit with no
    fragments and no counts (the reference's behaviour), still scored on metadata.
    ``differ`` computes the structured diff (one reusing parsed revisions:
    :class:`~.edit_texts_cache.ExtractionCache`).
    """
    title = title.replace("_", " ")
    try:
        actions, tree = differ(prev_wikitext, curr_wikitext, lang)
        inserted = _texts(tree.get("insert", []))
        removed = _texts(tree.get("remove", []))
        changed: list[tuple[str, str]] = []
        for node in tree.get("change", []):
            old, new = node.get("prev", {}), node.get("curr", {})
            if old.get("type") == "Text" and new.get("type") == "Text" and old.get("text") != new.get("text"):
                ins, rem, chg = diff_lines(str(old["text"]), str(new["text"]))
                inserted += ins
                removed += rem
                changed += chg
        counts = _count_actions(actions)
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - the differ's failures are data, not bugs of ours
        log.warning("mwedittypes failed on %r (%s: %s); scoring on metadata only", title, type(exc).__name__, exc)
        return EditTexts(title=title)
    # Fragments without a letter or digit ("==", a lone quote) say nothing to a text model.
    return EditTexts(title=title, inserted=tuple(filter(_wordy, inserted)), removed=tuple(filter(_wordy, removed)),
                     changed=tuple(changed), actions=counts)


def _wordy(text: str) -> bool:
    return any(c.isalnum() for c in text)
