"""What the bot writes on a wiki, in the wiki's language: MediaWiki-style message files.

``automod/onwiki/i18n/<lang>.json`` holds ``{"@metadata": {...}, "automod-notice": "…$1…", …}``
(the format translatewiki.net and MediaWiki extensions use), ``qqq.json`` documents each
message. A wiki gets its content language, then that language's fallbacks (those the wiki
declares in siteinfo, then ``pt-br`` → ``pt``), then English, key by key.

Parameters are filled in one pass, so a value (a page title, a user name: text anyone can
type) is never read as a parameter or as ``{{PLURAL:…}}``; ``{{PLURAL:$N|one|other}}`` is
expanded by the bot with the message's own language rules, because edit summaries are not
parsed by MediaWiki.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Iterable, Mapping

__all__ = ["DEFAULT_LANGUAGE", "Message", "Messages", "available_languages", "fallback_chain", "fill",
           "load_messages", "message_file", "plural_form"]

DEFAULT_LANGUAGE = "en"
_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_PARAM = re.compile(r"\$(\d+)")
_PLURAL = re.compile(r"\{\{PLURAL:\s*\$(\d+)\s*\|([^{}]*)\}\}")
#: Message files kept parsed, least recently used dropped first: a bot serving many wikis reads
#: one language and its fallbacks per wiki; each file is read again when needed (issue 29).
FILES_CACHED = 64


def message_file(language: str) -> dict[str, str]:
    """The messages of one file (``qqq`` included), without ``@metadata``; {} if absent."""
    return dict(parsed_file(language))


@lru_cache(maxsize=FILES_CACHED)
def parsed_file(language: str) -> tuple[tuple[str, str], ...]:
    if not _CODE.match(language) and language != "qqq":
        return ()
    path = resources.files(__name__).joinpath(f"{language}.json")
    if not path.is_file():
        return ()
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple((k, v) for k, v in data.items() if not k.startswith("@") and isinstance(v, str))


def available_languages() -> list[str]:
    """Codes of the shipped translations (``qqq``, the documentation, excluded)."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir()
                  if p.name.endswith(".json") and p.name != "qqq.json")


def fallback_chain(language: str, declared: Iterable[str] = ()) -> tuple[str, ...]:
    """``language``, the fallbacks the wiki declares, its parent codes (pt-br → pt), English."""
    chain: list[str] = []
    for code in (language, *declared):
        code = code.strip().lower()
        while code and _CODE.match(code):
            if code not in chain:
                chain.append(code)
            code = code.rpartition("-")[0]
    if DEFAULT_LANGUAGE not in chain:
        chain.append(DEFAULT_LANGUAGE)
    return tuple(chain)


@dataclass(frozen=True)
class Message:
    """One message text and the language it is written in (its plural rules)."""

    text: str
    language: str


def plural_form(language: str, count: int, forms: list[str]) -> str:
    """The form MediaWiki would pick for ``count`` (CLDR rules of the shipped languages)."""
    n = abs(count)
    base = language.split("-")[0]
    if base in ("fr", "pt"):
        index = 0 if n in (0, 1) else 1
    elif base == "ro":
        index = 0 if n == 1 else 1 if n == 0 or 1 <= n % 100 <= 19 else 2
    elif base in ("ru", "uk", "be"):
        index = 0 if n % 10 == 1 and n % 100 != 11 else 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2
    else:
        index = 0 if n == 1 else 1
    return forms[min(index, len(forms) - 1)]


def fill(template: str, *values: object, language: str = DEFAULT_LANGUAGE) -> str:
    """``$1``…``$N`` and ``{{PLURAL:$N|…}}`` filled in one pass over the template only."""
    def plural(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if not 1 <= index <= len(values):
            return match.group(0)
        try:
            count = int(str(values[index - 1]).replace(",", ""))
        except ValueError:
            count = 2  # not a whole number: the "other" form
        return plural_form(language, count, match.group(2).split("|"))

    def param(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return str(values[index - 1]) if 1 <= index <= len(values) else match.group(0)

    # PLURAL forms may hold $N themselves: expand them first, then substitute every $N once.
    expanded = _PLURAL.sub(plural, template)
    return _PARAM.sub(param, expanded)


@dataclass(frozen=True)
class Messages:
    """The messages one wiki gets: its language chain, with the community's overrides on top."""

    language: str
    texts: Mapping[str, Message]

    def text(self, key: str) -> str:
        return self.texts[key].text

    def format(self, key: str, *values: object) -> str:
        message = self.texts[key]
        return fill(message.text, *values, language=message.language)

    def with_overrides(self, overrides: Mapping[str, str]) -> Messages:
        """Texts the community wrote on its wiki (in its content language) win."""
        texts = dict(self.texts)
        texts.update({k: Message(v, self.language) for k, v in overrides.items() if k in texts})
        return Messages(self.language, MappingProxyType(texts))


def load_messages(language: str = DEFAULT_LANGUAGE, declared_fallbacks: Iterable[str] = ()) -> Messages:
    """Each key from the first language of the chain that has it (English has them all)."""
    chain = fallback_chain(language, declared_fallbacks)
    texts: dict[str, Message] = {}
    for code in reversed(chain):
        texts.update({k: Message(v, code) for k, v in parsed_file(code)})
    return Messages(chain[0], MappingProxyType(texts))
