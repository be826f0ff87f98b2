"""The 26 features of the language-agnostic revert-risk model, computed locally.

Names and order follow the published model (reference: revert-risk-models.md §2.2). The
wikitext counts follow Research's ``wikitext_to_features`` (§2.3) and the quality score its
``get_quality`` (§2.4). Category and media links are recognised by the wiki's *own*
namespace names and aliases (``meta=siteinfo&siprop=namespaces|namespacealiases``), never
by a language table: :class:`NamespaceNames`.

Where the published definition is unknown we chose, and these choices are part of the
feature set's contract (:data:`FEATURE_SET_VERSION`; changing one means retraining):

- ``user_groups``: the number of groups the editor holds *explicitly*, i.e. without the
  implicit ``*``, ``user``, ``autoconfirmed`` and ``temp``. Anonymous editors: 0. XML dumps
  carry no groups, so models trained from dumps see 0 for everyone.
- ``quality_range``: the quality class index of the revision (0 Stub, 1 Start, 2 C, 3 B,
  4 GA, 5 FA, cut-offs §2.4); ``quality_change_range``: that index minus the parent's.
- ``user_age``, ``page_age``: days as a float (seconds / 86400, not rounded: on a young wiki
  whole days would all be 0). ``user_age`` is -1 for anonymous editors and accounts
  without a registration date. ``page_seconds_since_previous_revision`` is in seconds.
- ``user_revision_count``: the account's edit count at the time of the edit (this edit
  included); 0 for anonymous editors. Temporary accounts count as anonymous.
- Quality maxima: the published per-wiki maxima are not available offline, so
  :class:`QualityMaxima` defaults to the published floors; training can derive a wiki's own
  maxima from its revisions (95th percentile, never below the floors).

Since ``rrla-local-2`` the 26 are followed by three editor signals (:data:`EDITOR_FEATURE_NAMES`:
vandalism warnings on the editor's talk page, the editor's recent reverted edits and recent
edits, see :class:`UserInfo`) and the content features of :mod:`content_features` (what was
inserted and removed). A value the source does not know is NaN, which the booster treats as
*missing* (its learnt default branch), never as zero.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from automod.scoring.content_features import (
    CONTENT_FEATURE_NAMES,
    EditDiff,
    WordLists,
    content_features,
    edit_diff,
    word_lists,
)

__all__ = [
    "BASE_FEATURE_NAMES",
    "EDITOR_FEATURE_NAMES",
    "FEATURE_NAMES",
    "MISSING",
    "FEATURE_SET_VERSION",
    "EditData",
    "NamespaceNames",
    "QualityMaxima",
    "RevisionInfo",
    "TextCounts",
    "UserInfo",
    "count_headings",
    "edit_content_features",
    "edit_features",
    "feature_vector",
    "user_features",
    "file_names",
    "link_targets",
    "normalise_prefix",
    "quality_class",
    "quality_score",
    "text_counts",
    "text_features",
]

#: Bumped whenever a definition below changes; recorded in every model card.
FEATURE_SET_VERSION = "rrla-local-2"

MISSING = float("nan")

BASE_FEATURE_NAMES: tuple[str, ...] = (
    "user_groups", "page_seconds_since_previous_revision", "user_revision_count", "user_age",
    "page_age", "user_is_anonymous", "revision_text_bytes", "revision_text_bytes_diff",
    "has_comment", "quality_score", "parent_quality_score", "quality_change",
    "quality_change_range", "quality_range", "text_length", "parent_text_length",
    "reference_count", "parent_reference_count", "wikilink_count", "parent_wikilink_count",
    "category_count", "parent_category_count", "media_count", "parent_media_count",
    "heading_count", "parent_heading_count",
)
EDITOR_FEATURE_NAMES: tuple[str, ...] = ("user_warnings", "user_recent_reverts", "user_recent_edits")
FEATURE_NAMES: tuple[str, ...] = BASE_FEATURE_NAMES + EDITOR_FEATURE_NAMES + CONTENT_FEATURE_NAMES

IMPLICIT_GROUPS = frozenset({"*", "user", "autoconfirmed", "temp"})
CATEGORY_NS, FILE_NS, MEDIA_NS = 14, 6, -2
#: Quality classes by upper bound (reference §2.4, ``qual_score_to_class``).
QUALITY_CLASSES = ((0.42, "Stub"), (0.56, "Start"), (0.73, "C"), (0.85, "B"), (0.93, "GA"), (1.0, "FA"))

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_REF_SELF_CLOSED = re.compile(r"<ref(\s[^/>]*)?/>", re.IGNORECASE)
_REF_PAIRED = re.compile(r"<ref(\s[^/>]*)?>[\s\S]*?</ref>", re.IGNORECASE)
_HEADING = re.compile(r"(={2,})(.*?)(={2,})")
# The published filename pattern is ([\w ',().-]+)(\.jpg|...)\b. Run as one regex it
# backtracks quadratically over long prose. Its matches are: in each run of name characters,
# one match from the run's start to the end of the run's *last* extension. We find the
# extensions first and walk back to the run's start (see file_names), in linear time.
EXTENSIONS = ("jpg", "png", "svg", "gif", "jpeg", "tif", "bmp", "webp", "xcf", "ogv", "webm", "mpg", "mpeg", "ogg",
              "mp3", "mid", "flac", "wav", "oga")
# Case-blind by ASCII classes, not re.IGNORECASE (which would also take e.g. "ſ" for "s").
_EXTENSION = re.compile(r"\.(?:" + "|".join("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in ext)
                                            for ext in EXTENSIONS) + r")\b")
_NOT_NAME_CHAR = re.compile(r"[^\w ',().-]")
MAX_FILENAME_STEM = 240


def normalise_prefix(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).lower()


@dataclass(frozen=True)
class NamespaceNames:
    """Lower-cased link prefixes that make a ``[[…]]`` link a category or a media file.

    :meth:`from_siteinfo` reads a wiki's local names, canonical names and aliases. The
    default holds only MediaWiki's canonical names (``Category``, ``File``, ``Image``,
    ``Media``), which every wiki accepts whatever its language.
    """

    category: frozenset[str] = frozenset({"category"})
    media: frozenset[str] = frozenset({"file", "image", "media"})

    @classmethod
    def from_siteinfo(cls, query: Mapping[str, Any]) -> NamespaceNames:
        """From the ``query`` part of a siteinfo answer (formatversion 1 or 2)."""
        namespaces = query.get("namespaces") or {}
        names: dict[int, set[str]] = {CATEGORY_NS: {"category"}, FILE_NS: {"file", "image"}, MEDIA_NS: {"media"}}
        for key, ns in namespaces.items():
            ns_id = int(ns.get("id", key))
            if ns_id in names:
                for name in (ns.get("name"), ns.get("*"), ns.get("canonical")):
                    if name:
                        names[ns_id].add(normalise_prefix(name))
        for alias in query.get("namespacealiases") or []:
            ns_id = int(alias.get("id", 0))
            text = alias.get("alias") or alias.get("*")
            if ns_id in names and text:
                names[ns_id].add(normalise_prefix(text))
        return cls(category=frozenset(names[CATEGORY_NS]), media=frozenset(names[FILE_NS] | names[MEDIA_NS]))

    @classmethod
    def from_names(cls, category: Iterable[str] = (), media: Iterable[str] = ()) -> NamespaceNames:
        """Canonical names plus the given ones (e.g. the namespace names in an XML dump)."""
        base = cls()
        return cls(category=base.category | {normalise_prefix(n) for n in category if n},
                   media=base.media | {normalise_prefix(n) for n in media if n})


@dataclass(frozen=True)
class TextCounts:
    """What one revision's wikitext contributes (reference §2.3)."""

    text_length: int = 0
    reference_count: int = 0
    heading_count: int = 0
    wikilink_count: int = 0
    category_count: int = 0
    media_count: int = 0


