"""What was written: features of the text an edit inserted and removed.

The 26 structural counts cannot see insults, shouting, keyboard mashing or nonsense; these
can. They are computed from the inserted and removed text only (:func:`edit_diff` finds
them in two full page texts; labelled-edit files may give them directly, ``text_kind=diff``),
so a 100 KB page costs little more than the size of the change.

Language-aware where a maintained resource ships in a wheel (nothing is downloaded):

- word frequencies: the ``wordfreq`` package (42 languages; its ``large`` list where it has
  one, else ``small``). A word it does not know is a "non-word" (mashing, misspellings,
  invented names). A language it lacks gives *missing* values, not zeros.
- profanity: ``better-profanity``'s English list (the only maintained list shipped in a
  wheel we found); other languages get missing values.

Everything else (capitals, repeated characters, laughter, links, markup balance) is the
same in every alphabetic language.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["CONTENT_FEATURE_NAMES", "EditDiff", "WordLists", "content_features", "edit_diff", "word_lists"]

MISSING = float("nan")

CONTENT_FEATURE_NAMES: tuple[str, ...] = (
    "inserted_chars", "removed_chars", "inserted_words", "removed_words",
    "inserted_upper_share", "inserted_caps_word_share", "inserted_longest_char_run", "inserted_symbol_share",
    "inserted_digit_share", "inserted_repeated_word_share", "inserted_longest_word",
    "inserted_nonword_share", "inserted_mean_zipf", "removed_nonword_share",
    "inserted_profanity", "removed_profanity", "inserted_laughter",
    "inserted_external_links", "removed_external_links", "inserted_markup_share",
    "inserted_words_seen_before", "change_position", "removed_share", "markup_unbalanced_change",
    "comment_length",
)

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_TOKEN = re.compile(r"\S+")
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
# Laughter and chat words that are the same across Latin-script Wikipedias.
_LAUGHTER = re.compile(r"(?:ha){2,}h?|(?:he){2,}|(?:hi){3,}|(?:ja){3,}|(?:ke){3,}|lo+l+|lmf?ao+|rofl|xd+|omg+|wtf|"
                       r"k{4,}|a?ha{3,}|:-?[)(dp]", re.IGNORECASE)
_MARKUP = set("[]{}<>|=*#'")
#: Above this many tokens on both sides, the changed region is diffed by lines first.
WORD_DIFF_LIMIT = 3000


@dataclass(frozen=True)
class EditDiff:
    """The inserted and removed text of one edit; ``position`` and ``parent_length`` only
    when the full texts were seen (a diff-only source does not know them)."""

    inserted: str
    removed: str
    position: float | None = None
    parent_length: int | None = None
    markup_unbalanced_change: float | None = None


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by halving slices (compared in C, not char by char)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[low:mid] == b[low:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        mid = (low + high + 1) // 2
        if a[len(a) - mid:len(a) - low] == b[len(b) - mid:len(b) - low]:
            low = mid
        else:
            high = mid - 1
    return low


def _unbalanced(text: str) -> int:
    return abs(text.count("[[") - text.count("]]")) + abs(text.count("{{") - text.count("}}"))


def _diff_tokens(old: list[str], new: list[str], inserted: list[str], removed: list[str]) -> None:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            removed.extend(old[i1:i2])
            inserted.extend(new[j1:j2])


def edit_diff(old: str, new: str) -> EditDiff:
    """The words ``new`` inserted and the words it removed, relative to ``old``.

    Common prefix and suffix are cut first (snapped to whitespace), so the cost follows the
    size of the change; a large changed region is diffed by lines, then by words within them.
    """
    prefix = _common_prefix(old, new)
    while prefix and not old[prefix - 1].isspace():
        prefix -= 1
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    while suffix and not old[len(old) - suffix].isspace():
        suffix -= 1
    old_mid, new_mid = old[prefix:len(old) - suffix], new[prefix:len(new) - suffix]
    inserted: list[str] = []
    removed: list[str] = []
    old_tokens, new_tokens = _TOKEN.findall(old_mid), _TOKEN.findall(new_mid)
    if not old_tokens or not new_tokens:
        inserted, removed = new_tokens, old_tokens
    elif len(old_tokens) <= WORD_DIFF_LIMIT or len(new_tokens) <= WORD_DIFF_LIMIT:
        _diff_tokens(old_tokens, new_tokens, inserted, removed)
    else:
        old_lines, new_lines = old_mid.splitlines(), new_mid.splitlines()
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            o, n = _TOKEN.findall("\n".join(old_lines[i1:i2])), _TOKEN.findall("\n".join(new_lines[j1:j2]))
            if o and n and len(o) <= WORD_DIFF_LIMIT and len(n) <= WORD_DIFF_LIMIT:
                _diff_tokens(o, n, inserted, removed)
            else:
                inserted.extend(n)
                removed.extend(o)
    balance = float(_unbalanced(new_mid) - _unbalanced(old_mid))
    return EditDiff(inserted=" ".join(inserted), removed=" ".join(removed),
                    position=prefix / len(old) if old else 0.0, parent_length=len(old),
                    markup_unbalanced_change=balance)


@dataclass(frozen=True)
class WordLists:
    """One language's word frequencies (zipf, by lower-cased word) and profanity list;
    None where no maintained resource exists for the language."""

    lang: str
    zipf: Mapping[str, float] | None
    profanity: frozenset[str] | None


@lru_cache(maxsize=8)
def word_lists(lang: str) -> WordLists:
    """The word lists of ``lang`` (loaded once per process; about 40 MB for English)."""
    zipf: dict[str, float] | None = None
    try:
        import wordfreq

        code = lang.split("-")[0].lower()
        size = "large" if code in wordfreq.available_languages("large") else "small"
        if code in wordfreq.available_languages(size):
            zipf = {w: math.log10(f * 1e9) for w, f in wordfreq.get_frequency_dict(code, wordlist=size).items()}
    except ImportError:
        zipf = None
    return WordLists(lang=lang, zipf=zipf, profanity=_profanity(lang))


def _profanity(lang: str) -> frozenset[str] | None:
    if lang.split("-")[0].lower() != "en":
        return None
    try:
        import better_profanity
    except ImportError:
        return None
    path = Path(better_profanity.__file__).with_name("profanity_wordlist.txt")
    # One entry a line; multi-word entries ("2 girls 1 cup") are left out: we match words.
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and " " not in line.strip())


def _longest_run(text: str) -> int:
    best = run = 0
    previous = ""
    for c in text:
        run = run + 1 if c == previous else 1
        previous = c
        if run > best:
            best = run
    return best


def _share(part: float, whole: float) -> float:
    return part / whole if whole else MISSING


def content_features(diff: EditDiff, lists: WordLists, comment: str | None = None) -> dict[str, float]:
    """The :data:`CONTENT_FEATURE_NAMES` of one edit (NaN where a value is unknown)."""
    ins, rem = diff.inserted, diff.removed
    ins_words, rem_words = _WORD.findall(ins), _WORD.findall(rem)
    ins_lower = [w.lower() for w in ins_words]
    rem_lower = [w.lower() for w in rem_words]
    letters = sum(len(w) for w in ins_words)
    visible = sum(1 for c in ins if not c.isspace())
    uppers = sum(1 for c in ins if c.isupper())
    counts = Counter(ins_lower)
    removed_set = set(rem_lower)
    features = {
        "inserted_chars": float(len(ins)), "removed_chars": float(len(rem)),
        "inserted_words": float(len(ins_words)), "removed_words": float(len(rem_words)),
        "inserted_upper_share": _share(uppers, letters),
        "inserted_caps_word_share": _share(sum(1 for w in ins_words if len(w) > 1 and w.isupper()), len(ins_words)),
        "inserted_longest_char_run": float(_longest_run(ins)),
        "inserted_symbol_share": _share(sum(1 for c in ins if not c.isalnum() and not c.isspace()), visible),
        "inserted_digit_share": _share(sum(1 for c in ins if c.isdigit()), visible),
        "inserted_repeated_word_share": _share(len(ins_lower) - len(counts), len(ins_lower)),
        "inserted_longest_word": float(max((len(w) for w in ins_words), default=0)),
        "inserted_nonword_share": MISSING, "inserted_mean_zipf": MISSING, "removed_nonword_share": MISSING,
        "inserted_profanity": MISSING, "removed_profanity": MISSING,
        "inserted_laughter": float(sum(1 for w in ins_lower if _LAUGHTER.fullmatch(w))),
        "inserted_external_links": float(len(_LINK.findall(ins))),
        "removed_external_links": float(len(_LINK.findall(rem))),
        "inserted_markup_share": _share(sum(1 for c in ins if c in _MARKUP), visible),
        "inserted_words_seen_before": _share(sum(1 for w in ins_lower if w in removed_set), len(ins_lower)),
        "change_position": MISSING if diff.position is None else diff.position,
        "removed_share": MISSING if not diff.parent_length else len(rem) / diff.parent_length,
        "markup_unbalanced_change": (MISSING if diff.markup_unbalanced_change is None
                                     else diff.markup_unbalanced_change),
        "comment_length": MISSING if comment is None else float(len(comment)),
    }
    if lists.zipf is not None:
        zipf = lists.zipf
        ins_zipf = [zipf.get(w, 0.0) for w in ins_lower]
        features["inserted_nonword_share"] = _share(sum(1 for z in ins_zipf if z == 0.0), len(ins_zipf))
        features["inserted_mean_zipf"] = sum(ins_zipf) / len(ins_zipf) if ins_zipf else MISSING
        features["removed_nonword_share"] = _share(sum(1 for w in rem_lower if w not in zipf), len(rem_lower))
    if lists.profanity is not None:
        features["inserted_profanity"] = float(sum(1 for w in ins_lower if w in lists.profanity))
        features["removed_profanity"] = float(sum(1 for w in rem_lower if w in lists.profanity))
    return features
