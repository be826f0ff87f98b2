"""What every scorer returns and promises, plus the helpers they share.

A scorer turns ``(wiki, rev_id)`` into a :class:`Score`: the probability that the edit will
be reverted, and the model name and version that produced it (recorded with every
decision, so thresholds can be analysed per model version later).

Scoring errors (all :class:`automod.errors.ScoringError`)::

    ScoringError             a scorer failed (bad response, refused request, a bug upstream)
    ├── ScorerUnavailable    no answer after every retry (5xx, 429, connection errors)
    │   └── ScorerTimeout    ... and the last attempt timed out
    ├── Unscorable           the model cannot score this revision (Lift Wing 400/422);
    │                        retrying will not help, e.g. page creations
    └── UnknownModel         the model name is not one this scorer can serve
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from automod.errors import ScoringError
from automod.records import Score

__all__ = [
    "KNOWN_LIFTWING_MODELS",
    "FunctionScorer",
    "Score",
    "Scorer",
    "ScorerTimeout",
    "ScorerUnavailable",
    "Unscorable",
    "UnknownModel",
    "wiki_lang",
]

#: The revert-risk models served by Lift Wing (reference: revert-risk-models.md §1.1).
KNOWN_LIFTWING_MODELS = ("revertrisk-language-agnostic", "revertrisk-multilingual")


class ScorerUnavailable(ScoringError):
    """The scorer gave no usable answer after all retries; the edit stays unscored."""


class ScorerTimeout(ScorerUnavailable):
    """Like :class:`ScorerUnavailable`, and the last attempt ran out of time."""


class Unscorable(ScoringError):
    """The model refuses this revision (Lift Wing 400/422); never worth retrying.

    ``reason`` is the server's message; ``code`` the knowledge_integrity reason code when
    the message carries one (``parent_revision_missing``, ``revision_info_deleted``).
    """

    def __init__(self, reason: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


class UnknownModel(ScoringError):
    """The model name is not one this scorer (or the server) knows."""


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores revisions: Lift Wing, a local model, a test double."""

    def score(self, wiki: str, rev_id: int) -> Score:
        """Return the revert probability of ``rev_id`` on ``wiki`` (a db name, ``enwiki``).

        Raises :class:`automod.errors.ScoringError` (or a subclass) when there is no score.
        """
        ...

    def close(self) -> None:
        """Release connections or models; the scorer is not used afterwards."""
        ...


class FunctionScorer:
    """A :class:`Scorer` built from a plain function, for tests of the modules above it.

    ``fn(wiki, rev_id)`` returns a probability (wrapped with ``model``/``version``) or a
    whole :class:`Score`; exceptions it raises (``Unscorable``, ``ScorerUnavailable``)
    pass through unchanged, so a test can script any outcome. ``calls`` records requests.
    """

    def __init__(
        self,
        fn: Callable[[str, int], float | Score],
        *,
        model: str = "function",
        version: str | None = None,
    ) -> None:
        self.fn = fn
        self.model = model
        self.version = version
        self.calls: list[tuple[str, int]] = []
        self.closed = False

    def score(self, wiki: str, rev_id: int) -> Score:
        self.calls.append((wiki, rev_id))
        result = self.fn(wiki, rev_id)
        if isinstance(result, Score):
            return result
        return Score(probability=float(result), model=self.model, version=self.version)

    def close(self) -> None:
        self.closed = True


def wiki_lang(dbname: str) -> str:
    """Return Lift Wing's ``lang`` for a wiki db name: ``zh_min_nanwiki`` → ``zh-min-nan``.

    Strips the trailing ``wiki`` and turns underscores into hyphens (AutoModerator sends
    ``zh_min_nan`` here, which Lift Wing does not know). Raises ValueError for names that
    do not end in ``wiki`` (``enwiktionary``): the revert-risk models serve Wikipedias.
    """
    if not dbname.endswith("wiki") or len(dbname) == len("wiki"):
        raise ValueError(f"not a Wikipedia db name (expected '<lang>wiki'): {dbname!r}")
    return dbname[: -len("wiki")].replace("_", "-")