def _run_start(text: str, end: int) -> int | None:
    """Start of the run of name characters ending at ``end``; None if longer than allowed."""
    low = max(0, end - MAX_FILENAME_STEM - 1)
    for i in range(end - 1, low - 1, -1):
        c = text[i]
        if not (c.isalnum() or c in "_ ',().-"):
            return i + 1
    return low if low == 0 else None


def file_names(text: str) -> set[str]:
    found: set[str] = set()
    extensions = list(_EXTENSION.finditer(text))
    for i, ext in enumerate(extensions):
        following = extensions[i + 1] if i + 1 < len(extensions) else None
        if following is not None and not _NOT_NAME_CHAR.search(text, ext.end(), following.start()):
            continue  # not the last extension of its run
        start = _run_start(text, ext.start())
        if start is not None and start < ext.start():
            found.add(text[start:ext.end()].strip().lower())
    return found


def link_targets(text: str) -> list[str]:
    """Targets of ``(?<=\\[\\[)(.*?)(?=]])`` matches (DOTALL), without the regex's per-position scan."""
    targets: list[str] = []
    pos = 0
    while True:
        opening = text.find("[[", pos)
        if opening < 0:
            return targets
        start = opening + 2
        end = text.find("]]", start)
        if end < 0:
            return targets
        if end == start:  # "[[]]": an empty match, then Python retries for a non-empty one there
            targets.append("")
            end = text.find("]]", start + 1)
            if end < 0:
                return targets
        targets.append(text[start:end].split("|", 1)[0])
        pos = end - 2


