"""What both kinds of local model do with their directory: read the card, check the files.

A model directory is trusted only as far as its card: every file the model loads has its
SHA-256 in ``model_card.json``, so a truncated copy or a replaced file is refused before
anything is parsed (and nothing is ever unpickled).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from automod.errors import ScoringError
from automod.scoring.base import UnknownModel

__all__ = ["CARD_FILE", "CorruptModel", "read_card", "sha256_path", "verify_sha256"]

CARD_FILE = "model_card.json"
Card = TypeVar("Card")


class CorruptModel(ScoringError):
    """The model directory exists but its files cannot be trusted or read."""


def sha256_path(path: Path) -> str:
    """SHA-256 of a file, or of every file below a directory (names and contents, sorted)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_card(model_dir: Path, parse: Callable[[Any], Card], what: str) -> Card:
    """``parse`` applied to ``model_dir/model_card.json``.

    Raises UnknownModel when there is no card (``what`` names the model kind and how to get
    one), CorruptModel when it cannot be read or ``parse`` rejects it.
    """
    card_path = Path(model_dir) / CARD_FILE
    if not card_path.is_file():
        raise UnknownModel(f"no {what} in {model_dir} (missing {CARD_FILE})")
    try:
        return parse(json.loads(card_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptModel(f"model card {card_path} is unreadable: {exc}") from exc


def verify_sha256(path: Path, expected: str | None, model_id: str) -> None:
    """Raise CorruptModel unless ``path`` exists and hashes to ``expected``."""
    if not path.exists():
        raise CorruptModel(f"model {model_id}: {path} is missing")
    try:
        actual = sha256_path(path)
    except OSError as exc:
        raise CorruptModel(f"model {model_id}: {path} is unreadable: {exc}") from exc
    if actual != expected:
        raise CorruptModel(f"model {model_id}: {path} does not match its card (SHA-256 {actual[:12]}…, card says "
                           f"{str(expected)[:12]}…): corrupt or replaced")