def count_headings(text: str) -> int:
    """H2 and H3 matches of ``(={2,})(.*?)(={2,})``; ``.`` stops at newlines, so by line."""
    return sum(1 for line in text.split("\n") if "==" in line
               for m in _HEADING.finditer(line) if len(m.group(1)) <= 3)


def text_counts(wikitext: str, names: NamespaceNames = NamespaceNames()) -> TextCounts:
    """Return the counts of ``wikitext`` per the published rules (reference §2.3).

    Comments are removed and the text lower-cased first; references are ``<ref …/>`` plus
    ``<ref …>…</ref>``; headings are ``==…==`` runs of two or three ``=``; every ``[[…]]``
    is a wikilink unless its prefix names the category or file/media namespace; media are
    the distinct bracketed files together with bare file names (infobox and gallery images).
    """
    text = _COMMENT.sub("", wikitext) if "<!--" in wikitext else wikitext
    if "\u0130" in text:
        # Lower-casing first is the published order. Every step below is case-blind, so we
        # skip it (it is a third of the time) unless the text holds "İ", the one character
        # whose lower case is two characters long, which changes lengths and runs.
        text = text.lower()
    refs = len(_REF_SELF_CLOSED.findall(text)) + len(_REF_PAIRED.findall(text))
    headings = count_headings(text)
    links = link_targets(text)
    categories = 0
    media: list[str] = []
    for link in links:
        prefix, sep, rest = link.partition(":")
        if not sep:
            continue
        prefix = normalise_prefix(prefix)
        if prefix in names.category:
            categories += 1
        elif prefix in names.media:
            media.append(rest.strip().lower())
    return TextCounts(
        text_length=len(text), reference_count=refs, heading_count=headings,
        wikilink_count=len(links) - categories - len(media), category_count=categories,
        media_count=len(set(media) | file_names(text)),
    )


@dataclass(frozen=True)
class QualityMaxima:
    """Per-wiki maxima of the quality inputs; the defaults are the published floors."""

    length: float = 100.0      # sqrt(characters)
    media: float = 2.0
    categories: float = 5.0
    headings: float = 0.1      # headings / sqrt(characters)
    refs: float = 0.15         # refs / sqrt(characters)
    wikilinks: float = 0.1     # sqrt(links) / sqrt(characters)

    @classmethod
    def from_counts(cls, counts: Sequence[TextCounts]) -> QualityMaxima:
        """A wiki's own maxima: the 95th percentile of each input, never below the floors."""
        floors = cls()
        sized = [c for c in counts if c.text_length > 0]
        if len(sized) < 20:
            return floors

        def p95(values: list[float], floor: float) -> float:
            return max(floor, statistics.quantiles(values, n=20, method="inclusive")[-1])

        roots = [math.sqrt(c.text_length) for c in sized]
        return cls(
            length=p95(roots, floors.length),
            media=p95([float(c.media_count) for c in sized], floors.media),
            categories=p95([float(c.category_count) for c in sized], floors.categories),
            headings=p95([c.heading_count / r for c, r in zip(sized, roots)], floors.headings),
            refs=p95([c.reference_count / r for c, r in zip(sized, roots)], floors.refs),
            wikilinks=p95([math.sqrt(c.wikilink_count) / r for c, r in zip(sized, roots)], floors.wikilinks),
        )

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def quality_score(counts: TextCounts, maxima: QualityMaxima = QualityMaxima()) -> float:
    """Return the article quality in [0, 1]: the published weighted sum (reference §2.4)."""
    if counts.text_length <= 0:
        return 0.0
    root = math.sqrt(counts.text_length)
    return (0.395 * min(1.0, root / maxima.length)
            + 0.114 * min(1.0, counts.media_count / maxima.media)
            + 0.123 * min(1.0, (counts.heading_count / root) / maxima.headings)
            + 0.181 * min(1.0, (counts.reference_count / root) / maxima.refs)
            + 0.115 * min(1.0, (math.sqrt(counts.wikilink_count) / root) / maxima.wikilinks)
            + 0.070 * min(1.0, counts.category_count / maxima.categories))


def quality_class(score: float) -> int:
    """Return the class index of a quality score: 0 Stub … 5 FA."""
    for index, (bound, _name) in enumerate(QUALITY_CLASSES):
        if score <= bound:
            return index
    return len(QUALITY_CLASSES) - 1


def text_features(new: TextCounts, old: TextCounts, maxima: QualityMaxima = QualityMaxima()) -> dict[str, float]:
    """The 17 features that depend only on the two wikitexts (``automod features``)."""
    q_new, q_old = quality_score(new, maxima), quality_score(old, maxima)
    return {
        "quality_score": q_new, "parent_quality_score": q_old, "quality_change": q_new - q_old,
        "quality_change_range": float(quality_class(q_new) - quality_class(q_old)),
        "quality_range": float(quality_class(q_new)),
        "text_length": float(new.text_length), "parent_text_length": float(old.text_length),
        "reference_count": float(new.reference_count), "parent_reference_count": float(old.reference_count),
        "wikilink_count": float(new.wikilink_count), "parent_wikilink_count": float(old.wikilink_count),
        "category_count": float(new.category_count), "parent_category_count": float(old.category_count),
        "media_count": float(new.media_count), "parent_media_count": float(old.media_count),
        "heading_count": float(new.heading_count), "parent_heading_count": float(old.heading_count),
    }


@dataclass(frozen=True)
class RevisionInfo:
    """One revision as the features see it (``bytes`` is MediaWiki's size, in bytes)."""

    rev_id: int
    timestamp: datetime
    bytes: int
    text: str = ""
    comment: str = ""
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UserInfo:
    """The editor: by name; ``edit_count`` at the time of the edit (None: unknown).

    The signals are None when unknown (missing to the model): ``warnings`` counts vandalism
    warning templates on the editor's talk page in the last 30 days, ``recent_reverts`` the
    editor's edits reverted in the last 7 days, ``recent_edits`` their edits in the last
    10 minutes (this one excluded).
    """

    name: str
    anonymous: bool
    edit_count: int | None = 0
    registration: datetime | None = None
    groups: frozenset[str] | None = field(default_factory=frozenset)
    warnings: int | None = None
    recent_reverts: int | None = None
    recent_edits: int | None = None

    @property
    def explicit_groups(self) -> int:
        return 0 if self.anonymous else len((self.groups or frozenset()) - IMPLICIT_GROUPS)


@dataclass(frozen=True)
class EditData:
    """Everything the 26 features (and the multilingual model) need about one edit."""

    revision: RevisionInfo
    parent: RevisionInfo
    user: UserInfo
    page_created: datetime
    title: str = ""
    #: The wiki's content language: which word lists the content features use.
    lang: str = "en"


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400.0


def _optional(value: int | None) -> float:
    return MISSING if value is None else float(value)


def user_features(user: UserInfo, when: datetime) -> dict[str, float]:
    """The editor's features at ``when`` (the 26's user part plus the editor signals)."""
    user_age = -1.0
    if not user.anonymous and user.registration is not None:
        user_age = _days(when, user.registration)
    return {
        "user_groups": 0.0 if user.anonymous else _optional(None if user.groups is None else user.explicit_groups),
        "user_revision_count": 0.0 if user.anonymous else _optional(user.edit_count),
        "user_age": user_age,
        "user_is_anonymous": 1.0 if user.anonymous else 0.0,
        "user_warnings": _optional(user.warnings),
        "user_recent_reverts": _optional(user.recent_reverts),
        "user_recent_edits": _optional(user.recent_edits),
    }


def edit_content_features(edit: EditData, lists: WordLists | None = None) -> dict[str, float]:
    """Content features of an edit whose two full texts are in ``edit`` (the live bot's case)."""
    diff: EditDiff = edit_diff(edit.parent.text, edit.revision.text)
    return content_features(diff, lists or word_lists(edit.lang), edit.revision.comment)


def edit_features(edit: EditData, counts: TextCounts, parent_counts: TextCounts,
                  maxima: QualityMaxima = QualityMaxima(),
                  content: Mapping[str, float] | None = None) -> dict[str, float]:
    """Return every feature by name, given the two revisions' precomputed text counts.

    ``content``: the edit's content features when already computed (training keeps them
    instead of the texts); else they are computed from the texts in ``edit``.
    """
    rev, parent = edit.revision, edit.parent
    meta = {
        **user_features(edit.user, rev.timestamp),
        "page_seconds_since_previous_revision": (rev.timestamp - parent.timestamp).total_seconds(),
        "page_age": _days(rev.timestamp, edit.page_created),
        "revision_text_bytes": float(rev.bytes),
        "revision_text_bytes_diff": float(rev.bytes - parent.bytes),
        "has_comment": 1.0 if rev.comment else 0.0,
    }
    merged = {**meta, **text_features(counts, parent_counts, maxima),
              **(content if content is not None else edit_content_features(edit))}
    return {name: merged[name] for name in FEATURE_NAMES}


def feature_vector(features: Mapping[str, float]) -> list[float]:
    """The features in :data:`FEATURE_NAMES` order (the model's column order)."""
    return [float(features[name]) for name in FEATURE_NAMES]
